import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MiniAppRefusal, verifyInitData } from './mini-app';

const TOKEN = '123456:bridge-test-token';
const NOW = Date.UTC(2026, 11, 6, 12, 0, 0);
const MAX_AGE = 300_000;

/** Signed as Telegram documents it, written here on its own rather than shared with the code. */
function sign(fields: Record<string, string>, token = TOKEN): string {
  const check = Object.entries(fields)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join('\n');
  const key = createHmac('sha256', 'WebAppData').update(token).digest();
  const hash = createHmac('sha256', key).update(check).digest('hex');
  return new URLSearchParams({ ...fields, hash }).toString();
}

const fields = (authDate = NOW / 1000, user = { id: 5_813_920_476, first_name: 'Ann' }) => ({
  query_id: 'AAHdF6IQAAAAAN0XohDhrOrc',
  user: JSON.stringify(user),
  auth_date: String(authDate),
  chat_type: 'private',
});

describe('verifyInitData', () => {
  it("accepts data signed with the bot's token and names its user", () => {
    const verdict = verifyInitData(sign(fields()), TOKEN, MAX_AGE, NOW);
    expect(verdict).toMatchObject({
      ok: true,
      telegramUserId: 5_813_920_476,
      authDate: NOW / 1000,
    });
    expect(verdict.ok && verdict.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses another bot, a changed field, a missing or doubled field, no user', () => {
    const genuine = sign(fields());
    const changed = new URLSearchParams(genuine);
    changed.set('user', JSON.stringify({ id: 1, first_name: 'Eve' }));
    const doubled = `${genuine}&user=${encodeURIComponent(JSON.stringify({ id: 1 }))}`;
    const { hash: _, ...unsigned } = Object.fromEntries(new URLSearchParams(genuine));
    const cases = [
      sign(fields(), '654321:other-bot'),
      changed.toString(),
      doubled,
      new URLSearchParams(unsigned).toString(),
      sign({ auth_date: String(NOW / 1000) }),
      sign({ ...fields(), user: '{not json' }),
      sign({ ...fields(), user: JSON.stringify({ id: -5 }) }),
      sign({ ...fields(), auth_date: 'soon' }),
      '',
      'x'.repeat(5000),
    ];
    for (const initData of cases)
      expect(verifyInitData(initData, TOKEN, MAX_AGE, NOW), initData.slice(0, 60)).toMatchObject({
        ok: false,
        code: MiniAppRefusal.invalid,
      });
  });

  it('refuses data older than the allowed age, or from too far in the future', () => {
    expect(verifyInitData(sign(fields(NOW / 1000 - 301)), TOKEN, MAX_AGE, NOW)).toMatchObject({
      ok: false,
      code: MiniAppRefusal.expired,
    });
    expect(verifyInitData(sign(fields(NOW / 1000 - 299)), TOKEN, MAX_AGE, NOW).ok).toBe(true);
    expect(verifyInitData(sign(fields(NOW / 1000 + 600)), TOKEN, MAX_AGE, NOW)).toMatchObject({
      ok: false,
      code: MiniAppRefusal.expired,
    });
  });
});
