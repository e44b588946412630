/** A JSON-serialisable object (WS frames plus an origin marker, in practice). */
export type FanoutEvent = Readonly<Record<string, unknown>>;

/** A listener that throws, or returns a promise that rejects, is logged and skipped. */
export type FanoutListener = (event: FanoutEvent) => void;

export interface Health {
  ok: boolean;
  detail?: string;
}

export interface Fanout {
  /** Sends the event to every listener of the conversation, in this process and in every other. */
  publish(conversationId: string, event: FanoutEvent): Promise<void>;
  /**
   * Ref-counted: the first local listener of a conversation subscribes the channel, the last one
   * to leave unsubscribes. Resolves once the subscription is active, so a caller can then read
   * history without a gap. The listener may already be called before the promise resolves.
   * Resolves to an idempotent unsubscribe function.
   */
  subscribe(conversationId: string, listener: FanoutListener): Promise<() => Promise<void>>;
  /**
   * Called after the connection to Redis came back and every channel is subscribed again
   * (events published meanwhile were lost; callers recover from their own seq).
   */
  onRecovered(listener: () => void): () => void;
  health(): Health;
  close(): Promise<void>;
}

/** A sliding-window budget: at most `limit` uses in any `windowMs`. */
export interface Budget {
  key: string;
  limit: number;
  windowMs: number;
}

export interface AcquireOptions {
  signal?: AbortSignal;
  onWait?: (ms: number) => void;
}

export interface AnyAcquired {
  /** The candidate that got a use, or -1. */
  index: number;
  /** 0 when acquired; otherwise ms until some candidate would have room. */
  waitMs: number;
}

export interface BudgetLimiter {
  /**
   * Atomically: if every budget has room, records one use in each and returns 0; otherwise
   * records nothing and returns the ms to wait until all would have room.
   */
  tryAcquire(budgets: readonly Budget[]): Promise<number>;
  /**
   * Loops tryAcquire + sleep (with a small jitter) until acquired or the signal aborts (then
   * rejects with `signal.reason`); calls onWait(ms) each time it waits.
   */
  acquire(budgets: readonly Budget[], options?: AcquireOptions): Promise<void>;
  /**
   * Atomically, over several candidates (each a set of budgets, e.g. one per bot of a pool):
   * among those whose every budget has room, takes the one with the most room left (the first
   * on a tie), records one use in each of its budgets and returns its index with `waitMs` 0.
   * When none has room, records nothing and returns index -1 with the ms until the first would.
   */
  tryAcquireAny(candidates: ReadonlyArray<readonly Budget[]>): Promise<AnyAcquired>;
  /** Telegram answered 429 retry_after: blocks these budgets that long for every replica. Never shortens a block. */
  penalize(budgets: readonly Budget[], ms: number): Promise<void>;
  /**
   * How each budget stands now, recording nothing (for status pages): the uses in its window
   * and how long a penalty (`penalize`) still blocks it (0 when none). One entry per distinct key, in order.
   */
  peek(budgets: readonly Budget[]): Promise<BudgetUse[]>;
}

/** A budget as `peek` sees it. */
export interface BudgetUse {
  /** Uses recorded in the last `windowMs`. */
  used: number;
  /** Ms until a penalty ends; 0 when the budget is not blocked. */
  blockedMs: number;
}

export interface QuotaResult {
  allowed: boolean;
  /** Units left in the window after this hit (0 when refused). */
  remaining: number;
  /** 0 when allowed; otherwise ms until one unit frees up. */
  retryAfterMs: number;
  /** When allowed: names the unit this hit took, for `refund`. */
  use?: string;
}

