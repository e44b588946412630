import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { acquireLoop } from './acquire';
import { DEFAULT_LOCK_TTL_MS } from './defaults';
import { CoordinationClosedError, LockLostError } from './errors';
import {
  deliverEvent,
  liveListeners,
  parseEvent,
  serializeEvent,
  type Subscription,
} from './event';
import { ExpiringMap } from './expiring-map';
import { Gate } from './gate';
import { noopLogger, type Logger } from './logger';
import { trimLog, waitForRoom } from './sliding-window';
import type {
  AcquireOptions,
  AnyAcquired,
  Budget,
  BudgetLimiter,
  BudgetUse,
  Coordination,
  Deduper,
  DueLock,
  Fanout,
  FanoutEvent,
  FanoutListener,
  Health,
  LeaseCounter,
  Lock,
  Locker,
  QuotaLimiter,
  QuotaResult,
} from './types';
import { normalizeBudgets, validateKey, validatePositive } from './validate';

/**
 * The twins used in one-process mode (no Redis). One process means one shared instance: "two
 * replicas" of a service in one process use the same object. Time is `performance.now()`, which
 * never jumps.
 */
export interface InProcessOptions {
  logger?: Logger;
}

const now = (): number => performance.now();

/** Runs synchronous work behind a promise, so a throw becomes a rejection, as with Redis. */
function settle<T>(work: () => T): Promise<T> {
  return new Promise((resolve) => {
    resolve(work());
  });
}

class InProcessFanout implements Fanout {
  private readonly channels = new Map<string, Set<Subscription>>();
  private readonly gate = new Gate();

  constructor(private readonly logger: Logger) {}

  publish(conversationId: string, event: FanoutEvent): Promise<void> {
    return settle(() => {
      this.gate.assertOpen();
      validateKey('conversationId', conversationId);
      // The JSON round trip keeps the twin honest: listeners get a copy, as from Redis, and an
      // event Redis could not carry fails here too.
      const text = serializeEvent(event);
      const subscriptions = this.channels.get(conversationId);
      if (subscriptions === undefined) return;
      const snapshot = [...subscriptions];
      // Delivered asynchronously, as from Redis, so a listener never runs inside publish().
      queueMicrotask(() => {
        const copy = parseEvent(text) as FanoutEvent;
        deliverEvent(liveListeners(snapshot), copy, conversationId, this.logger);
      });
    });
  }

  subscribe(conversationId: string, listener: FanoutListener): Promise<() => Promise<void>> {
    return settle(() => {
      this.gate.assertOpen();
      validateKey('conversationId', conversationId);
      const subscription: Subscription = { listener, active: true };
      let subscriptions = this.channels.get(conversationId);
      if (subscriptions === undefined) {
        subscriptions = new Set();
        this.channels.set(conversationId, subscriptions);
      }
      subscriptions.add(subscription);
      return () =>
        settle(() => {
          subscription.active = false;
          const current = this.channels.get(conversationId);
          current?.delete(subscription);
          if (current?.size === 0) this.channels.delete(conversationId);
        });
    });
  }

  onRecovered(): () => void {
    // Nothing to lose in process: there is no connection to come back.
    return () => {};
  }

  health(): Health {
    return this.gate.closed ? { ok: false, detail: 'closed' } : { ok: true };
  }

  close(): Promise<void> {
    return settle(() => {
      this.gate.closed = true;
      for (const subscriptions of this.channels.values()) {
        for (const subscription of subscriptions) subscription.active = false;
      }
      this.channels.clear();
    });
  }
}

/** Sliding-window logs with the same semantics as `SLIDING_WINDOW_SCRIPT`. */
class WindowStore {
  private readonly logs = new ExpiringMap<number[]>();
  private readonly blocks = new ExpiringMap<true>();

  /** Returns [wait, remaining]: records one use in every budget only if all have room. */
  attempt(budgets: readonly Budget[], at: number = now()): [wait: number, remaining: number] {
    const [wait, remaining] = this.peek(budgets, at);
    if (wait > 0) return [wait, 0];
    for (const budget of budgets) {
      const log = this.logs.get(budget.key, at) ?? [];
      log.push(at);
      this.logs.set(budget.key, log, at + budget.windowMs, at);
    }
    return [0, Number.isFinite(remaining) ? remaining : 0];
  }

