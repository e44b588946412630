import { env, parseDuration, parseEnv } from '@topicdesk/config';
import { z } from 'zod';

export const schedulerEnvSchema = z.object({
  /** HTTP port of the scheduler (health and metrics). */
  PORT: env.port(3002),
  /** Interface to listen on. */
  HOST: env.optionalString().default('0.0.0.0'),
  /** Postgres URL; unset means embedded PGlite under DATA_DIR (one process only). */
  DATABASE_URL: env.url(),
  /** Directory of the embedded database when DATABASE_URL is unset. */
  DATA_DIR: env.optionalString().default('./data'),
  /** NATS URL; unset means the in-process bus (one process only). */
  NATS_URL: env.optionalString(),
  /** Redis URL; unset means in-process fanout (one process only). */
  REDIS_URL: env.optionalString(),
  /** Prefix of NATS subjects and streams and Redis keys. */
  NAMESPACE: env.namespace(),
  /** Close conversations idle for longer than this. */
  AUTO_CLOSE_AFTER: env.duration('24h'),
  /** Unclaimed-conversation reminders, comma-separated delays since the conversation started; the last is pinned. */
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
  /** Closed conversations are deleted this many days after closing. */
  RETENTION_DAYS: env.number(90, 0.0001),
  /** What happens to a purged conversation's topic: `delete` it in Telegram or `keep` it closed. */
  RETENTION_TOPIC_POLICY: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z.enum(['delete', 'keep']).default('keep'),
  ),
  /** Test hook: a file with a clock offset in ms added to the scheduler's time (see clock.ts). */
  SCHEDULER_CLOCK_FILE: env.optionalString(),
  /** How often the scheduler looks for due work. */
  SCHEDULER_INTERVAL: env.duration('30s'),
  /** Log level. */
  LOG_LEVEL: env.logLevel(),
});

export type SchedulerConfig = z.output<typeof schedulerEnvSchema>;

export function loadSchedulerConfig(source: Record<string, string | undefined>): SchedulerConfig {
  return parseEnv(schedulerEnvSchema, source);
}
