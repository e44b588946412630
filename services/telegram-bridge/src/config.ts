import { assignmentEnv, consoleEnv, env, parseEnv, serviceEnv, tenantEnv } from '@topicdesk/config';
import { attachmentEnv } from '@topicdesk/storage';
import { z } from 'zod';

export const bridgeEnvSchema = z.object({
  ...serviceEnv,
  ...assignmentEnv,
  // Where visitors' files are: the bridge posts them into topics (it reads, never signs links).
  ...attachmentEnv,
  /** HTTP port of the bridge (webhook, health, metrics). */
  PORT: env.port(3001),
  /** Token of the Telegram bot (from @BotFather). */
  BOT_TOKEN: env
    .string()
    .pipe(z.string().regex(/^\d+:[A-Za-z0-9_-]+$/, 'looks like 123456:ABC-DEF…')),
  /** Id of the support supergroup with Topics (negative, like -1001234567890). */
  SUPPORT_GROUP_ID: z.preprocess((v) => (v === '' ? undefined : v), z.coerce.number().int()),
  /** Bot API server; Telegram's unless a sandbox or a self-hosted telegram-bot-api is used. */
  TELEGRAM_API_ROOT: env.optionalString().default('https://api.telegram.org'),
  /** Complete public URL of POST /v1/telegram/webhook/:secret; when set, setWebhook is called at start. */
  TELEGRAM_WEBHOOK_URL: env.url(),
  /** The :secret path segment of the webhook route. */
  TELEGRAM_WEBHOOK_SECRET: env.optionalString(),
  /** Value Telegram sends in X-Telegram-Bot-Api-Secret-Token (1–256 of A–Z a–z 0–9 _ -). */
  TELEGRAM_HEADER_SECRET: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,256}$/, '1–256 characters of A–Z a–z 0–9 _ -')
      .optional(),
  ),
  /** How updates arrive: `webhook`, `polling`, or `auto` (webhook when TELEGRAM_WEBHOOK_URL is set). */
  TELEGRAM_UPDATES: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z.enum(['auto', 'webhook', 'polling']).default('auto'),
  ),
  /**
   * Tokens of send-only sender bots, comma-separated: each an admin ("Manage topics", "Pin
   * messages") of every support group. Each brings its own budgets; BOT_TOKEN stays the bot
   * that receives agents' messages.
   */
  TELEGRAM_SENDER_BOT_TOKENS: z.preprocess(
    (v) =>
      typeof v === 'string'
        ? v
            .split(',')
            .map((t) => t.trim())
            .filter(Boolean)
        : v,
    z
      .array(z.string().regex(/^\d+:[A-Za-z0-9_-]+$/, 'each token looks like 123456:ABC-DEF…'))
      .default([]),
  ),
  /** Messages per bot per window to one support group (Telegram allows about 20 a minute). */
  TELEGRAM_LIMIT_GROUP_PER_MINUTE: env.int(20, 1),
  /** The window of that group limit: a minute at Telegram; tests run the same limit faster. */
  TELEGRAM_LIMIT_GROUP_WINDOW: env.duration('60s'),
  /**
   * When a new topic's header is pinned: `auto` after the visitor's first message when the chat
   * has room within a second (skipped for good while it has none), `always` at once, `never`.
   */
  TELEGRAM_PIN_HEADER: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z.enum(['auto', 'always', 'never']).default('auto'),
  ),
  /**
   * Messages per second to one chat (Telegram allows about 1, with short bursts over it: the
   * sender lets CHAT_BURST go back to back and keeps the average).
   */
  TELEGRAM_LIMIT_CHAT_PER_SECOND: env.int(1, 1),
  /** Messages per second for the whole bot (Telegram allows about 30). */
  TELEGRAM_LIMIT_GLOBAL_PER_SECOND: env.int(30, 1),
  /** Added to each limit window, so clock and network jitter never tip a send over Telegram's limit. */
  TELEGRAM_LIMIT_SAFETY: env.duration('250ms'),
  /**
   * Conversation syncs in flight at once across the replicas (the sync consumer's
   * maxAckPending). Each tenant served takes at most its fair share of them on a replica:
   * max(8, this ÷ tenants served), so one tenant's flood cannot hold every slot.
   */
  TELEGRAM_SYNC_IN_FLIGHT: env.int(512, 1),
  /** Whether group members not registered as agents may answer visitors (shown as "Support"). */
  ALLOW_UNKNOWN_AGENTS: env.boolean(true),
  /**
   * What those unregistered agents are shown as: `generic` ("Support") or `first_name` (their
   * Telegram first name; off by default, since it tells visitors a real name).
   */
  AGENT_NAME_FALLBACK: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z.enum(['generic', 'first_name']).default('generic'),
  ),
  /** Agents must /claim a conversation before their replies reach the visitor (else a reply claims it). */
  REQUIRE_CLAIM: env.boolean(false),
  /**
   * 32 random bytes, base64 (`openssl rand -base64 32`): encrypts private-chat users' Telegram
   * ids in Postgres and every update on the bus. Unset: the bot's private chat is turned off.
   */
  TELEGRAM_USER_KEY: env.userKey(),
  /** The key before the last rotation, while the bridge re-encrypts what it sealed. */
  TELEGRAM_USER_KEY_PREVIOUS: env.userKey(),
  /** New conversations a private-chat user may start per day (sliding window, all replicas). */
  LIMIT_CONVERSATIONS_PER_DAY: env.int(5, 1),
  /** Messages a private-chat user may send per hour (sliding window, all replicas). */
  LIMIT_MESSAGES_PER_HOUR: env.int(50, 1),
  ...consoleEnv,
  /** How long a console sign-in link (an agent's `/console` in the bot's private chat) works. */
  CONSOLE_LINK_TTL: env.duration('5m'),
  /** The key-encryption keys of tenants' secrets, as the gateway's (docs/operations.md, "Many sites"). */
  TENANT_KEK: tenantEnv.TENANT_KEK,
  TENANT_KEKS_PREVIOUS: tenantEnv.TENANT_KEKS_PREVIOUS,
});

export type BridgeConfig = z.output<typeof bridgeEnvSchema>;

export function loadBridgeConfig(source: Record<string, string | undefined>): BridgeConfig {
  return parseEnv(bridgeEnvSchema, source);
}

/** Whether updates come by webhook or by long polling under this configuration. */
export function updatesMode(config: BridgeConfig): 'webhook' | 'polling' {
  if (config.TELEGRAM_UPDATES !== 'auto') return config.TELEGRAM_UPDATES;
  return config.TELEGRAM_WEBHOOK_URL ? 'webhook' : 'polling';
}
