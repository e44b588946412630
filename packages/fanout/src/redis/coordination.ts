import type { Redis } from 'ioredis';
import { Gate } from '../gate';
import { coordinationKeys } from '../keys';
import { noopLogger, type Logger } from '../logger';
import type { BudgetLimiter, Coordination, Deduper, Fanout, Locker, QuotaLimiter } from '../types';
import { closeRedis, connectionHealth, openRedis } from './connection';
import { RedisDeduper } from './dedupe';
import { RedisFanout } from './fanout';
import { RedisBudgetLimiter, RedisLeaseCounter, RedisQuotaLimiter } from './limits';
import { RedisLocker } from './locks';

export interface RedisCoordinationOptions {
  /** `redis://[:password@]host:port[/db]` (or `rediss://`). */
  url: string;
  /** Prefix of every key and channel, `^[A-Za-z0-9_-]+$`. */
  namespace: string;
  logger?: Logger;
  /** A command unanswered this long fails (default 5 s; 0: never). */
  commandTimeoutMs?: number;
  /**
   * Write the commands issued in one event-loop turn in one socket write (`coalesceWrites`):
   * fewer system calls, but under saturation each command waits for the end of its turn (the
   * gateway's acks at the pipeline benchmark's maximum took twice as long), so off by default.
   */
  coalesceWrites?: boolean;
}

/** For the single-purpose factories: an ioredis client the caller owns, connected or not. */
export interface RedisClientOptions {
  redis: Redis;
  namespace: string;
  logger?: Logger;
}

/**
 * Everything on two connections: one for commands (PUBLISH, scripts, SET), one for
 * subscriptions. Rejects with COORDINATION_UNAVAILABLE if Redis cannot be reached at start.
 */
export async function createRedisCoordination(
  options: RedisCoordinationOptions,
): Promise<Coordination> {
  const logger = options.logger ?? noopLogger;
  const keys = coordinationKeys(options.namespace);
  const connect = {
    url: options.url,
    namespace: keys.namespace,
    logger,
    commandTimeoutMs: options.commandTimeoutMs,
    coalesce: options.coalesceWrites,
  };
  const commands = await openRedis({ ...connect, role: 'commands' });
  let subscriber: Redis;
  try {
    subscriber = await openRedis({ ...connect, role: 'subscriber' });
  } catch (err) {
    commands.disconnect();
    throw err;
  }
  const gate = new Gate();
  const fanout = new RedisFanout({
    publisher: commands,
    subscriber,
    keys,
    logger,
    ownsConnections: false,
  });
  const locks = new RedisLocker({ redis: commands, keys, logger, gate });
  let closing: Promise<void> | undefined;
  return {
    fanout,
    budgets: new RedisBudgetLimiter({ redis: commands, keys, gate }),
    quotas: new RedisQuotaLimiter({ redis: commands, keys, gate }),
    leases: new RedisLeaseCounter({ redis: commands, keys, gate }),
    locks,
    dedupe: new RedisDeduper({ redis: commands, keys, gate }),
    health() {
      if (gate.closed) return { ok: false, detail: 'closed' };
      return connectionHealth([
        ['commands', commands],
        ['subscriber', subscriber],
      ]);
    },
    close() {
      closing ??= (async () => {
        gate.closed = true;
        await locks.close();
        await fanout.close();
        await Promise.all([closeRedis(commands, logger), closeRedis(subscriber, logger)]);
      })();
      return closing;
    },
  };
}

/** A fanout on its own two connections (publisher and subscriber); close() closes both. */
export async function createRedisFanout(options: RedisCoordinationOptions): Promise<Fanout> {
  const logger = options.logger ?? noopLogger;
  const keys = coordinationKeys(options.namespace);
  const connect = {
    url: options.url,
    namespace: keys.namespace,
    logger,
    commandTimeoutMs: options.commandTimeoutMs,
  };
  const publisher = await openRedis({ ...connect, role: 'publisher' });
  let subscriber: Redis;
  try {
    subscriber = await openRedis({ ...connect, role: 'subscriber' });
  } catch (err) {
    publisher.disconnect();
    throw err;
  }
  return new RedisFanout({ publisher, subscriber, keys, logger, ownsConnections: true });
}

export function createRedisBudgetLimiter(options: RedisClientOptions): BudgetLimiter {
  return new RedisBudgetLimiter({
    redis: options.redis,
    keys: coordinationKeys(options.namespace),
  });
}

export function createRedisQuotaLimiter(options: RedisClientOptions): QuotaLimiter {
  return new RedisQuotaLimiter({ redis: options.redis, keys: coordinationKeys(options.namespace) });
}

/** Locks on a caller-owned client; the caller releases its locks before closing the client. */
export function createRedisLocker(options: RedisClientOptions): Locker {
  return new RedisLocker({
    redis: options.redis,
    keys: coordinationKeys(options.namespace),
    logger: options.logger ?? noopLogger,
  });
}

export function createRedisDeduper(options: RedisClientOptions): Deduper {
  return new RedisDeduper({ redis: options.redis, keys: coordinationKeys(options.namespace) });
}
