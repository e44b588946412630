import type { TenantConfig } from '@topicdesk/core';
import { tenantKey, type QuotaLimiter, type QuotaResult } from '@topicdesk/fanout';
import type { Logger } from '@topicdesk/telemetry';
import { ErrorCode, GatewayError } from './errors';
import { spendQuota } from './quota';

/** The plan limits the gateway enforces per tenant, across replicas (docs/errors.md). */
export const TenantLimit = {
  conversationsPerDay: 'conversationsPerDay',
  messagesPerHour: 'messagesPerHour',
  concurrentSockets: 'concurrentSockets',
  attachmentsPerHour: 'attachmentsPerHour',
  attachmentMaxBytes: 'attachmentMaxBytes',
} as const;
export type TenantLimit = (typeof TenantLimit)[keyof typeof TenantLimit];

/** The limits counted in a sliding window, and their windows. */
export const TENANT_WINDOWS = {
  conversationsPerDay: 86_400_000,
  messagesPerHour: 3_600_000,
  attachmentsPerHour: 3_600_000,
} as const satisfies Partial<Record<TenantLimit, number>>;
export type WindowedLimit = keyof typeof TENANT_WINDOWS;

/** A unit of a tenant's windowed limit, taken before the work it pays for. */
export interface TakenUnit {
  key: string;
  quota: QuotaResult;
}

/** A refusal as the fields of an `error` frame. */
export interface TenantQuotaRefusal {
  code: typeof ErrorCode.TENANT_QUOTA_EXCEEDED;
  message: string;
  limit: TenantLimit;
  retryAfterMs?: number;
}

/** The Redis key of a tenant's windowed limit (its own window per tenant: `tenantKey`). */
export function tenantQuotaKey(tenantId: string, limit: WindowedLimit): string {
  return tenantKey(tenantId, `plan:${limit}`);
}

/** The refusal of a tenant's limit: 429 TENANT_QUOTA_EXCEEDED naming the limit. */
export function tenantQuotaExceeded(
  limit: TenantLimit,
  max: number,
  retryAfterMs?: number,
): GatewayError {
  return new GatewayError(
    ErrorCode.TENANT_QUOTA_EXCEEDED,
    `this site's plan allows ${max} (${limit}); try again later`,
    { limit, max, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) },
  );
}

/**
 * A tenant's plan limits over the shared quota windows: every replica counts in the same window,
 * so a tenant gets its limit once, not once per replica. A tenant without a limit is not counted
 * (no Redis call): only the deployment's own limits (LIMIT_…) apply to it.
 */
export class TenantQuotas {
  constructor(
    private readonly deps: {
      quotas: QuotaLimiter;
      /** The tenant's limits (cached per replica, hot-reloaded). */
      limitsOf: (tenantId: string) => Promise<TenantConfig['limits']>;
      onRefused?: (limit: TenantLimit) => void;
    },
  ) {}

  /**
   * Takes one unit of the tenant's `limit`; throws TENANT_QUOTA_EXCEEDED when its window is full.
   * Undefined when the tenant has no such limit.
   */
  async take(tenantId: string, limit: WindowedLimit): Promise<TakenUnit | undefined> {
    const max = (await this.deps.limitsOf(tenantId))[limit];
    if (max === undefined) return undefined;
    const key = tenantQuotaKey(tenantId, limit);
    const quota = await this.deps.quotas.hit(key, max, TENANT_WINDOWS[limit]);
    if (!quota.allowed) {
      this.deps.onRefused?.(limit);
      throw tenantQuotaExceeded(limit, max, quota.retryAfterMs);
    }
    return { key, quota };
  }

  /**
   * A visitor's file against the plan's `attachmentMaxBytes` (the deployment's own limit applies
   * after it); throws TENANT_QUOTA_EXCEEDED for a larger file.
   */
  async fileSize(tenantId: string, size: number): Promise<void> {
    const max = (await this.deps.limitsOf(tenantId)).attachmentMaxBytes;
    if (max === undefined || size <= max) return;
    this.deps.onRefused?.(TenantLimit.attachmentMaxBytes);
    throw tenantQuotaExceeded(TenantLimit.attachmentMaxBytes, max);
  }

  /**
   * As `take`, but a full window is an answer, not an error: the `error` frame fields of the
   * refusal (a socket tells its client and stays open).
   */
  async attempt(
    tenantId: string,
    limit: WindowedLimit,
  ): Promise<{ taken?: TakenUnit; refused?: TenantQuotaRefusal }> {
    try {
      const taken = await this.take(tenantId, limit);
      return taken ? { taken } : {};
    } catch (error) {
      if (!(error instanceof GatewayError) || error.code !== ErrorCode.TENANT_QUOTA_EXCEEDED)
        throw error;
      const retryAfterMs = error.details?.['retryAfterMs'];
      return {
        refused: {
          code: ErrorCode.TENANT_QUOTA_EXCEEDED,
          message: error.message,
          limit,
          ...(typeof retryAfterMs === 'number' ? { retryAfterMs } : {}),
        },
      };
    }
  }

  /** Runs `work` on a taken unit (if any), giving it back when the work fails or did nothing. */
  spend<T>(
    taken: TakenUnit | undefined,
    logger: Pick<Logger, 'warn'>,
    work: () => Promise<T>,
    counted?: (result: T) => boolean,
  ): Promise<T> {
    if (!taken) return work();
    return spendQuota(this.deps.quotas, taken.key, taken.quota, logger, work, counted);
  }
}
