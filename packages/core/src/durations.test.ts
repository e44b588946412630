import { expect, it } from 'vitest';
import { formatDuration } from './durations';

it('writes seconds, minutes, hours and days the way agents read them', () => {
  expect(formatDuration(45)).toBe('45 s');
  expect(formatDuration(89.4)).toBe('89 s');
  expect(formatDuration(180)).toBe('3 min');
  expect(formatDuration(185)).toBe('3 min');
  expect(formatDuration(5400)).toBe('1 h 30 min');
  expect(formatDuration(7200)).toBe('2 h');
  expect(formatDuration(3 * 86_400 + 3 * 3600)).toBe('3 d 3 h');
  expect(formatDuration(-5)).toBe('0 s');
});
