import type { QuotaLimiter, QuotaResult } from '@topicdesk/fanout';
import type { Logger } from '@topicdesk/telemetry';

/**
 * Runs `work` on a unit of quota already taken (`hit` allowed it) and gives the unit back when
 * `work` throws or says nothing was done (`counted` false: a duplicate), so only what was
 * actually stored counts. The unit is taken before the work, not after, so that concurrent
 * requests on several replicas cannot all pass the check; the refund names that exact unit.
 * A refund that fails (Redis away) is logged: the unit then frees itself with the window.
 */
export async function spendQuota<T>(
  quotas: QuotaLimiter,
  key: string,
  quota: QuotaResult,
  logger: Pick<Logger, 'warn'>,
  work: () => Promise<T>,
  counted: (result: T) => boolean = () => true,
): Promise<T> {
  let result: T;
  try {
    result = await work();
  } catch (error) {
    await refund(quotas, key, quota, logger);
    throw error;
  }
  if (!counted(result)) await refund(quotas, key, quota, logger);
  return result;
}

/** Gives back the unit an allowed `quota` took (logged, not thrown, when it cannot). */
export async function refund(
  quotas: QuotaLimiter,
  key: string,
  quota: QuotaResult,
  logger: Pick<Logger, 'warn'>,
): Promise<void> {
  if (quota.use === undefined) return;
  try {
    await quotas.refund(key, quota.use);
  } catch (error) {
    logger.warn({ err: error, quotaKey: key }, 'could not give back a unit of quota');
  }
}