export interface QuotaLimiter {
  /** Sliding window; consumes one unit if allowed. */
  hit(key: string, limit: number, windowMs: number): Promise<QuotaResult>;
  /**
   * Gives back the unit `use` of an allowed hit whose work did not happen (a store that failed),
   * on whichever replica took it. Hit first, refund on failure: counting only after the work
   * succeeded would let concurrent requests on several replicas all pass the check. Idempotent;
   * resolves true if the unit was still in the window and is now free.
   */
  refund(key: string, use: string): Promise<boolean>;
  /** Units taken in the last `windowMs` (a usage report), recording nothing. */
  used(key: string, windowMs: number): Promise<number>;
}

/**
 * Counted holdings that heal: each lease is held until released or until its ttl passes without
 * a `renew`, so the leases of a process that died free themselves (e.g. open sockets counted
 * across replicas, each replica renewing its own).
 */
export interface LeaseCounter {
  /**
   * Atomically: forgets the key's expired leases; when `lease` is held already, extends it and
   * answers true; when fewer than `limit` are held, records `lease` for `ttlMs` and answers
   * true; else answers false and records nothing.
   */
  hold(key: string, lease: string, limit: number, ttlMs: number): Promise<boolean>;
  /** Extends the given leases of `key` still held to `ttlMs` from now (an expired one stays gone). */
  renew(key: string, leases: readonly string[], ttlMs: number): Promise<void>;
  /** Idempotent. */
  release(key: string, lease: string): Promise<void>;
  /** Leases of `key` held now. */
  count(key: string): Promise<number>;
}

export interface Lock {
  /** Aborts (reason: `LockLostError`) when the lock could not be extended and may be held by someone else. */
  readonly signal: AbortSignal;
  /** Idempotent; releases only if still ours. */
  release(): Promise<void>;
}

/** A lock taken by `tryLockDue`: its release also answers whether the key was marked due meanwhile. */
export interface DueLock extends Lock {
  /**
   * Releases the lock (if still ours) and, in the same atomic step, takes and clears the key's
   * due mark: true when someone asked for the key while it was held (then the caller looks
   * again: `tryLockDue` once more). True also when the store could not be asked (looking again
   * is the safe answer). Call it instead of `release()`; a plain `release()` leaves the mark for
   * the next holder, who clears it when it takes the lock.
   */
  releaseAndTakeDue(): Promise<boolean>;
}

export interface Locker {
  /**
   * Returns a held lock or null if someone else holds it. The lock auto-extends (every ttl/3)
   * until released; if extension fails (lost), lock.signal aborts.
   */
  tryLock(key: string, ttlMs?: number): Promise<Lock | null>;
  /**
   * "Work is due on `key`; do it if nobody is": in one atomic step, marks the key due and tries
   * to lock it; when the lock is taken the mark is cleared in that same step (the new holder
   * looks at the work after this, so it sees whatever the mark stood for). Null when another
   * holds the lock: the mark stays, and the holder's `releaseAndTakeDue` reports it.
   *
   * Why nothing is missed: say a caller's work became visible before its tryLockDue (T), and
   * the lock was held then, by H. Then the mark is set at T, and it is cleared only (1) by a
   * tryLockDue that takes the lock after T — that holder looks after T, so it sees the work —
   * or (2) by H's releaseAndTakeDue, which answers true, so H looks again: either it takes the
   * lock (and looks after T) or someone holds it, which brings us back to (1) or (2) with a
   * later holder. A mark set after the holder's last look is thus always seen, by the holder
   * or by whoever takes the lock next. Marks expire after an hour (a holder that died leaves
   * its work to the caller's own recovery, e.g. a redelivery or a sweep).
   */
  tryLockDue(key: string, ttlMs?: number): Promise<DueLock | null>;
}

export interface Deduper {
  /** True the first time a key is seen within ttl. */
  firstSeen(key: string, ttlMs: number): Promise<boolean>;
}

export interface Coordination {
  readonly fanout: Fanout;
  readonly budgets: BudgetLimiter;
  readonly quotas: QuotaLimiter;
  readonly leases: LeaseCounter;
  readonly locks: Locker;
  readonly dedupe: Deduper;
  health(): Health;
  close(): Promise<void>;
}
