import { describe, expect, it } from 'vitest';
import { RetryLaterError } from './errors';
import { backoffDelay, settleFailure } from './retry-policy';

describe('backoffDelay', () => {
  it('uses the n-th delay for the n-th failure and repeats the last one', () => {
    const backoff = [10, 20, 30];
    expect([1, 2, 3, 4, 50].map((count) => backoffDelay(backoff, count))).toEqual([
      10, 20, 30, 30, 30,
    ]);
  });
});

describe('settleFailure', () => {
  const policy = { maxDeliver: 3, backoffMs: [100, 200] };

  it('naks with the backoff delay before the last delivery', () => {
    expect(settleFailure(new Error('boom'), 2, policy)).toEqual({ kind: 'nak', delayMs: 200 });
  });

  it("naks with a RetryLaterError's own delay", () => {
    expect(settleFailure(new RetryLaterError('429', 1234.2), 1, policy)).toEqual({
      kind: 'nak',
      delayMs: 1235,
    });
  });

  it('terminates on the last allowed delivery, even for RetryLaterError', () => {
    expect(settleFailure(new Error('boom'), 3, policy)).toEqual({
      kind: 'term',
      reason: 'max_deliver',
    });
    expect(settleFailure(new RetryLaterError('429', 10), 3, policy).kind).toBe('term');
  });

  it('never terminates with maxDeliver Infinity', () => {
    expect(settleFailure(new Error('boom'), 1e9, { ...policy, maxDeliver: Infinity }).kind).toBe(
      'nak',
    );
  });
});