  /** How the budgets stand at `at`, recording nothing: [wait, remaining]. */
  peek(budgets: readonly Budget[], at: number = now()): [wait: number, remaining: number] {
    let wait = 0;
    let remaining = Number.POSITIVE_INFINITY;
    for (const budget of budgets) {
      const log = this.logs.get(budget.key, at);
      let count = 0;
      if (log !== undefined) {
        trimLog(log, at, budget.windowMs);
        wait = Math.max(wait, waitForRoom(log, budget.limit, budget.windowMs, at));
        count = log.length;
      }
      wait = Math.max(wait, Math.ceil(this.blocks.ttl(budget.key, at)));
      remaining = Math.min(remaining, budget.limit - count - 1);
    }
    return [wait, remaining];
  }

  /** Takes back one use recorded at `at` in the log of `key`, if it is still in the window. */
  remove(key: string, at: number): boolean {
    const log = this.logs.get(key, now());
    const index = log?.lastIndexOf(at) ?? -1;
    if (index < 0) return false;
    log?.splice(index, 1);
    return true;
  }

  /** Uses in the window and the block's remaining ms, recording nothing. */
  use(budget: Budget, at: number = now()): BudgetUse {
    const log = this.logs.get(budget.key, at);
    if (log !== undefined) trimLog(log, at, budget.windowMs);
    return {
      used: log?.length ?? 0,
      blockedMs: Math.max(0, Math.ceil(this.blocks.ttl(budget.key, at))),
    };
  }

  block(keys: readonly string[], ms: number): void {
    const at = now();
    for (const key of keys) {
      if (this.blocks.ttl(key, at) < ms) this.blocks.set(key, true, at + ms, at);
    }
  }

  clear(): void {
    this.logs.clear();
    this.blocks.clear();
  }
}

class InProcessBudgetLimiter implements BudgetLimiter {
  readonly store = new WindowStore();
  constructor(private readonly gate: Gate) {}

  tryAcquire(budgets: readonly Budget[]): Promise<number> {
    return settle(() => {
      this.gate.assertOpen();
      const normalized = normalizeBudgets(budgets);
      if (normalized.length === 0) return 0;
      return this.store.attempt(normalized)[0];
    });
  }

  acquire(budgets: readonly Budget[], options?: AcquireOptions): Promise<void> {
    return acquireLoop((b) => this.tryAcquire(b), budgets, options);
  }

  tryAcquireAny(candidates: ReadonlyArray<readonly Budget[]>): Promise<AnyAcquired> {
    return settle(() => {
      this.gate.assertOpen();
      const normalized = candidates.map((budgets) => normalizeBudgets(budgets));
      let best = -1;
      let bestRemaining = Number.NEGATIVE_INFINITY;
      let wait = Number.POSITIVE_INFINITY;
      normalized.forEach((budgets, index) => {
        const [w, remaining] = this.store.peek(budgets);
        if (w > 0) wait = Math.min(wait, w);
        else if (remaining > bestRemaining) {
          best = index;
          bestRemaining = remaining;
        }
      });
      if (best >= 0) {
        this.store.attempt(normalized[best] as Budget[]);
        return { index: best, waitMs: 0 };
      }
      return { index: -1, waitMs: Number.isFinite(wait) ? wait : 0 };
    });
  }

  penalize(budgets: readonly Budget[], ms: number): Promise<void> {
    return settle(() => {
      this.gate.assertOpen();
      const normalized = normalizeBudgets(budgets);
      if (!(ms > 0)) return;
      const duration = validatePositive('penalty ms', ms);
      this.store.block(
        normalized.map((b) => b.key),
        duration,
      );
    });
  }

  peek(budgets: readonly Budget[]): Promise<BudgetUse[]> {
    return settle(() => {
      this.gate.assertOpen();
      return normalizeBudgets(budgets).map((budget) => this.store.use(budget));
    });
  }
}

