import { describe, expect, it } from 'vitest';
import { trimLog, waitForRoom } from './sliding-window';

describe('trimLog', () => {
  it('drops uses recorded at or before now - window', () => {
    const log = [100, 200, 300, 400];
    trimLog(log, 1200, 1000);
    expect(log).toEqual([300, 400]);
  });
});

describe('waitForRoom', () => {
  it('is 0 while the log holds fewer uses than the limit', () => {
    expect(waitForRoom([], 1, 1000, 0)).toBe(0);
    expect(waitForRoom([10, 20], 3, 1000, 30)).toBe(0);
  });

  it('waits until the use that must leave for a free slot leaves the window', () => {
    // limit 2: the oldest of the two newest (index 1) must leave; it was at 200.
    expect(waitForRoom([100, 200, 300], 2, 1000, 500)).toBe(700);
    expect(waitForRoom([100, 200], 2, 1000, 500)).toBe(600);
  });

  it('never answers 0 for a full log, and rounds fractional clocks up', () => {
    expect(waitForRoom([0.2], 1, 1000, 1000.1)).toBe(1);
    expect(waitForRoom([0.5], 1, 10, 2)).toBe(9);
  });
});
