import {
  assignmentEnv,
  env,
  parseDuration,
  parseEnv,
  serviceEnv,
  tenantEnv,
} from '@topicdesk/config';
import { attachmentEnv } from '@topicdesk/storage';
import { z } from 'zod';

export const schedulerEnvSchema = z.object({
  ...serviceEnv,
  ...assignmentEnv,
  /** Online agents silent in the support groups for this many minutes go away (0: never). */
  AGENT_IDLE_AWAY_MINUTES: env.number(30, 0),
  // Tenants' secrets (their default groups, for assignment and SLA escalation per tenant).
  TENANT_KEK: tenantEnv.TENANT_KEK,
  TENANT_KEKS_PREVIOUS: tenantEnv.TENANT_KEKS_PREVIOUS,
  /**
   * The default tenant's support group (as the bridge's): agents whose group is this one serve
   * it. Other tenants' default group is the first of their bundle's `supportGroups`.
   */
  SUPPORT_GROUP_ID: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z.coerce.number().int().optional(),
  ),
  // Where visitors' files are: the orphan sweep deletes uploads no message took.
  ...attachmentEnv,
  /** Attachments no message took (uploads never sent, refused files) are deleted this long after. */
  ATTACHMENTS_ORPHAN_AFTER: env.duration('24h'),
  /** HTTP port of the scheduler (health and metrics). */
  PORT: env.port(3002),
  /** Close conversations idle for longer than this. */
  AUTO_CLOSE_AFTER: env.duration('24h'),
  /**
   * Unclaimed-conversation reminders, comma-separated delays since the conversation started; the
   * last is pinned. Conversations whose priority has SLA targets get the SLA's reminders instead.
   */
  UNCLAIMED_REMINDERS: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z
      .string()
      .default('5m,15m')
      .transform((value, ctx) => {
        const delays = value.split(',').map((part) => parseDuration(part.trim()));
        if (delays.some((d) => d === undefined)) {
          ctx.addIssue({ code: 'custom', message: 'comma-separated durations like 5m,15m' });
          return z.NEVER;
        }
        return (delays as number[]).sort((a, b) => a - b);
      }),
  ),
  /**
   * Closed conversations are deleted this many days after closing; a tenant whose limits set
   * `retentionDays` (its plan) keeps its conversations that long instead.
   */
  RETENTION_DAYS: env.number(90, 0.0001),
  /** What happens to a purged conversation's topic: `delete` it in Telegram or `keep` it closed. */
  RETENTION_TOPIC_POLICY: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z.enum(['delete', 'keep']).default('keep'),
  ),
  /**
   * Escalate a conversation automatically when one of its SLA targets is breached (the
   * escalation use case moves it a level up). Off by default: breaches are announced only.
   */
  SLA_AUTO_ESCALATE: env.boolean(false),
  /** Test hook: a file with a clock offset in ms added to the scheduler's time (see clock.ts). */
  SCHEDULER_CLOCK_FILE: env.optionalString(),
  /** How often the scheduler looks for due work. */
  SCHEDULER_INTERVAL: env.duration('30s'),
});

export type SchedulerConfig = z.output<typeof schedulerEnvSchema>;

export function loadSchedulerConfig(source: Record<string, string | undefined>): SchedulerConfig {
  return parseEnv(schedulerEnvSchema, source);
}
