import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { telegramHeaderSecret } from './telegram-webhook';

describe("a tenant's Telegram header secret", () => {
  it('is HMAC-SHA256(webhook secret, "telegram header") in base64url, 32 characters', () => {
    const expected = createHmac('sha256', 'wh_example')
      .update('telegram header')
      .digest('base64url')
      .slice(0, 32);
    expect(telegramHeaderSecret('wh_example')).toBe(expected);
    expect(telegramHeaderSecret('wh_example')).toMatch(/^[A-Za-z0-9_-]{32}$/);
  });

  it('differs between tenants and never equals the path secret', () => {
    expect(telegramHeaderSecret('wh_a')).not.toBe(telegramHeaderSecret('wh_b'));
    expect(telegramHeaderSecret('wh_a')).not.toContain('wh_a');
  });
});
