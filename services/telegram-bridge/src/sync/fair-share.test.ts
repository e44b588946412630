import { describe, expect, it } from 'vitest';
import { FairShare } from './fair-share';

describe('FairShare', () => {
  it('gives each tenant max(minimum, total ÷ tenants) places', () => {
    let tenants = 1;
    const fair = new FairShare({ total: 512, minimum: 8, tenants: () => tenants });
    expect(fair.cap).toBe(512);
    tenants = 4;
    expect(fair.cap).toBe(128);
    tenants = 100;
    expect(fair.cap).toBe(8);
  });

  it('hands out places to a tenant up to its share, and never counts one against another', async () => {
    const fair = new FairShare({ total: 4, minimum: 2, tenants: () => 2 });
    const a1 = await fair.enter('a', 0);
    const a2 = await fair.enter('a', 0);
    expect(a1).toBeTypeOf('function');
    expect(a2).toBeTypeOf('function');
    expect(await fair.enter('a', 10)).toBeUndefined();
    expect(await fair.enter('b', 0)).toBeTypeOf('function');
    expect(fair.inFlight('a')).toBe(2);
    expect(fair.inFlight('b')).toBe(1);
    a1?.();
    a1?.(); // a second release changes nothing
    expect(fair.inFlight('a')).toBe(1);
  });

  it('lets a delivery over the share wait for a place that frees up within the wait', async () => {
    const fair = new FairShare({ total: 1, minimum: 1, tenants: () => 1 });
    const first = await fair.enter('a', 0);
    const waiting = fair.enter('a', 1000);
    setTimeout(() => first?.(), 20);
    const second = await waiting;
    expect(second).toBeTypeOf('function');
    expect(fair.inFlight('a')).toBe(1);
  });
});
