import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The schedulers' clock for a suite: the processes read their offset from real time in `file`
 * (SCHEDULER_CLOCK_FILE, a test hook), so a test moves it forward with `set` instead of waiting.
 */
export function schedulerClock() {
  const dir = mkdtempSync(join(tmpdir(), 'topicdesk-clock-'));
  const file = join(dir, 'offset');
  const set = (ms: number) => writeFileSync(file, String(ms));
  set(0);
  return {
    file,
    set,
    /** Several scheduler ticks of every replica, then whatever the bridge has to send. */
    settle: () => new Promise((resolve) => setTimeout(resolve, 1500)),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
