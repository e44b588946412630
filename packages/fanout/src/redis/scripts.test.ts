import { describe, expect, it } from 'vitest';
import { parseWindowReply, SLIDING_WINDOW_SCRIPT } from './scripts';

describe('parseWindowReply', () => {
  it('reads {wait, remaining[, member]} and refuses anything else', () => {
    expect(parseWindowReply([0, 4])).toEqual([0, 4, undefined]);
    expect(parseWindowReply([0, 4, '17-abc'])).toEqual([0, 4, '17-abc']);
    expect(parseWindowReply([250, 0])).toEqual([250, 0, undefined]);
    expect(() => parseWindowReply([0, 4, 5])).toThrow();
    expect(() => parseWindowReply('OK')).toThrow();
    expect(() => parseWindowReply([1])).toThrow();
    expect(() => parseWindowReply(['x', 1])).toThrow();
  });
});

describe('LuaScript', () => {
  it('is addressed by the SHA1 of its source', () => {
    expect(SLIDING_WINDOW_SCRIPT.sha).toMatch(/^[0-9a-f]{40}$/);
  });
});
