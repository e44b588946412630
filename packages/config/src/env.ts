import { z } from 'zod';
import { parseDuration } from './duration';

/** Thrown at start when the environment does not describe a runnable service. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'CONFIG_INVALID';
  constructor(readonly issues: readonly string[]) {
    super(`invalid configuration:\n  - ${issues.join('\n  - ')}`);
  }
}

/** Empty strings in the environment mean "unset", as in most .env tooling. */
const unsetIfEmpty = (value: unknown) => (value === '' ? undefined : value);

export const env = {
  string: () => z.preprocess(unsetIfEmpty, z.string()),
  optionalString: () => z.preprocess(unsetIfEmpty, z.string().optional()),
  url: () => z.preprocess(unsetIfEmpty, z.string().url().optional()),
  port: (fallback: number) =>
    z.preprocess(unsetIfEmpty, z.coerce.number().int().min(0).max(65535).default(fallback)),
  int: (fallback: number, min = 0) =>
    z.preprocess(unsetIfEmpty, z.coerce.number().int().min(min).default(fallback)),
  number: (fallback: number, min = 0) =>
    z.preprocess(unsetIfEmpty, z.coerce.number().min(min).default(fallback)),
  boolean: (fallback: boolean) =>
    z.preprocess(
      unsetIfEmpty,
      z
        .enum(['true', 'false', '1', '0', 'yes', 'no'])
        .optional()
        .transform((v) => (v === undefined ? fallback : ['true', '1', 'yes'].includes(v))),
    ),
  /** A duration such as "24h" or "500ms", parsed to milliseconds. */
  duration: (fallback: string) =>
    z.preprocess(
      unsetIfEmpty,
      z
        .string()
        .default(fallback)
        .transform((value, ctx) => {
          const ms = parseDuration(value);
          if (ms === undefined) {
            ctx.addIssue({
              code: 'custom',
              message: `"${value}" is not a duration like 30s, 5m or 24h`,
            });
            return z.NEVER;
          }
          return ms;
        }),
    ),
  /** Prefix of NATS subjects and streams and Redis keys. */
  namespace: () =>
    z.preprocess(
      unsetIfEmpty,
      z
        .string()
        .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only')
        .default('topicdesk'),
    ),
  /**
   * TELEGRAM_USER_KEY and its predecessor: 32 random bytes in base64 or base64url (`openssl
   * rand -base64 32`). Unset stays undefined; the message never repeats the value.
   */
  userKey: () =>
    z.preprocess(
      unsetIfEmpty,
      z
        .string()
        .refine(
          (value) =>
            /^[A-Za-z0-9+/_-]+={0,2}$/.test(value.trim()) &&
            Buffer.from(value.trim(), 'base64').length === 32,
          { message: '32 random bytes in base64 expected (openssl rand -base64 32)' },
        )
        .optional(),
    ),
  logLevel: () =>
    z.preprocess(
      unsetIfEmpty,
      z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    ),
};

/** Parses the environment once, at start; every problem is reported together. */
export function parseEnv<S extends z.ZodType>(
  schema: S,
  source: Record<string, string | undefined>,
): z.output<S> {
  const result = schema.safeParse(source);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => `${issue.path.join('.') || '(env)'}: ${issue.message}`),
    );
  }
  return result.data;
}

/**
 * The variables every service reads to reach its backing services; spread into each service's
 * schema (`z.object({ ...serviceEnv, PORT: env.port(3000), … })`).
 */
export const serviceEnv = {
  /** Interface to listen on. */
  HOST: env.optionalString().default('0.0.0.0'),
  /** Postgres URL; unset means embedded PGlite under DATA_DIR (one process only). */
  DATABASE_URL: env.url(),
  /** Directory of the embedded database when DATABASE_URL is unset. */
  DATA_DIR: env.optionalString().default('./data'),
  /** NATS URL; unset means the in-process bus (one process only). */
  NATS_URL: env.optionalString(),
  /** Redis URL; unset means in-process fanout, limits and locks (one process only). */
  REDIS_URL: env.optionalString(),
  /** Prefix of NATS subjects and streams and Redis keys. */
  NAMESPACE: env.namespace(),
  /** Log level. */
  LOG_LEVEL: env.logLevel(),
  /**
   * How long a graceful shutdown (SIGTERM) may take: connections still open at half of it are
   * cut, and a process still shutting down at the end of it exits with status 1.
   */
  SHUTDOWN_TIMEOUT: env.duration('10s'),
};

