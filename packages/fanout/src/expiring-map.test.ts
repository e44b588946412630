import { describe, expect, it } from 'vitest';
import { ExpiringMap } from './expiring-map';

describe('ExpiringMap', () => {
  it('forgets an entry once its time is up', () => {
    const map = new ExpiringMap<string>();
    map.set('a', 'x', 100, 0);
    expect(map.get('a', 99)).toBe('x');
    expect(map.ttl('a', 40)).toBe(60);
    expect(map.get('a', 100)).toBeUndefined();
    expect(map.ttl('a', 100)).toBe(0);
    expect(map.size).toBe(0);
  });

  it('sweeps expired entries once it has doubled, so unread keys do not pile up', () => {
    const map = new ExpiringMap<number>(4);
    for (let i = 0; i < 3; i++) map.set(`old${String(i)}`, i, 10, 0);
    map.set('fresh', 1, 1000, 20);
    // The fourth set reached the threshold and swept the three expired entries.
    expect(map.size).toBe(1);
  });
});
