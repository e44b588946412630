import {
  DEFAULT_REMIND_AT_PERCENT,
  Permission,
  type SlaSettings,
  type SlaSettingsService,
} from '@topicdesk/core';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { adminRoute, principalOf } from './admin-access';
import { parse } from './validation';
import { slaSettingsAnswer } from './answers';

export interface SlaRoutesOptions {
  sla: SlaSettingsService;
}

/** Longest target: 90 days, in seconds. */
const MAX_TARGET_SECONDS = 90 * 86_400;

const seconds = z.number().int().min(1).max(MAX_TARGET_SECONDS).nullable().default(null);
const targetSet = z
  .strictObject({
    firstResponseSeconds: seconds,
    resolutionSeconds: seconds,
    businessHours: z.boolean().default(false),
  })
  .refine(
    (t) => t.firstResponseSeconds !== null || t.resolutionSeconds !== null,
    'at least one of firstResponseSeconds and resolutionSeconds (leave the priority out for none)',
  );

/** `PUT /v1/admin/settings/sla`: targets per priority; `targets: {}` turns the SLA off. */
const slaBody = z.strictObject({
  remindAtPercent: z.number().int().min(1).max(99).nullable().default(DEFAULT_REMIND_AT_PERCENT),
  targets: z.strictObject({
    high: targetSet.optional(),
    normal: targetSet.optional(),
    low: targetSet.optional(),
  }),
});

function slaView(settings: SlaSettings) {
  return {
    remindAtPercent: settings.remindAtPercent,
    targets: settings.targets,
    updatedAt: settings.updatedAt?.toISOString() ?? null,
  };
}

/**
 * SLA targets (admin API): `GET`/`PUT /v1/admin/settings/sla`. The scheduler reminds and
 * announces breaches by them; reports show their attainment (docs/reports.md); contract:
 * docs/contract.md.
 */
export const slaRoutes: FastifyPluginAsync<SlaRoutesOptions> = async (app, options) => {
  const { sla } = options;

  app.get(
    '/v1/admin/settings/sla',
    adminRoute(Permission.settingsRead, 'SLA targets per priority (none unless set)', {
      answers: { 200: slaSettingsAnswer },
    }),
    async (request) => slaView(await sla.get(principalOf(request).tenantId)),
  );

  app.put(
    '/v1/admin/settings/sla',
    adminRoute(Permission.settingsWrite, 'Sets the SLA targets; `targets: {}` turns them off', {
      body: slaBody,
      answers: { 200: slaSettingsAnswer },
    }),
    async (request) => {
      const body = parse(slaBody, request.body ?? {});
      return slaView(
        await sla.set(principalOf(request).tenantId, principalOf(request).actorId, body),
      );
    },
  );
};
