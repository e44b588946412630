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

/** Generated secrets kept in DATA_DIR: the variable that replaces each, and what it protects. */
export const PersistentSecret = {
  conversationJwt: {
    file: 'conversation-jwt-secret',
    variable: 'CONVERSATION_JWT_SECRET',
    loss: "visitors' conversation tokens would stop working",
  },
  telegramUserKey: {
    file: 'telegram-user-key',
    variable: 'TELEGRAM_USER_KEY',
    loss: 'the stored ids of private-chat users would become unreadable (they are encrypted with it)',
  },
} as const;
export type PersistentSecret = (typeof PersistentSecret)[keyof typeof PersistentSecret];

/** At least this many characters; what is generated is 43 (32 random bytes, base64url). */
const MIN_SECRET_CHARS = 32;

/** A secret file that cannot be used as it is: one-process mode refuses to start. */
export class SecretFileError extends Error {
  override readonly name = 'SecretFileError';
  readonly code = 'STANDALONE_SECRET_FILE_INVALID';
}

/**
 * A secret that survives restarts (tokens stay valid, encrypted rows stay readable) without
 * anyone having to set one: 32 random bytes, base64url, in `DATA_DIR/<file>`, made on the first
 * start only. A file that is there but unusable (too short, empty, unreadable) is never replaced:
 * a new secret would silently lose what the old one protects, so the process refuses to start.
 */
export function persistentSecret(dataDir: string, secret: PersistentSecret): string {
  const path = join(dataDir, secret.file);
  const existing = readSecret(path, secret);
  if (existing !== undefined) return existing;
  mkdirSync(dataDir, { recursive: true });
  const generated = randomBytes(32).toString('base64url');
  try {
    // Exclusive: a process starting at the same moment may have written one first; use that.
    writeFileSync(path, `${generated}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if (!isErrno(error, 'EEXIST')) throw error;
    return readSecret(path, secret) ?? generated;
  }
  return generated;
}

/** The file's secret, undefined when there is no file; throws when it is there but unusable. */
function readSecret(path: string, secret: PersistentSecret): string | undefined {
  let content: string;
  try {
    content = readFileSync(path, 'utf8').trim();
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return undefined;
    throw new SecretFileError(
      `cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'}); fix its permissions, or set ${secret.variable}`,
      { cause: error },
    );
  }
  if (content.length >= MIN_SECRET_CHARS) return content;
  throw new SecretFileError(
    `${path} holds ${content.length} characters, a secret needs at least ${MIN_SECRET_CHARS}. ` +
      `It was not replaced: with a new one ${secret.loss}. Restore the file from a backup, or ` +
      `set ${secret.variable}; delete the file only to accept that loss.`,
  );
}

function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}
