import { Redis } from 'ioredis';
import { CoordinationClosedError, CoordinationUnavailableError } from '../errors';
import type { Logger } from '../logger';
import type { Gate } from '../gate';
import type { Health } from '../types';
import { coalesceWrites } from './coalesce';

export type ConnectionRole = 'commands' | 'publisher' | 'subscriber';

export interface OpenRedisOptions {
  url: string;
  namespace: string;
  role: ConnectionRole;
  logger: Logger;
  /** A command unanswered this long fails (COORDINATION_UNAVAILABLE); 0: never. */
  commandTimeoutMs?: number | undefined;
  /** Write the commands of one event-loop turn in one socket write (`coalesceWrites`). */
  coalesce?: boolean | undefined;
}

/**
 * Redis answers in microseconds; a command still unanswered after this is lost (its connection
 * died in a way the client did not see, or the server hangs). Without a bound such a command
 * never settles, and whoever awaits it (a consumer's only handler, an outbox publish) waits
 * for ever.
 */
export const DEFAULT_COMMAND_TIMEOUT_MS = 5_000;

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    // Not a URL we can parse: show nothing of it rather than risk a secret.
    return '<unparseable redis url>';
  }
}

/**
 * Connects one ioredis client and waits until it is ready; fails fast (COORDINATION_UNAVAILABLE)
 * when Redis cannot be reached at start, so a misconfigured service does not come up half-alive.
 * After that, ioredis reconnects on its own; commands issued while it is away wait in its offline
 * queue and fail after `maxRetriesPerRequest` reconnection attempts, and a command without an
 * answer fails after `commandTimeoutMs`.
 */
export async function openRedis(options: OpenRedisOptions): Promise<Redis> {
  const { url, namespace, role, logger } = options;
  const redis = new Redis(url, {
    lazyConnect: true,
    connectionName: `${namespace}:coordination:${role}`,
    maxRetriesPerRequest: 2,
    ...((options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS) > 0
      ? { commandTimeout: options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS }
      : {}),
    // The fanout resubscribes itself so it knows when every channel is back (see RedisFanout).
    autoResubscribe: false,
  });
  if (options.coalesce) coalesceWrites(redis);
  const where = redactUrl(url);
  let closing = false;
  let lost = false;
  let errorLogged = false;
  redis.on('error', (err: unknown) => {
    // ioredis repeats the error on every reconnection attempt; one line per outage is enough.
    if (errorLogged || closing) return;
    errorLogged = true;
    logger.warn({ err, role, redis: where }, 'redis connection error');
  });
  redis.on('close', () => {
    if (lost || closing) return;
    lost = true;
    logger.warn({ role, redis: where }, 'redis connection lost; reconnecting');
  });
  redis.on('ready', () => {
    if (lost) logger.info({ role, redis: where }, 'redis connection restored');
    lost = false;
    errorLogged = false;
  });
  redis.on('end', () => {
    closing = true;
  });
  try {
    await redis.connect();
  } catch (err) {
    closing = true;
    redis.disconnect();
    throw new CoordinationUnavailableError(`cannot connect to Redis at ${where}`, { cause: err });
  }
  return redis;
}

/** Graceful QUIT when connected (pending replies arrive first); otherwise drop the socket. */
export async function closeRedis(redis: Redis, logger: Logger): Promise<void> {
  if (redis.status === 'end') return;
  if (redis.status !== 'ready') {
    redis.disconnect();
    return;
  }
  try {
    await redis.quit();
  } catch (err) {
    logger.warn({ err }, 'redis QUIT failed; disconnecting');
    redis.disconnect();
  }
}

export function connectionHealth(connections: ReadonlyArray<[ConnectionRole, Redis]>): Health {
  const down = connections.filter(([, redis]) => redis.status !== 'ready');
  if (down.length === 0) return { ok: true };
  return {
    ok: false,
    detail: down.map(([role, redis]) => `redis ${role} connection ${redis.status}`).join('; '),
  };
}

/** Runs one Redis call; whatever goes wrong there becomes COORDINATION_UNAVAILABLE. */
export async function redisCall<T>(
  gate: Gate | undefined,
  what: string,
  call: () => Promise<T>,
): Promise<T> {
  gate?.assertOpen();
  try {
    return await call();
  } catch (err) {
    if (gate?.closed) throw new CoordinationClosedError();
    const reason = err instanceof Error ? err.message : String(err);
    throw new CoordinationUnavailableError(`redis ${what} failed: ${reason}`, { cause: err });
  }
}
