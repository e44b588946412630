import { assignmentEnv, consoleEnv, env, parseEnv, serviceEnv, tenantEnv } from '@topicdesk/config';
import { attachmentEnv } from '@topicdesk/storage';
import { z } from 'zod';

/** The pre-chat form's fields an operator may let through (the name always is). */
export const PRECHAT_FIELD_NAMES = ['email'] as const;
export type PrechatField = (typeof PRECHAT_FIELD_NAMES)[number];

/** A comma-separated subset of PRECHAT_FIELD_NAMES; an unknown name stops the start. */
const prechatFields = () =>
  env.optionalString().transform((value, ctx): PrechatField[] => {
    const names = (value ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const known = new Set<string>(PRECHAT_FIELD_NAMES);
    for (const name of names.filter((n) => !known.has(n))) {
      ctx.addIssue({
        code: 'custom',
        message: `unknown pre-chat field "${name}": the fields are ${PRECHAT_FIELD_NAMES.join(', ')}`,
      });
    }
    return [...new Set(names)] as PrechatField[];
  });

export const gatewayEnvSchema = z
  .object({
    ...serviceEnv,
    ...attachmentEnv,
    /** The console's overview shows agents' loads against it (agents without a capacity of their own). */
    AGENT_CAPACITY_DEFAULT: assignmentEnv.AGENT_CAPACITY_DEFAULT,
    /** HTTP port of the gateway. */
    PORT: env.port(3000),
    /** HS256 secret of visitors' conversation tokens (at least 32 characters). */
    CONVERSATION_JWT_SECRET: z.preprocess(
      (v) => (v === '' ? undefined : v),
      z.string().min(32, 'at least 32 characters'),
    ),
    /** Lifetime of a conversation token. */
    TOKEN_TTL: env.duration('1h'),
    /** How long after expiry a token may still be exchanged for a new one. */
    TOKEN_REFRESH_GRACE: env.duration('7d'),
    /** Bind tokens to the client IP (off by default: mobile networks change IPs). */
    TOKEN_BIND_IP: env.boolean(false),
    /** Comma-separated origins allowed to call the visitor API from a browser, or `*`. */
    ALLOWED_ORIGINS: env.optionalString().default('*'),
    /** Trust X-Forwarded-* from a proxy: `true`, a hop count, or comma-separated addresses. */
    TRUST_PROXY: env.optionalString(),
    /** New conversations per client IP per day. */
    LIMIT_CONVERSATIONS_PER_DAY: env.int(5, 1),
    /** Visitor messages per conversation per hour. */
    LIMIT_MESSAGES_PER_HOUR: env.int(50, 1),
    /** WS frames a socket may send in a burst. */
    WS_RATE_BURST: env.int(20, 1),
    /** WS frames per second a socket may sustain. */
    WS_RATE_PER_SEC: env.number(5, 0.1),
    /** Largest WS frame accepted, in bytes. */
    WS_MAX_PAYLOAD: env.int(65_536, 1024),
    /** Refused frames (RATE_LIMITED) within WS_RATE_CLOSE_WINDOW after which a socket is closed with 4429. */
    WS_RATE_CLOSE_AFTER: env.int(50, 1),
    /** The window in which WS_RATE_CLOSE_AFTER refused frames close a socket. */
    WS_RATE_CLOSE_WINDOW: env.duration('10s'),
    /** Outgoing bytes a socket may hold unsent before it is closed with 4008 (a slow consumer). */
    WS_MAX_BUFFERED_BYTES: env.int(1_048_576, 16_384),
    /** Open sockets one conversation may have on one gateway replica; the next is closed with 4409. */
    WS_MAX_SOCKETS_PER_CONVERSATION: env.int(20, 1),
    /** Name changes (POST /v1/conversations/:id/profile) per conversation per hour. */
    LIMIT_PROFILE_CHANGES_PER_HOUR: env.int(20, 1),
    /**
     * Pre-chat fields besides the name that POST /v1/conversations takes (comma-separated subset
     * of `email`; default none): personal data is stored only where the operator asked for it.
     */
    PRECHAT_FIELDS: prechatFields(),
    /** Bearer token of the admin API (acts as an owner); automation keeps using it. */
    SERVICE_TOKEN: env.optionalString(),
    ...consoleEnv,
    /** How long a console session lives from sign-in, however active. */
    CONSOLE_SESSION_TTL: env.duration('12h'),
    /** A console session without a request for this long ends. */
    CONSOLE_SESSION_IDLE: env.duration('2h'),
    /**
     * The console overview stream's heartbeat: a comment line this often keeps proxies from
     * closing it, and the session is checked again (an ended one ends the stream).
     */
    CONSOLE_STREAM_HEARTBEAT: env.duration('15s'),
    /** How long the setup checks wait for the bridge's answer (it asks Telegram). */
    SETUP_BRIDGE_TIMEOUT: env.duration('10s'),
    /**
     * Check every JSON answer of a documented route against its /openapi.json schema and answer
     * 500 RESPONSE_SCHEMA_MISMATCH where it differs: for test runs (the suites turn it on), off
     * in production (it parses every answer again).
     */
    CHECK_RESPONSE_SCHEMAS: env.boolean(false),
    /**
     * The bridge's TELEGRAM_USER_KEY (same value): bot channels (issue 19) seal their tokens and
     * their users' Telegram ids with it. Unset: the bot channel routes answer 503.
     */
    TELEGRAM_USER_KEY: env.userKey(),
    /** The bridge's TELEGRAM_USER_KEY_PREVIOUS during a rotation (same value). */
    TELEGRAM_USER_KEY_PREVIOUS: env.userKey(),
    /** Calls a bot channel's plugin may make per minute (all its users together). */
    BOT_CHANNEL_CALLS_PER_MINUTE: env.int(600, 1),
    ...tenantEnv,
  })
  .refine((config) => config.PLATFORM_TOKEN === undefined || config.TENANT_KEK !== undefined, {
    path: ['TENANT_KEK'],
    message: "required with PLATFORM_TOKEN: tenants' secrets are stored encrypted with it",
  });

export type GatewayConfig = z.output<typeof gatewayEnvSchema>;

export function loadGatewayConfig(source: Record<string, string | undefined>): GatewayConfig {
  return parseEnv(gatewayEnvSchema, source);
}

/** Fastify's trustProxy from the TRUST_PROXY variable. */
export function trustProxySetting(value: string | undefined): boolean | number | string[] {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) return Number(value);
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
