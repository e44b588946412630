/**
 * How long a lock survives a dead holder. Holders extend it every third of this, so a live holder
 * keeps it however long Telegram's budgets make it wait.
 */
export const DEFAULT_LOCK_TTL_MS = 15_000;
