import { env, parseEnv } from '@topicdesk/config';
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
  /** How often the scheduler looks for due work. */
  SCHEDULER_INTERVAL: env.duration('30s'),
  /** Log level. */
  LOG_LEVEL: env.logLevel(),
});

export type SchedulerConfig = z.output<typeof schedulerEnvSchema>;

export function loadSchedulerConfig(source: Record<string, string | undefined>): SchedulerConfig {
  return parseEnv(schedulerEnvSchema, source);
}
