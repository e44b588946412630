import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { env, parseEnv } from '@topicdesk/config';
import { z } from 'zod';

/**
 * One-process mode reads the same variables as the services (see .env.example); these are the
 * ones it decides itself. Everything else is passed through to each service's own schema.
 */
export const standaloneEnvSchema = z.object({
  /** The one port serving the visitor API, the demo page, the bridge and the sandbox. */
  PORT: env.port(3000),
  /** Interface to listen on (loopback by default: one-process mode is for a laptop). */
  HOST: env.optionalString().default('127.0.0.1'),
  /** Where the embedded database, the sandbox state and the generated secret live. */
  DATA_DIR: env.optionalString().default('./data'),
  /** Real Telegram when set (long polling); the built-in sandbox when unset. */
  BOT_TOKEN: env.optionalString(),
  /** The support group, with BOT_TOKEN. */
  SUPPORT_GROUP_ID: env.optionalString(),
  /** Token secret; generated once and kept in DATA_DIR when unset. */
  CONVERSATION_JWT_SECRET: env.optionalString(),
  /** Key of private-chat users' ids and of updates on the bus; generated once into DATA_DIR when unset. */
  TELEGRAM_USER_KEY: env.optionalString(),
  /** Pretty logs (default: when stdout is a terminal). */
  LOG_PRETTY: env.boolean(process.stdout.isTTY === true),
  /** Log level. */
  LOG_LEVEL: env.logLevel(),
});
export type StandaloneConfig = z.output<typeof standaloneEnvSchema>;

export function loadStandaloneConfig(source: Record<string, string | undefined>): StandaloneConfig {
  return parseEnv(standaloneEnvSchema, source);
}

/** The sandbox's bot: any token of Telegram's shape works there. */
export const SANDBOX_BOT_TOKEN = '100000001:topicdesk-sandbox-token';
export const SANDBOX_GROUP_ID = -1001000000001;

/**
 * A secret that survives restarts (tokens stay valid, encrypted rows stay readable) without
 * anyone having to set one: 32 random bytes, base64url, in `DATA_DIR/<name>`.
 */
export function persistentSecret(dataDir: string, name = 'conversation-jwt-secret'): string {
  const path = join(dataDir, name);
  try {
    const existing = readFileSync(path, 'utf8').trim();
    if (existing.length >= 32) return existing;
  } catch {
    // first start: generated below
  }
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(path, `${secret}\n`, { mode: 0o600 });
  return secret;
}