class InProcessQuotaLimiter implements QuotaLimiter {
  readonly store = new WindowStore();
  /** Uses not refunded yet, by key and use, holding when each was recorded; gone with the window. */
  readonly uses = new ExpiringMap<number>();
  #lastUse = 0;
  constructor(private readonly gate: Gate) {}

  hit(key: string, limit: number, windowMs: number): Promise<QuotaResult> {
    return settle(() => {
      this.gate.assertOpen();
      const [budget] = normalizeBudgets([{ key, limit, windowMs }]) as [Budget];
      const at = now();
      const [wait, remaining] = this.store.attempt([budget], at);
      if (wait > 0) return { allowed: false, remaining: 0, retryAfterMs: wait };
      const use = String(++this.#lastUse);
      this.uses.set(useKey(budget.key, use), at, at + budget.windowMs, at);
      return { allowed: true, remaining, retryAfterMs: 0, use };
    });
  }

  refund(key: string, use: string): Promise<boolean> {
    return settle(() => {
      this.gate.assertOpen();
      validateKey('quota key', key);
      validateKey('quota use', use);
      const at = this.uses.get(useKey(key, use), now());
      if (at === undefined) return false;
      this.uses.delete(useKey(key, use));
      // Uses recorded on the same millisecond are alike: taking back any one of them is the same.
      return this.store.remove(key, at);
    });
  }

  used(key: string, windowMs: number): Promise<number> {
    return settle(() => {
      this.gate.assertOpen();
      validateKey('quota key', key);
      const window = validatePositive('windowMs', windowMs);
      return this.store.use({ key, limit: 1, windowMs: window }).used;
    });
  }
}

class InProcessLeaseCounter implements LeaseCounter {
  /** By key: each lease and when it expires. */
  readonly held = new Map<string, Map<string, number>>();
  constructor(private readonly gate: Gate) {}

  /** The key's leases, the expired ones dropped. */
  #live(key: string, at: number): Map<string, number> {
    const leases = this.held.get(key) ?? new Map<string, number>();
    for (const [lease, until] of leases) if (until <= at) leases.delete(lease);
    if (leases.size === 0) this.held.delete(key);
    return leases;
  }

  hold(key: string, lease: string, limit: number, ttlMs: number): Promise<boolean> {
    return settle(() => {
      this.gate.assertOpen();
      validateKey('lease key', key);
      validateKey('lease', lease);
      const max = validatePositive('limit', limit);
      const ttl = validatePositive('ttlMs', ttlMs);
      const at = now();
      const leases = this.#live(key, at);
      if (!leases.has(lease) && leases.size >= max) return false;
      leases.set(lease, at + ttl);
      this.held.set(key, leases);
      return true;
    });
  }

  renew(key: string, leases: readonly string[], ttlMs: number): Promise<void> {
    return settle(() => {
      this.gate.assertOpen();
      validateKey('lease key', key);
      for (const lease of leases) validateKey('lease', lease);
      const ttl = validatePositive('ttlMs', ttlMs);
      const at = now();
      const live = this.#live(key, at);
      for (const lease of leases) if (live.has(lease)) live.set(lease, at + ttl);
    });
  }

  release(key: string, lease: string): Promise<void> {
    return settle(() => {
      this.gate.assertOpen();
      validateKey('lease key', key);
      validateKey('lease', lease);
      const leases = this.held.get(key);
      leases?.delete(lease);
      if (leases?.size === 0) this.held.delete(key);
    });
  }

  count(key: string): Promise<number> {
    return settle(() => {
      this.gate.assertOpen();
      validateKey('lease key', key);
      return this.#live(key, now()).size;
    });
  }
}

function useKey(key: string, use: string): string {
  return `${use}\n${key}`;
}

class InProcessLock implements DueLock {
  readonly token = randomUUID();
  private readonly controller = new AbortController();
  #released: Promise<boolean> | undefined;

  constructor(
    private readonly key: string,
    private readonly locker: InProcessLocker,
  ) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  async release(): Promise<void> {
    await this.#release(false);
  }

