import { describe, expect, it } from 'vitest';
import { teamStatsText } from './team-stats';

describe('teamStatsText', () => {
  const now = new Date('2026-12-06T12:00:00Z');

  it('shows the queue with its longest wait and each online agent’s load and level', () => {
    const text = teamStatsText(
      {
        open: 4,
        waiting: 1,
        oldestWaitingSince: new Date(now.getTime() - 185_000),
        online: [
          { name: 'Dana', load: 2, capacity: 3, level: null },
          { name: 'Lee', load: 0, capacity: 2, level: 2 },
        ],
      },
      now,
    );
    expect(text).toBe(
      '📊 Open: 4 · Waiting: 1, the longest for 3 min\n🟢 Online: Dana 2/3 · Lee (L2) 0/2',
    );
  });

  it('says nobody is online and leaves out the wait when nothing waits', () => {
    expect(teamStatsText({ open: 0, waiting: 0, oldestWaitingSince: null, online: [] }, now)).toBe(
      '📊 Open: 0 · Waiting: 0\n🟢 Online: nobody',
    );
  });
});
