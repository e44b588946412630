import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLATFORM_COOKIE, platformCookie, platformCookieExpiry } from '../src/platform-session';
import { startGatewayUnderTest, type GatewayUnderTest } from './gateway-under-test';

// The console's platform view: PLATFORM_TOKEN is exchanged once for an httpOnly cookie that the
// platform API takes instead of the token, with CSRF protection on changes.

const PLATFORM_TOKEN = 'platform-token-of-the-console-test-0123';
const ORIGIN = 'https://support.example.test';

describe("the console's platform session", () => {
  let gateway: GatewayUnderTest;

  beforeAll(async () => {
    gateway = await startGatewayUnderTest({
      namespace: `gateway-platform-console-${randomBytes(3).toString('hex')}`,
      env: {
        PLATFORM_TOKEN,
        TENANT_KEK: `k1:${randomBytes(32).toString('base64')}`,
        CONSOLE_URL: `${ORIGIN}/console`,
      },
      logLevel: 'silent',
    });
  });

  afterAll(async () => {
    await gateway?.close();
  });

  const signIn = (token: string, origin = ORIGIN) =>
    gateway.app.inject({
      method: 'POST',
      url: '/console/sign-in/platform',
      headers: { origin },
      payload: { token },
    });

  it('refuses a wrong token and a sign-in from another origin, and sets no cookie', async () => {
    const wrong = await signIn(`${PLATFORM_TOKEN}x`);
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toMatchObject({ error: { code: 'TOKEN_INVALID' } });
    expect(wrong.cookies).toEqual([]);
    const elsewhere = await signIn(PLATFORM_TOKEN, 'https://evil.example');
    expect(elsewhere.statusCode).toBe(403);
    expect(elsewhere.json()).toMatchObject({ error: { code: 'CSRF_FAILED' } });
    expect(elsewhere.cookies).toEqual([]);
  });

  it('exchanges the token for an httpOnly cookie that only the platform API receives and takes', async () => {
    const signedIn = await signIn(PLATFORM_TOKEN);
    expect(signedIn.statusCode).toBe(200);
    const cookie = signedIn.cookies.find((c) => c.name === PLATFORM_COOKIE);
    expect(cookie).toMatchObject({
      httpOnly: true,
      secure: true,
      sameSite: 'Strict',
      path: '/v1/platform',
    });
    expect(cookie?.value).not.toContain(PLATFORM_TOKEN);
    const { csrfToken, expiresAt } = signedIn.json<{ csrfToken: string; expiresAt: string }>();
    expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(3_500_000);
    const cookies = { [PLATFORM_COOKIE]: cookie!.value };

    const session = await gateway.app.inject({
      method: 'GET',
      url: '/v1/platform/session',
      cookies,
    });
    expect(session.json()).toEqual({ expiresAt, csrfToken });
    const list = await gateway.app.inject({ method: 'GET', url: '/v1/platform/tenants', cookies });
    expect(list.statusCode).toBe(200);
    expect(list.json<{ items: Array<{ id: string }> }>().items.map((t) => t.id)).toContain(
      'default',
    );

    // A change needs the console's Origin and the CSRF token.
    const create = (headers: Record<string, string>) =>
      gateway.app.inject({
        method: 'POST',
        url: '/v1/platform/tenants',
        cookies,
        headers,
        payload: { id: `pc-${randomBytes(3).toString('hex')}`, name: 'From the console' },
      });
    const refusedHeaders: Array<Record<string, string>> = [
      { origin: ORIGIN },
      { origin: 'https://evil.example', 'x-csrf-token': csrfToken },
      { origin: ORIGIN, 'x-csrf-token': `${csrfToken}x` },
    ];
    for (const headers of refusedHeaders) {
      const refused = await create(headers);
      expect(refused.statusCode, JSON.stringify(headers)).toBe(403);
      expect(refused.json()).toMatchObject({ error: { code: 'CSRF_FAILED' } });
    }
    expect((await create({ origin: ORIGIN, 'x-csrf-token': csrfToken })).statusCode).toBe(201);

    // The cookie is no admin credential of any tenant.
    const admin = await gateway.app.inject({ method: 'GET', url: '/v1/admin/agents', cookies });
    expect(admin.statusCode).toBe(401);

    const out = await gateway.app.inject({
      method: 'POST',
      url: '/console/sign-out/platform',
      headers: { origin: ORIGIN },
    });
    expect(out.statusCode).toBe(200);
    expect(out.cookies.find((c) => c.name === PLATFORM_COOKIE)).toMatchObject({
      value: '',
      path: '/v1/platform',
    });
  });

  it('takes no forged, altered or expired cookie', async () => {
    const future = Date.now() + 600_000;
    const good = platformCookie(PLATFORM_TOKEN, future);
    expect(platformCookieExpiry(PLATFORM_TOKEN, good)).toBe(future);
    const forged = platformCookie('another-token-of-some-other-deployment', future);
    const altered = good.replace(String(future), String(future + 1));
    const expired = platformCookie(PLATFORM_TOKEN, Date.now() - 1);
    for (const value of [forged, altered, expired, 'nonsense']) {
      expect(platformCookieExpiry(PLATFORM_TOKEN, value)).toBeUndefined();
      const refused = await gateway.app.inject({
        method: 'GET',
        url: '/v1/platform/tenants',
        cookies: { [PLATFORM_COOKIE]: value },
      });
      expect(refused.statusCode, value).toBe(401);
      expect(refused.json()).toMatchObject({ error: { code: 'SESSION_INVALID' } });
    }
    const none = await gateway.app.inject({ method: 'GET', url: '/v1/platform/tenants' });
    expect(none.json()).toMatchObject({ error: { code: 'TOKEN_MISSING' } });
  });
});
