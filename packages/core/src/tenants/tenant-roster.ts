import { DEFAULT_TENANT_ID } from '@topicdesk/data';
import type { Logger } from '@topicdesk/telemetry';
import type { TenantDirectory } from './tenant-directory';

/**
 * What passes over every tenant (the scheduler's assignment and SLA escalation) need to know of
 * one: whether it is served, and its default support group. The passes find the tenants with
 * work in their own cheap queries (each row names its tenant) and ask the roster about those.
 */
export interface TenantRoster {
  /** Whether the tenant is served (status `active`): a suspended or deleted one is skipped. */
  served(tenantId: string): Promise<boolean>;
  /**
   * Where its conversations without a group of their own live: the environment's
   * SUPPORT_GROUP_ID for the default tenant, the first of its bundle's `supportGroups` for the
   * others; undefined when none is known (or the bundle cannot be opened, which is logged).
   */
  defaultGroupOf(tenantId: string): Promise<number | undefined>;
}

/**
 * The roster of a replica's tenant directory (cached, hot-reloaded). The default tenant keeps
 * its environment (`envDefaultGroupId`) and needs no row of its own to be served.
 */
export function directoryRoster(options: {
  directory: Pick<TenantDirectory, 'get'>;
  envDefaultGroupId: number | undefined;
  logger: Logger;
}): TenantRoster {
  const { directory, envDefaultGroupId, logger } = options;
  return {
    async served(tenantId) {
      const tenant = await directory.get(tenantId);
      if (!tenant) return tenantId === DEFAULT_TENANT_ID;
      return tenant.status === 'active';
    },
    async defaultGroupOf(tenantId) {
      if (tenantId === DEFAULT_TENANT_ID) return envDefaultGroupId;
      const tenant = await directory.get(tenantId);
      if (!tenant) return undefined;
      try {
        const first = tenant.secrets().supportGroups?.[0];
        const id = first === undefined ? Number.NaN : Number(first);
        return Number.isSafeInteger(id) ? id : undefined;
      } catch (error) {
        logger.warn({ err: error, tenantId }, "the tenant's secrets could not be opened");
        return undefined;
      }
    },
  };
}
