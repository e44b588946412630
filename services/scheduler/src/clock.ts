import { readFileSync } from 'node:fs';

/**
 * The scheduler's clock. In production, the system clock. For tests (and rehearsing jobs),
 * SCHEDULER_CLOCK_FILE names a file holding an offset in milliseconds that is added to it; the
 * file is read on every call, so a test moves time forward for every scheduler process at once.
 */
export function schedulerClock(clockFile: string | undefined): () => Date {
  if (!clockFile) return () => new Date();
  return () => {
    let offset = 0;
    try {
      offset = Number(readFileSync(clockFile, 'utf8').trim()) || 0;
    } catch {
      offset = 0; // no file yet: no offset
    }
    return new Date(Date.now() + offset);
  };
}
