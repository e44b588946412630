import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { uniqueName, VisitorClient } from '@topicdesk/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startGatewayUnderTest, type GatewayUnderTest } from './gateway-under-test';

// Issue 16, the visitor side: the snippet's site key picks the tenant, its token is signed with
// that tenant's secret, its allowed origins and plan limits hold.

const PLATFORM_TOKEN = 'platform-token-of-the-test-0123456789';
const KEK = `k1:${randomBytes(32).toString('base64')}`;
const ENV_SECRET = 'a-secret-of-at-least-thirty-two-characters';

interface Site {
  id: string;
  siteKey: string;
}

describe('tenants seen by visitors', () => {
  let gateway: GatewayUnderTest;
  let url: string;

  beforeAll(async () => {
    gateway = await startGatewayUnderTest({
      namespace: uniqueName('tenant-visitors'),
      env: { PLATFORM_TOKEN, TENANT_KEK: KEK, LIMIT_CONVERSATIONS_PER_DAY: '100' },
    });
    url = await gateway.app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await gateway?.close();
  });

  const platform = (method: 'POST' | 'PATCH', path: string, body?: unknown) =>
    gateway.app.inject({
      method,
      url: `/v1/platform/tenants${path}`,
      headers: { authorization: `Bearer ${PLATFORM_TOKEN}` },
      ...(body === undefined ? {} : { payload: body as Record<string, unknown> }),
    });
  const createSite = async (id: string, extra: Record<string, unknown> = {}): Promise<Site> => {
    const response = await platform('POST', '', {
      id,
      name: id,
      secrets: { jwtSecret: `${id}-secret-`.padEnd(40, 'x') },
      ...extra,
    });
    expect(response.statusCode).toBe(201);
    return response.json<Site>();
  };
  const start = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
    gateway.app.inject({ method: 'POST', url: '/v1/conversations', payload: body, headers });
  const history = (id: string, token: string) =>
    gateway.app.inject({
      method: 'GET',
      url: `/v1/conversations/${id}/messages`,
      headers: { authorization: `Bearer ${token}` },
    });
  const started = (response: { json: <T>() => T }) =>
    response.json<{ conversationId: string; token: string }>();

  it('starts the conversation in the tenant of the site key; no key is the default tenant', async () => {
    const acme = await createSite('acme');
    const response = await start({ siteKey: acme.siteKey, name: 'Ann' });
    expect(response.statusCode).toBe(201);
    const { conversationId, token } = started(response);
    const row = await gateway.conversations.find('acme', conversationId);
    expect(row?.tenant_id).toBe('acme');
    expect((await history(conversationId, token)).statusCode).toBe(200);

    const plain = await start({});
    expect(plain.statusCode).toBe(201);
    expect(await gateway.conversations.find('default', started(plain).conversationId)).toBeTruthy();
    expect((await history(started(plain).conversationId, started(plain).token)).statusCode).toBe(
      200,
    );
  });

  it('refuses an unknown site key (404), a suspended site (403) and one without jwtSecret (503)', async () => {
    const unknown = await start({ siteKey: 'pk_nobody' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ error: { code: 'SITE_KEY_UNKNOWN' } });

    const sleepy = await createSite('sleepy');
    await platform('POST', '/sleepy/suspend');
    const suspended = await start({ siteKey: sleepy.siteKey });
    expect(suspended.statusCode).toBe(403);
    expect(suspended.json()).toMatchObject({ error: { code: 'TENANT_INACTIVE' } });

    const bare = (await platform('POST', '', { id: 'bare', name: 'Bare' })).json<Site>();
    const unconfigured = await start({ siteKey: bare.siteKey });
    expect(unconfigured.statusCode).toBe(503);
    expect(unconfigured.json()).toMatchObject({ error: { code: 'TENANT_NOT_CONFIGURED' } });
    expect(
      await gateway.infra.database.db
        .selectFrom('conversations')
        .select('id')
        .where('tenant_id', 'in', ['bare', 'sleepy'])
        .execute(),
    ).toEqual([]);
  });

  it("a token is signed with its tenant's secret: another tenant's or the env secret does not pass", async () => {
    const one = await createSite('one');
    const two = await createSite('two');
    const a = started(await start({ siteKey: one.siteKey }));
    const b = started(await start({ siteKey: two.siteKey }));
    // A's token against B's conversation, on every visitor route that names one.
    for (const [method, path, payload] of [
      ['GET', `/v1/conversations/${b.conversationId}/messages`, undefined],
      ['GET', `/v1/conversations/${b.conversationId}`, undefined],
      ['POST', `/v1/conversations/${b.conversationId}/profile`, { name: 'Mallory' }],
      ['POST', `/v1/conversations/${b.conversationId}/rating`, { score: 1 }],
      [
        'POST',
        `/v1/conversations/${b.conversationId}/attachments`,
        { name: 'a.png', type: 'image/png', size: 10 },
      ],
      ['POST', `/v1/conversations/${b.conversationId}/token`, undefined],
    ] as const) {
      const crossed = await gateway.app.inject({
        method,
        url: path,
        headers: { authorization: `Bearer ${a.token}` },
        ...(payload === undefined ? {} : { payload }),
      });
      expect({ path, status: crossed.statusCode, body: crossed.json() }).toMatchObject({
        path,
        status: 403,
        body: { error: { code: 'FORBIDDEN' } },
      });
      expect(crossed.body).not.toContain(b.conversationId);
    }
    expect(await gateway.conversations.find('two', b.conversationId)).toMatchObject({
      visitor_name: null,
    });
    // Tokens naming B's conversation and tenant, signed with A's secret and with the env secret.
    for (const secret of ['one-secret-'.padEnd(40, 'x'), ENV_SECRET]) {
      const forged = await new SignJWT({ tid: 'two', gen: 0 })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(b.conversationId)
        .setIssuer('topicdesk')
        .setAudience('topicdesk:conversation')
        .setIssuedAt()
        .setExpirationTime('1h')
        .sign(new TextEncoder().encode(secret));
      const refused = await history(b.conversationId, forged);
      expect(refused.statusCode).toBe(401);
      expect(refused.json()).toMatchObject({ error: { code: 'TOKEN_INVALID' } });
      await expect(VisitorClient.connect(url, forged)).rejects.toThrow(/upgrade refused: 401/);
    }
    // B's own token works over the socket; a refresh stays in its tenant.
    const socket = await VisitorClient.connect(url, b.token);
    await socket.waitFor((f) => f.type === 'status');
    await socket.close();
    const refreshed = await gateway.app.inject({
      method: 'POST',
      url: `/v1/conversations/${b.conversationId}/token`,
      headers: { authorization: `Bearer ${b.token}` },
    });
    expect(refreshed.statusCode).toBe(200);
    const next = refreshed.json<{ token: string }>().token;
    expect((await history(b.conversationId, next)).statusCode).toBe(200);
    expect((await history(a.conversationId, next)).statusCode).toBe(403);
  });

  it('a site with allowed origins is refused on other origins, REST and WebSocket', async () => {
    const shop = await createSite('shop', { allowedOrigins: ['https://shop.example'] });
    const elsewhere = await start({ siteKey: shop.siteKey }, { origin: 'https://evil.example' });
    expect(elsewhere.statusCode).toBe(403);
    expect(elsewhere.json()).toMatchObject({ error: { code: 'ORIGIN_NOT_ALLOWED' } });
    const home = await start({ siteKey: shop.siteKey }, { origin: 'https://shop.example' });
    expect(home.statusCode).toBe(201);
    // The default tenant (no allowed origins of its own) keeps ALLOWED_ORIGINS (here *).
    expect((await start({}, { origin: 'https://evil.example' })).statusCode).toBe(201);

    const { token } = started(home);
    const upgrade = (origin: string) =>
      new Promise<number>((resolve, reject) => {
        const ws = new WebSocket(`${url.replace('http', 'ws')}/v1/ws?token=${token}`, { origin });
        ws.once('open', () => {
          ws.close();
          resolve(101);
        });
        ws.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
        ws.once('error', reject);
      });
    expect(await upgrade('https://evil.example')).toBe(403);
    expect(await upgrade('https://shop.example')).toBe(101);
  });

  it("counts a site's conversations per day across its visitors, and only that site's", async () => {
    const small = await createSite('small', { limits: { conversationsPerDay: 2 } });
    const other = await createSite('other', { limits: { conversationsPerDay: 2 } });
    for (let i = 0; i < 2; i++)
      expect((await start({ siteKey: small.siteKey })).statusCode).toBe(201);
    const refused = await start({ siteKey: small.siteKey });
    expect(refused.statusCode).toBe(429);
    expect(refused.json()).toMatchObject({
      error: { code: 'TENANT_QUOTA_EXCEEDED', details: { limit: 'conversationsPerDay', max: 2 } },
    });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect((await start({ siteKey: other.siteKey })).statusCode).toBe(201);
    // The plan changed through the platform API: the new limit holds at once.
    await platform('PATCH', '/small', { limits: { conversationsPerDay: 3 } });
    expect((await start({ siteKey: small.siteKey })).statusCode).toBe(201);
  });

  it("refuses a site's visitor messages past messagesPerHour with an error frame, the socket open", async () => {
    const chatty = await createSite('chatty', { limits: { messagesPerHour: 2 } });
    const first = started(await start({ siteKey: chatty.siteKey }));
    const second = started(await start({ siteKey: chatty.siteKey }));
    const a = await VisitorClient.connect(url, first.token);
    const b = await VisitorClient.connect(url, second.token);
    a.sendMessage('a1', 'hello');
    await a.waitFor((f) => f.type === 'ack' && f['clientId'] === 'a1');
    b.sendMessage('b1', 'hello');
    await b.waitFor((f) => f.type === 'ack' && f['clientId'] === 'b1');
    b.sendMessage('b2', 'again');
    const refused = await b.waitFor((f) => f.type === 'error');
    expect(refused).toMatchObject({
      code: 'TENANT_QUOTA_EXCEEDED',
      clientId: 'b2',
      limit: 'messagesPerHour',
    });
    // A resend of a message stored already is acked again, past the limit.
    a.sendMessage('a1', 'hello');
    await a.waitFor((f) => f.type === 'ack' && f['clientId'] === 'a1');
    expect(a.of('error')).toEqual([]);
    expect(b.closeCode).toBeUndefined();
    await a.close();
    await b.close();
  });
  it("holds a site's plan limits on files: attachmentMaxBytes and attachmentsPerHour, before any byte moves", async () => {
    const small = await createSite('files', {
      limits: { attachmentMaxBytes: 1000, attachmentsPerHour: 2 },
    });
    const { conversationId, token } = started(await start({ siteKey: small.siteKey }));
    const upload = (size: number) =>
      gateway.app.inject({
        method: 'POST',
        url: `/v1/conversations/${conversationId}/attachments`,
        headers: { authorization: `Bearer ${token}` },
        payload: { name: 'a.png', type: 'image/png', size },
      });
    const large = await upload(1001);
    expect(large.statusCode).toBe(429);
    expect(large.json()).toMatchObject({
      error: { code: 'TENANT_QUOTA_EXCEEDED', details: { limit: 'attachmentMaxBytes', max: 1000 } },
    });
    // The refused file took no unit of the hour: two more fit.
    expect((await upload(1000)).statusCode).toBe(201);
    expect((await upload(10)).statusCode).toBe(201);
    const third = await upload(10);
    expect(third.statusCode).toBe(429);
    expect(third.json()).toMatchObject({
      error: { code: 'TENANT_QUOTA_EXCEEDED', details: { limit: 'attachmentsPerHour', max: 2 } },
    });
    // Another site, and the default one, are not held by these limits.
    const plain = started(await start({}));
    const other = await gateway.app.inject({
      method: 'POST',
      url: `/v1/conversations/${plain.conversationId}/attachments`,
      headers: { authorization: `Bearer ${plain.token}` },
      payload: { name: 'a.png', type: 'image/png', size: 5000 },
    });
    expect(other.statusCode).toBe(201);
  });
});