/**
 * Agents as a team: how conversations find an agent. Read by the bridge (passes when a
 * conversation starts or a place frees up) and the scheduler (passes on its interval).
 */
export const assignmentEnv = {
  /** `manual`: agents claim conversations (default); `auto`: the desk assigns them to online agents. */
  ASSIGNMENT: z.preprocess(unsetIfEmpty, z.enum(['auto', 'manual']).default('manual')),
  /** Most open conversations an agent holds at once, for agents without a capacity of their own. */
  AGENT_CAPACITY_DEFAULT: env.int(3, 0),
};

/** Where the console is served (issue 15): the bot's sign-in links and the gateway's cookies. */
export const consoleEnv = {
  /**
   * Public URL of the console, e.g. https://support.example.com/console; sign-in links are
   * `<CONSOLE_URL>/sign-in?t=…`. Unset: `<PUBLIC_URL>/console`; with neither, the bot answers
   * `/console` with "not configured".
   */
  CONSOLE_URL: env.url(),
  /**
   * What a data-subject erasure does to the conversation's topic unless the request says:
   * `keep` renames it and posts that the data was erased, `delete` deletes it in Telegram.
   */
  DSAR_TOPIC_POLICY: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z.enum(['delete', 'keep']).default('keep'),
  ),
};

/** The console's public URL without a trailing slash: CONSOLE_URL, else PUBLIC_URL + /console. */
export function consoleUrl(config: {
  CONSOLE_URL?: string | undefined;
  PUBLIC_URL?: string | undefined;
}): string | undefined {
  if (config.CONSOLE_URL) return config.CONSOLE_URL.replace(/\/+$/, '');
  if (config.PUBLIC_URL) return `${config.PUBLIC_URL.replace(/\/+$/, '')}/console`;
  return undefined;
}

/**
 * Metrics (every service; read by @topicdesk/telemetry at start): how many tenants get their own
 * `tenant` label. docs/operations.md, "Metrics by tenant".
 */
export const metricsEnv = {
  /**
   * The first this many tenants a process sees are labelled by their id on per-tenant metrics;
   * the rest share `tenant="_other"`, so a deployment of thousands of tenants keeps a bounded
   * number of series. 0: every tenant is `_other`.
   */
  METRICS_TENANT_LABELS: env.int(50, 0),
};

/** `<id>:<base64 of 32 bytes>`: a key-encryption key of tenants' secrets. */
const KEK = /^[A-Za-z0-9_.-]{1,64}:[A-Za-z0-9+/]{43}=$/;
const kekMessage =
  'a KEK is "<id>:<base64 of 32 random bytes>" (e.g. k2026:$(openssl rand -base64 32))';

/**
 * Tenants (issue 16, docs/operations.md "Many sites"): the platform API's token and the keys of
 * tenants' secrets at rest. Unset, the deployment is one tenant configured by the environment.
 */
export const tenantEnv = {
  /** Bearer token of the platform API (/v1/platform/tenants); unset: that API answers 404 PLATFORM_DISABLED. */
  PLATFORM_TOKEN: z.preprocess(
    unsetIfEmpty,
    z.string().min(24, 'at least 24 characters').optional(),
  ),
  /** The current key-encryption key, `<id>:<base64 32 bytes>`: wraps every tenant's data key. */
  TENANT_KEK: z.preprocess(unsetIfEmpty, z.string().regex(KEK, kekMessage).optional()),
  /**
   * Earlier KEKs, comma-separated, same form: they only unwrap, until `pnpm tenants:rotate-kek`
   * (or reads) rewrapped every data key with TENANT_KEK.
   */
  TENANT_KEKS_PREVIOUS: z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .refine(
        (value) =>
          value
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
            .every((entry) => KEK.test(entry)),
        kekMessage,
      )
      .optional(),
  ),
};
