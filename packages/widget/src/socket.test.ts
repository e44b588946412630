import { expect, it } from 'vitest';
import { backoff } from './socket';

it('backs off exponentially with jitter in the upper half, capped', () => {
  expect(backoff(0, 500, 15_000, () => 0)).toBe(250);
  expect(backoff(0, 500, 15_000, () => 1)).toBe(500);
  expect(backoff(3, 500, 15_000, () => 0.5)).toBe(3000);
  expect(backoff(20, 500, 15_000, () => 1)).toBe(15_000);
  expect(backoff(20, 500, 15_000, () => 0)).toBe(7500);
});
