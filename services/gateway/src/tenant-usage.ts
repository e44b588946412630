import { Permission, type TenantConfig } from '@topicdesk/core';
import type { QuotaLimiter } from '@topicdesk/fanout';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { adminRoute, principalOf } from './admin-access';
import { instant, int, shape } from './answer-components';
import { TENANT_WINDOWS, tenantQuotaKey, type WindowedLimit } from './tenant-quotas';
import type { TenantSockets } from './tenant-sockets';

/**
 * A tenant's usage against its plan (GET /v1/platform/tenants/:id/usage, GET /v1/admin/usage).
 * The windowed figures are the plan's own windows, counted across replicas only for a limit the
 * tenant has (a null figure: not counted, no such limit; a high limit counts without refusing);
 * open sockets are counted for every tenant.
 */
export const tenantUsageAnswer = shape(
  'TenantUsage',
  z.strictObject({
    tenantId: z.string(),
    window: z.strictObject({
      /** When the figures were read. */
      at: instant,
      /** conversationsToday: the last 24 hours (a sliding window, as the limit counts). */
      conversations: z.literal('PT24H'),
      /** messagesThisHour: visitor messages stored in the last hour. */
      messages: z.literal('PT1H'),
    }),
    conversationsToday: int.min(0).nullable(),
    messagesThisHour: int.min(0).nullable(),
    openSockets: int.min(0),
    limits: z.record(z.string(), int),
  }),
);
export type TenantUsage = z.infer<typeof tenantUsageAnswer>;

/** Reads tenants' usage from the shared windows and socket leases. */
export class TenantUsageReader {
  constructor(
    private readonly deps: {
      quotas: QuotaLimiter;
      sockets: TenantSockets;
      /** The tenant (cached, hot-reloaded), undefined when there is none. */
      tenant: (tenantId: string) => Promise<TenantConfig | undefined>;
    },
  ) {}

  /** Undefined when there is no such tenant. */
  async usage(tenantId: string): Promise<TenantUsage | undefined> {
    const tenant = await this.deps.tenant(tenantId);
    if (!tenant) return undefined;
    const counted = (limit: WindowedLimit) =>
      tenant.limits[limit] === undefined
        ? Promise.resolve(null)
        : this.deps.quotas.used(tenantQuotaKey(tenantId, limit), TENANT_WINDOWS[limit]);
    const [conversationsToday, messagesThisHour, openSockets] = await Promise.all([
      counted('conversationsPerDay'),
      counted('messagesPerHour'),
      this.deps.sockets.count(tenantId),
    ]);
    return {
      tenantId,
      window: { at: new Date().toISOString(), conversations: 'PT24H', messages: 'PT1H' },
      conversationsToday,
      messagesThisHour,
      openSockets,
      limits: { ...tenant.limits },
    };
  }
}

/** `GET /v1/admin/usage`: the caller's own tenant's usage. */
export const adminUsageRoutes: FastifyPluginAsync<{ usage: TenantUsageReader }> = async (
  app,
  options,
) => {
  app.get(
    '/v1/admin/usage',
    adminRoute(Permission.reportsRead, "Your site's usage against its plan's limits", {
      answers: { 200: tenantUsageAnswer },
    }),
    async (request) => {
      const { tenantId } = principalOf(request);
      const usage = await options.usage.usage(tenantId);
      if (!usage) throw new Error(`the principal's tenant "${tenantId}" does not exist`);
      return usage;
    },
  );
};
