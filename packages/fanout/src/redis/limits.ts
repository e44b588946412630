import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { acquireLoop } from '../acquire';
import type { Gate } from '../gate';
import type { CoordinationKeys } from '../keys';
import type {
  AcquireOptions,
  AnyAcquired,
  Budget,
  BudgetLimiter,
  BudgetUse,
  LeaseCounter,
  QuotaLimiter,
  QuotaResult,
} from '../types';
import { normalizeBudgets, validateKey, validatePositive } from '../validate';
import { redisCall } from './connection';
import {
  ACQUIRE_ANY_SCRIPT,
  LEASE_COUNT_SCRIPT,
  LEASE_HOLD_SCRIPT,
  LEASE_RENEW_SCRIPT,
  PEEK_SCRIPT,
  QUOTA_USED_SCRIPT,
  PENALIZE_SCRIPT,
  SLIDING_WINDOW_SCRIPT,
  parseWindowReply,
} from './scripts';

export interface RedisLimiterOptions {
  redis: Redis;
  keys: CoordinationKeys;
  gate?: Gate;
}

/** This process's part of every log member it writes (random: replicas share the logs). */
const MEMBER_PREFIX = randomUUID().slice(0, 12);
let members = 0;

/**
 * Makes log members unique when two uses land on the same millisecond: the process's random
 * prefix and a counter (no system call per use, unlike fresh random bytes on every call).
 */
function memberSuffix(): string {
  members = (members + 1) % Number.MAX_SAFE_INTEGER;
  return `${MEMBER_PREFIX}${members.toString(36)}`;
}

export class RedisBudgetLimiter implements BudgetLimiter {
  constructor(private readonly options: RedisLimiterOptions) {}

  async tryAcquire(budgets: readonly Budget[]): Promise<number> {
    const normalized = normalizeBudgets(budgets);
    if (normalized.length === 0) return 0;
    const { redis, keys, gate } = this.options;
    const redisKeys = [
      ...normalized.map((b) => keys.budgetLog(b.key)),
      ...normalized.map((b) => keys.budgetBlock(b.key)),
    ];
    const args = [
      memberSuffix(),
      normalized.length,
      ...normalized.flatMap((b) => [b.limit, b.windowMs]),
    ];
    const reply = await redisCall(gate, 'budget acquire', () =>
      SLIDING_WINDOW_SCRIPT.run(redis, redisKeys, args),
    );
    return parseWindowReply(reply)[0];
  }

  acquire(budgets: readonly Budget[], options?: AcquireOptions): Promise<void> {
    return acquireLoop((b) => this.tryAcquire(b), budgets, options);
  }

  async tryAcquireAny(candidates: ReadonlyArray<readonly Budget[]>): Promise<AnyAcquired> {
    const normalized = candidates.map((budgets) => normalizeBudgets(budgets));
    if (normalized.length === 0) return { index: -1, waitMs: 0 };
    const { redis, keys, gate } = this.options;
    const redisKeys: string[] = [];
    const args: Array<string | number> = [memberSuffix(), normalized.length];
    for (const budgets of normalized) {
      args.push(budgets.length);
      for (const b of budgets) {
        redisKeys.push(keys.budgetLog(b.key), keys.budgetBlock(b.key));
        args.push(b.limit, b.windowMs);
      }
    }
    const reply = await redisCall(gate, 'budget acquire any', () =>
      ACQUIRE_ANY_SCRIPT.run(redis, redisKeys, args),
    );
    const [index, waitMs] = parseWindowReply(reply);
    return { index, waitMs };
  }

  async penalize(budgets: readonly Budget[], ms: number): Promise<void> {
    const normalized = normalizeBudgets(budgets);
    if (!(ms > 0) || normalized.length === 0) return;
    const duration = validatePositive('penalty ms', ms);
    const { redis, keys, gate } = this.options;
    await redisCall(gate, 'budget penalize', () =>
      PENALIZE_SCRIPT.run(
        redis,
        normalized.map((b) => keys.budgetBlock(b.key)),
        [duration],
      ),
    );
  }

