import { describe, expect, it } from 'vitest';
import { redactQuery, redactUrlPath } from './redact';

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