  /** As RELEASE_AND_TAKE_DUE_SCRIPT: the release and the take of the mark in one step. */
  releaseAndTakeDue(): Promise<boolean> {
    return this.#release(true);
  }

  /** Once; later calls answer as the first (as the Redis lock's). */
  #release(takeDue: boolean): Promise<boolean> {
    this.#released ??= settle(() => {
      const { held, due } = this.locker;
      if (held.get(this.key) === this) held.delete(this.key);
      return takeDue && due.delete(this.key);
    });
    return this.#released;
  }

  /** Only on close: the lock's owner must stop what it guards. */
  abandon(): void {
    this.controller.abort(new LockLostError(this.key, { cause: new CoordinationClosedError() }));
  }
}

class InProcessLocker implements Locker {
  readonly held = new Map<string, InProcessLock>();
  /** Keys marked due by `tryLockDue` while held (no expiry: a holder here cannot die alone). */
  readonly due = new Set<string>();
  constructor(private readonly gate: Gate) {}

  tryLock(key: string, ttlMs: number = DEFAULT_LOCK_TTL_MS): Promise<Lock | null> {
    return this.take(key, ttlMs, false);
  }

  /** As LOCK_OR_MARK_DUE_SCRIPT: the mark and the lock in one step. */
  tryLockDue(key: string, ttlMs: number = DEFAULT_LOCK_TTL_MS): Promise<DueLock | null> {
    return this.take(key, ttlMs, true);
  }

  private take(key: string, ttlMs: number, due: boolean): Promise<InProcessLock | null> {
    return settle(() => {
      this.gate.assertOpen();
      validateKey('lock key', key);
      // The TTL guards against a dead holder; in one process the holder cannot die alone.
      validatePositive('lock ttlMs', ttlMs);
      if (this.held.has(key)) {
        if (due) this.due.add(key);
        return null;
      }
      if (due) this.due.delete(key);
      const lock = new InProcessLock(key, this);
      this.held.set(key, lock);
      return lock;
    });
  }

  close(): void {
    for (const lock of this.held.values()) lock.abandon();
    this.held.clear();
    this.due.clear();
  }
}

class InProcessDeduper implements Deduper {
  readonly seen = new ExpiringMap<true>();
  constructor(private readonly gate: Gate) {}

  firstSeen(key: string, ttlMs: number): Promise<boolean> {
    return settle(() => {
      this.gate.assertOpen();
      validateKey('dedupe key', key);
      const ttl = validatePositive('dedupe ttlMs', ttlMs);
      const at = now();
      if (this.seen.get(key, at) !== undefined) return false;
      this.seen.set(key, true, at + ttl, at);
      return true;
    });
  }
}

export function createInProcessFanout(options: InProcessOptions = {}): Fanout {
  return new InProcessFanout(options.logger ?? noopLogger);
}

export function createInProcessBudgetLimiter(): BudgetLimiter {
  return new InProcessBudgetLimiter(new Gate());
}

export function createInProcessQuotaLimiter(): QuotaLimiter {
  return new InProcessQuotaLimiter(new Gate());
}

export function createInProcessLocker(): Locker {
  return new InProcessLocker(new Gate());
}

export function createInProcessDeduper(): Deduper {
  return new InProcessDeduper(new Gate());
}

export function createInProcessCoordination(options: InProcessOptions = {}): Coordination {
  const gate = new Gate();
  const fanout = new InProcessFanout(options.logger ?? noopLogger);
  const budgets = new InProcessBudgetLimiter(gate);
  const quotas = new InProcessQuotaLimiter(gate);
  const leases = new InProcessLeaseCounter(gate);
  const locks = new InProcessLocker(gate);
  const dedupe = new InProcessDeduper(gate);
  return {
    fanout,
    budgets,
    quotas,
    leases,
    locks,
    dedupe,
    health: () => (gate.closed ? { ok: false, detail: 'closed' } : fanout.health()),
    async close() {
      if (gate.closed) return;
      gate.closed = true;
      locks.close();
      budgets.store.clear();
      quotas.store.clear();
      quotas.uses.clear();
      leases.held.clear();
      dedupe.seen.clear();
      await fanout.close();
    },
  };
}
