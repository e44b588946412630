import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Redis } from 'ioredis';
import { DEFAULT_LOCK_TTL_MS, DUE_MARK_TTL_MS } from '../defaults';
import { CoordinationClosedError, LockLostError } from '../errors';
import type { Gate } from '../gate';
import type { CoordinationKeys } from '../keys';
import type { Logger } from '../logger';
import type { DueLock, Lock, Locker } from '../types';
import { validateKey, validatePositive } from '../validate';
import { redisCall } from './connection';
import {
  EXTEND_LOCK_SCRIPT,
  LOCK_OR_MARK_DUE_SCRIPT,
  RELEASE_AND_TAKE_DUE_SCRIPT,
  RELEASE_LOCK_SCRIPT,
} from './scripts';

export interface RedisLockerOptions {
  redis: Redis;
  keys: CoordinationKeys;
  logger: Logger;
  gate?: Gate;
}

class RedisLock implements DueLock {
  private readonly controller = new AbortController();
  // randomUUID draws from a cached pool of entropy: no system call per lock, unlike randomBytes.
  private readonly token = randomUUID();
  /** Next extension. */
  private timer: NodeJS.Timeout | undefined;
  /** When the lock may expire in Redis unless an extension succeeds first. */
  private deadline: NodeJS.Timeout | undefined;
  private released = false;
  /** The release, and whether it found the due mark (plain releases say false). */
  private releasing: Promise<boolean> | undefined;

  constructor(
    private readonly key: string,
    private readonly redisKey: string,
    private readonly ttlMs: number,
    private readonly locker: RedisLocker,
    private readonly options: RedisLockerOptions,
    /** The due mark's key, for a lock of `tryLockDue`. */
    private readonly dueKey?: string,
  ) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** SET NX PX (marking the key due if that fails, for `tryLockDue`); true when the lock is ours. */
  async take(): Promise<boolean> {
    const sentAt = performance.now();
    const { redis, gate } = this.options;
    const { dueKey } = this;
    const taken = await redisCall(gate, 'lock', async () =>
      dueKey === undefined
        ? (await redis.set(this.redisKey, this.token, 'PX', this.ttlMs, 'NX')) === 'OK'
        : Number(
            await LOCK_OR_MARK_DUE_SCRIPT.run(
              redis,
              [this.redisKey, dueKey],
              [this.token, this.ttlMs, DUE_MARK_TTL_MS],
            ),
          ) === 1,
    );
    if (!taken) return false;
    this.armDeadline(sentAt);
    this.schedule();
    return true;
  }

  async release(): Promise<void> {
    this.releasing ??= this.doRelease(false);
    await this.releasing;
  }

  releaseAndTakeDue(): Promise<boolean> {
    this.releasing ??= this.doRelease(true);
    return this.releasing;
  }

  /** On close: stop extending and tell the holder; the release itself is attempted by close(). */
  abandon(): void {
    this.lose(new LockLostError(this.key, { cause: new CoordinationClosedError() }), false);
  }

  private async doRelease(takeDue: boolean): Promise<boolean> {
    this.released = true;
    clearTimeout(this.timer);
    clearTimeout(this.deadline);
    this.locker.forget(this);
    const { redis, logger } = this.options;
    try {
      // Compare-and-delete: a lock that expired and was taken by someone else stays theirs.
      if (takeDue && this.dueKey !== undefined)
        return (
          Number(
            await RELEASE_AND_TAKE_DUE_SCRIPT.run(
              redis,
              [this.redisKey, this.dueKey],
              [this.token],
            ),
          ) === 1
        );
      await RELEASE_LOCK_SCRIPT.run(redis, [this.redisKey], [this.token]);
    } catch (err) {
      // Not fatal: the lock expires by itself within its ttl; a mark not taken counts as set.
      logger.warn({ err, key: this.key }, 'lock release failed; it expires by itself');
      return takeDue;
    }
    return false;
  }

  /** Re-read after every await: release() or a loss may have happened meanwhile. */
  private stopped(): boolean {
    return this.released || this.signal.aborted;
  }

  private schedule(): void {
    if (this.stopped()) return;
    this.timer = setTimeout(() => void this.extend(), Math.max(1, Math.floor(this.ttlMs / 3)));
    // A held lock must not keep a process alive that has nothing else to do.
    this.timer.unref();
  }

  /**
   * The lock is surely ours until `sentAt + ttl` (the SET or PEXPIRE was sent at `sentAt`). Past
   * that, without a newer successful extension, someone else may hold it: abort the signal then,
   * even while an extension is still stuck waiting for Redis.
   */
  private armDeadline(sentAt: number): void {
    clearTimeout(this.deadline);
    const left = sentAt + this.ttlMs - performance.now();
    this.deadline = setTimeout(
      () => {
        this.lose(new LockLostError(this.key, { cause: new Error('not extended within its ttl') }));
      },
      Math.max(0, left),
    );
    this.deadline.unref();
  }

  private async extend(): Promise<void> {
    if (this.stopped()) return;
    const sentAt = performance.now();
    const { redis, logger } = this.options;
    try {
      const reply = await EXTEND_LOCK_SCRIPT.run(redis, [this.redisKey], [this.token, this.ttlMs]);
      if (this.stopped()) return;
      if (Number(reply) !== 1) {
        this.lose(new LockLostError(this.key));
        return;
      }
      this.armDeadline(sentAt);
    } catch (err) {
      if (this.stopped()) return;
      // The deadline aborts the signal if no retry succeeds in time.
      logger.warn({ err, key: this.key }, 'lock extension failed; retrying');
    }
    this.schedule();
  }

  private lose(reason: LockLostError, log = true): void {
    clearTimeout(this.timer);
    clearTimeout(this.deadline);
    this.locker.forget(this);
    if (this.signal.aborted) return;
    if (log) this.options.logger.warn({ key: this.key, err: reason.cause }, 'lock lost');
    this.controller.abort(reason);
  }
}

/** `SET key token NX PX ttl`; extended and released by compare-token Lua scripts. */
export class RedisLocker implements Locker {
  private readonly held = new Set<RedisLock>();

  constructor(private readonly options: RedisLockerOptions) {}

  tryLock(key: string, ttlMs: number = DEFAULT_LOCK_TTL_MS): Promise<Lock | null> {
    return this.take(key, ttlMs, false);
  }

  tryLockDue(key: string, ttlMs: number = DEFAULT_LOCK_TTL_MS): Promise<DueLock | null> {
    return this.take(key, ttlMs, true);
  }

  private async take(key: string, ttlMs: number, due: boolean): Promise<RedisLock | null> {
    validateKey('lock key', key);
    const ttl = validatePositive('lock ttlMs', ttlMs);
    const { keys } = this.options;
    const dueKey = due ? keys.due(key) : undefined;
    const lock = new RedisLock(key, keys.lock(key), ttl, this, this.options, dueKey);
    if (!(await lock.take())) return null;
    this.held.add(lock);
    return lock;
  }

  forget(lock: RedisLock): void {
    this.held.delete(lock);
  }

  /** Aborts every held lock's signal and releases them, so other replicas need not wait for the ttl. */
  async close(): Promise<void> {
    const locks = [...this.held];
    for (const lock of locks) lock.abandon();
    await Promise.all(locks.map((lock) => lock.release()));
  }
}
