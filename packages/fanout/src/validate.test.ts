import { describe, expect, it } from 'vitest';
import { CoordinationErrorCode } from './errors';
import { normalizeBudgets, validateKey, validateNamespace, validatePositive } from './validate';

const invalid = { code: CoordinationErrorCode.InvalidArgument };

describe('validateNamespace', () => {
  it('accepts letters, digits, dash and underscore only', () => {
    expect(validateNamespace('topicdesk_test-1')).toBe('topicdesk_test-1');
    for (const bad of ['', 'a:b', 'a b', 'a*', 'ü']) {
      expect(() => validateNamespace(bad)).toThrow(expect.objectContaining(invalid) as Error);
    }
  });
});

describe('validateKey', () => {
  it('accepts any non-empty string up to 512 characters', () => {
    expect(validateKey('k', 'ip:::1')).toBe('ip:::1');
    expect(() => validateKey('k', '')).toThrow(expect.objectContaining(invalid) as Error);
    expect(() => validateKey('k', 'x'.repeat(513))).toThrow(
      expect.objectContaining(invalid) as Error,
    );
  });
});

describe('validatePositive', () => {
  it('rounds up and refuses zero, negatives and non-finite numbers', () => {
    expect(validatePositive('n', 1)).toBe(1);
    expect(validatePositive('n', 1.2)).toBe(2);
    for (const bad of [0, 0.5, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => validatePositive('n', bad)).toThrow(expect.objectContaining(invalid) as Error);
    }
  });
});

describe('normalizeBudgets', () => {
  it('merges exact duplicates and keeps the order of first appearance', () => {
    expect(
      normalizeBudgets([
        { key: 'bot', limit: 30, windowMs: 1000 },
        { key: 'chat', limit: 1, windowMs: 1000 },
        { key: 'bot', limit: 30, windowMs: 1000 },
      ]),
    ).toEqual([
      { key: 'bot', limit: 30, windowMs: 1000 },
      { key: 'chat', limit: 1, windowMs: 1000 },
    ]);
  });

  it('refuses one key with two different limits', () => {
    expect(() =>
      normalizeBudgets([
        { key: 'bot', limit: 30, windowMs: 1000 },
        { key: 'bot', limit: 20, windowMs: 1000 },
      ]),
    ).toThrow(expect.objectContaining(invalid) as Error);
  });
});