  async peek(budgets: readonly Budget[]): Promise<BudgetUse[]> {
    const normalized = normalizeBudgets(budgets);
    if (normalized.length === 0) return [];
    const { redis, keys, gate } = this.options;
    const reply = await redisCall(gate, 'budget peek', () =>
      PEEK_SCRIPT.run(
        redis,
        [
          ...normalized.map((b) => keys.budgetLog(b.key)),
          ...normalized.map((b) => keys.budgetBlock(b.key)),
        ],
        normalized.map((b) => b.windowMs),
      ),
    );
    const numbers = (reply as unknown[]).map(Number);
    return normalized.map((_, i) => ({
      used: numbers[2 * i] ?? 0,
      blockedMs: numbers[2 * i + 1] ?? 0,
    }));
  }
}

export class RedisQuotaLimiter implements QuotaLimiter {
  constructor(private readonly options: RedisLimiterOptions) {}

  async hit(key: string, limit: number, windowMs: number): Promise<QuotaResult> {
    const [budget] = normalizeBudgets([{ key, limit, windowMs }]) as [Budget];
    const { redis, keys, gate } = this.options;
    const reply = await redisCall(gate, 'quota hit', () =>
      SLIDING_WINDOW_SCRIPT.run(
        redis,
        [keys.quotaLog(budget.key)],
        [memberSuffix(), 1, budget.limit, budget.windowMs],
      ),
    );
    const [wait, remaining, use] = parseWindowReply(reply);
    if (wait > 0) return { allowed: false, remaining: 0, retryAfterMs: wait };
    if (use === undefined) throw new Error('the quota script recorded a use without naming it');
    return { allowed: true, remaining, retryAfterMs: 0, use };
  }

  async refund(key: string, use: string): Promise<boolean> {
    validateKey('quota key', key);
    validateKey('quota use', use);
    const { redis, keys, gate } = this.options;
    // The member is the use itself: removing it frees exactly that unit, once, whichever replica
    // took it; a use that has left the window is gone already.
    const removed = await redisCall(gate, 'quota refund', () =>
      redis.zrem(keys.quotaLog(key), use),
    );
    return removed > 0;
  }

  async used(key: string, windowMs: number): Promise<number> {
    validateKey('quota key', key);
    const window = validatePositive('windowMs', windowMs);
    const { redis, keys, gate } = this.options;
    const reply = await redisCall(gate, 'quota used', () =>
      QUOTA_USED_SCRIPT.run(redis, [keys.quotaLog(key)], [window]),
    );
    return Number(reply);
  }
}

export class RedisLeaseCounter implements LeaseCounter {
  constructor(private readonly options: RedisLimiterOptions) {}

  async hold(key: string, lease: string, limit: number, ttlMs: number): Promise<boolean> {
    validateKey('lease key', key);
    validateKey('lease', lease);
    const max = validatePositive('limit', limit);
    const ttl = validatePositive('ttlMs', ttlMs);
    const { redis, keys, gate } = this.options;
    const reply = await redisCall(gate, 'lease hold', () =>
      LEASE_HOLD_SCRIPT.run(redis, [keys.lease(key)], [lease, max, ttl]),
    );
    return Number(reply) === 1;
  }

  async renew(key: string, leases: readonly string[], ttlMs: number): Promise<void> {
    validateKey('lease key', key);
    for (const lease of leases) validateKey('lease', lease);
    const ttl = validatePositive('ttlMs', ttlMs);
    if (leases.length === 0) return;
    const { redis, keys, gate } = this.options;
    await redisCall(gate, 'lease renew', () =>
      LEASE_RENEW_SCRIPT.run(redis, [keys.lease(key)], [ttl, ...leases]),
    );
  }

  async release(key: string, lease: string): Promise<void> {
    validateKey('lease key', key);
    validateKey('lease', lease);
    const { redis, keys, gate } = this.options;
    await redisCall(gate, 'lease release', () => redis.zrem(keys.lease(key), lease));
  }

  async count(key: string): Promise<number> {
    validateKey('lease key', key);
    const { redis, keys, gate } = this.options;
    const reply = await redisCall(gate, 'lease count', () =>
      LEASE_COUNT_SCRIPT.run(redis, [keys.lease(key)], []),
    );
    return Number(reply);
  }
}
