import { describe, expect, it } from 'vitest';
import { BusInvalidOptionError } from './errors';
import { consumeDefaults, normalizeConsumeOptions } from './options';

describe('normalizeConsumeOptions', () => {
  it('fills in the defaults: one at a time, in order', () => {
    const options = normalizeConsumeOptions({ durable: 'bridge' });
    expect(options).toMatchObject({
      durable: 'bridge',
      maxAckPending: 1,
      ackWaitMs: consumeDefaults.ackWaitMs,
      maxDeliver: consumeDefaults.maxDeliver,
      backoffMs: consumeDefaults.backoffMs,
    });
  });

  it.each([
    { durable: 'a.b' },
    { durable: 'ok', maxAckPending: 0 },
    { durable: 'ok', maxAckPending: 1.5 },
    { durable: 'ok', ackWaitMs: 0 },
    { durable: 'ok', maxDeliver: 0 },
    { durable: 'ok', backoffMs: [] },
    { durable: 'ok', backoffMs: [-1] },
  ])('refuses %j', (options) => {
    expect(() => normalizeConsumeOptions(options)).toThrow(BusInvalidOptionError);
  });

  it('accepts maxDeliver Infinity', () => {
    expect(normalizeConsumeOptions({ durable: 'ok', maxDeliver: Infinity }).maxDeliver).toBe(
      Infinity,
    );
  });
});
