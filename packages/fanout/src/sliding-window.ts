/**
 * Sliding-window log, the in-process twin of the Lua script in `redis/scripts.ts`: a log holds
 * the timestamps of recorded uses in ascending order; a use leaves the window `windowMs` after it
 * was recorded.
 */

/** Drops the timestamps that have left the window (recorded at or before `now - windowMs`). */
export function trimLog(log: number[], now: number, windowMs: number): void {
  const cutoff = now - windowMs;
  let drop = 0;
  while (drop < log.length && (log[drop] as number) <= cutoff) drop++;
  if (drop > 0) log.splice(0, drop);
}

/**
 * Milliseconds until a trimmed log has room for one more use; 0 when it has room now. With
 * `count >= limit`, room appears when the use at index `count - limit` leaves the window.
 */
export function waitForRoom(
  log: readonly number[],
  limit: number,
  windowMs: number,
  now: number,
): number {
  if (log.length < limit) return 0;
  const mustLeave = log[log.length - limit] as number;
  return Math.max(1, Math.ceil(mustLeave + windowMs - now));
}
