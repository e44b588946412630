import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, RateLimiter } from './limits';

const group = { botId: 1, chatId: -100, isGroup: true };
const privateChat = { botId: 1, chatId: 42, isGroup: false };

describe('RateLimiter', () => {
  it('accepts everything while disabled', () => {
    const limiter = new RateLimiter({ ...DEFAULT_LIMITS, enabled: false });
    for (let i = 0; i < 100; i += 1) limiter.record(group, 0);
    expect(limiter.retryAfter(group, 0)).toBe(0);
  });

  it('answers the whole seconds until the oldest call in a full window leaves it', () => {
    const limiter = new RateLimiter({
      ...DEFAULT_LIMITS,
      enabled: true,
      perChatPerSecond: 100,
      globalPerSecond: 100,
    });
    for (let i = 0; i < 20; i += 1) limiter.record(group, 1_000 + i * 100);
    expect(limiter.retryAfter(group, 3_000)).toBe(58); // 1_000 + 60_000 - 3_000 = 58 s
    expect(limiter.retryAfter(group, 60_999)).toBe(1); // at least 1
    expect(limiter.retryAfter(group, 61_000)).toBe(0); // the first call left the window
  });

  it('limits a private chat per second but not by the group budget', () => {
    const limiter = new RateLimiter({ ...DEFAULT_LIMITS, enabled: true, chatBurst: 1 });
    limiter.record(privateChat, 0);
    expect(limiter.retryAfter(privateChat, 500)).toBe(1);
    expect(limiter.retryAfter(privateChat, 1_000)).toBe(0);
  });

  it('lets a chat take a short burst, then holds it to its rate on average', () => {
    const limiter = new RateLimiter({ ...DEFAULT_LIMITS, enabled: true, perGroupPerMinute: 100 });
    for (const at of [0, 10, 20]) {
      expect(limiter.retryAfter(group, at)).toBe(0);
      limiter.record(group, at);
    }
    expect(limiter.retryAfter(group, 30)).toBe(3); // the burst is paid back first
    expect(limiter.retryAfter(group, 2_999)).toBe(1);
    expect(limiter.retryAfter(group, 3_000)).toBe(0);
  });

  it('counts every chat of a bot against its global budget', () => {
    const limiter = new RateLimiter({ ...DEFAULT_LIMITS, enabled: true, globalPerSecond: 3 });
    for (let chatId = 1; chatId <= 3; chatId += 1)
      limiter.record({ botId: 1, chatId, isGroup: false }, 0);
    expect(limiter.retryAfter({ botId: 1, chatId: 4, isGroup: false }, 10)).toBe(1);
    expect(limiter.retryAfter({ botId: 2, chatId: 4, isGroup: false }, 10)).toBe(0);
  });

  it('keeps one group window per bot: a second bot in the same group has its own budget', () => {
    const limiter = new RateLimiter({
      ...DEFAULT_LIMITS,
      enabled: true,
      perChatPerSecond: 100,
      globalPerSecond: 100,
      perGroupPerMinute: 2,
    });
    const otherBot = { ...group, botId: 2 };
    limiter.record(group, 0);
    limiter.record(group, 1);
    expect(limiter.retryAfter(group, 2)).toBeGreaterThan(0);
    expect(limiter.retryAfter(otherBot, 2)).toBe(0);
  });
});
