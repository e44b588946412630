import { describe, expect, it, vi } from 'vitest';
import { acquireLoop, sleep, withJitter } from './acquire';

describe('withJitter', () => {
  it('adds at most 10% and never more than 50 ms', () => {
    expect(withJitter(1000, () => 0)).toBe(1000);
    expect(withJitter(1000, () => 0.999)).toBe(1050);
    expect(withJitter(100, () => 0.999)).toBe(110);
    expect(withJitter(5, () => 0.999)).toBe(6);
  });
});

describe('sleep', () => {
  it('rejects with the abort reason, at once if already aborted', async () => {
    const reason = new Error('stop');
    await expect(sleep(10_000, AbortSignal.abort(reason))).rejects.toBe(reason);
    const controller = new AbortController();
    const sleeping = sleep(10_000, controller.signal);
    controller.abort(reason);
    await expect(sleeping).rejects.toBe(reason);
  });
});

describe('acquireLoop', () => {
  it('retries after each wait and reports it', async () => {
    const answers = [5, 3, 0];
    const tryAcquire = vi.fn(() => Promise.resolve(answers.shift() ?? 0));
    const onWait = vi.fn();
    await acquireLoop(tryAcquire, [], { onWait });
    expect(tryAcquire).toHaveBeenCalledTimes(3);
    expect(onWait.mock.calls).toEqual([[5], [3]]);
  });

  it('does not try at all with an aborted signal', async () => {
    const tryAcquire = vi.fn(() => Promise.resolve(0));
    await expect(
      acquireLoop(tryAcquire, [], { signal: AbortSignal.abort(new Error('x')) }),
    ).rejects.toThrow('x');
    expect(tryAcquire).not.toHaveBeenCalled();
  });
});
