import { describe, expect, it } from 'vitest';
import { redactQuery, redactUrlPath, secretValues } from './redact';

describe('redactUrlPath', () => {
  it('hides the Bot API token in a Bot API path', () => {
    expect(redactUrlPath('/bot123456:AAE-secret_token/sendMessage')).toBe(
      '/bot<redacted>/sendMessage',
    );
    expect(redactUrlPath('/file/bot123:abc/photos/file_1.jpg')).toBe(
      '/file/bot<redacted>/photos/file_1.jpg',
    );
  });

  it('hides the webhook secret path segment', () => {
    expect(redactUrlPath('/v1/telegram/webhook/hook-0123abcd')).toBe(
      '/v1/telegram/webhook/:secret',
    );
  });

  it('hides token values in the query and keeps the other parameters', () => {
    expect(redactUrlPath('/v1/ws?token=eyJhbGciOi.x.y&lang=en')).toBe(
      '/v1/ws?token=REDACTED&lang=en',
    );
    expect(redactQuery('after=3&TOKEN=abc&limit=10')).toBe('after=3&TOKEN=REDACTED&limit=10');
  });

  it('leaves ordinary paths alone', () => {
    expect(redactUrlPath('/v1/conversations/8f0c/messages?after=2')).toBe(
      '/v1/conversations/8f0c/messages?after=2',
    );
    expect(redactUrlPath('/robots.txt')).toBe('/robots.txt');
    expect(redactUrlPath('/v1/bots/42')).toBe('/v1/bots/42');
  });
});

describe('secretValues', () => {
  it('takes variables named like secrets, lists split, URL passwords and OTLP header values', () => {
    const values = secretValues({
      BOT_TOKEN: '123:abcdefgh',
      TELEGRAM_SENDER_BOT_TOKENS: '2000001:sender-one,2000002:sender-two',
      TELEGRAM_USER_KEY_PREVIOUS: 'old-key-value',
      CONVERSATION_JWT_SECRET: 'x'.repeat(32),
      DATABASE_URL: 'postgres://app:pa%24%24word@db:5432/app',
      REDIS_URL: 'redis://cache:6379',
      OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20otlp-token-1',
      TOKEN_TTL: '3600000ms',
      LOG_LEVEL: 'info',
      SERVICE_TOKEN: 'short',
      TENANT_KEK: 'k2:bmV3LWtleS1vZi10aGlydHktdHdvLWJ5dGVzLi4uLi4=',
      TENANT_KEKS_PREVIOUS: 'k1:b2xkLWtleS1vZi10aGlydHktdHdvLWJ5dGVzLi4uLi4=',
    });
    expect(values).toEqual(
      expect.arrayContaining([
        '123:abcdefgh',
        '2000001:sender-one',
        '2000002:sender-two',
        'old-key-value',
        'x'.repeat(32),
        'pa$$word',
        'Bearer otlp-token-1',
        'k2:bmV3LWtleS1vZi10aGlydHktdHdvLWJ5dGVzLi4uLi4=',
        'bmV3LWtleS1vZi10aGlydHktdHdvLWJ5dGVzLi4uLi4=',
        'b2xkLWtleS1vZi10aGlydHktdHdvLWJ5dGVzLi4uLi4=',
      ]),
    );
    expect(values).not.toContain('3600000ms');
    expect(values).not.toContain('info');
    // Too short to scrub without blanking ordinary words.
    expect(values).not.toContain('short');
  });
});
