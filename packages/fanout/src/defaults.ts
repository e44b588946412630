/**
 * How long a lock survives a dead holder. Holders extend it every third of this, so a live holder
 * keeps it however long Telegram's budgets make it wait.
 */
export const DEFAULT_LOCK_TTL_MS = 15_000;

/**
 * How long a due mark (`Locker.tryLockDue`) outlives its last setter when no holder takes it: long
 * enough for any hold, so it never expires under a live holder; it only keeps Redis tidy.
 */
export const DUE_MARK_TTL_MS = 60 * 60_000;
