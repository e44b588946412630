import { ConversationService, DEFAULT_TENANT_ID, UnitOfWork } from '@topicdesk/core';
import {
  cleanupNats,
  createTestDatabase,
  VisitorClient,
  testInfra,
  uniqueName,
  type TestDatabase,
} from '@topicdesk/testkit';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConversationTokens } from '../src/tokens';
import { startGatewayUnderTest, type GatewayUnderTest } from './gateway-under-test';

// Issue 16: the platform API manages tenants with its own token; secrets are write-only; a change
// made on one gateway replica reaches another one's tenant cache through NATS, without a restart.

const PLATFORM_TOKEN = 'platform-token-of-the-test-0123456789';
const SERVICE_TOKEN = 'service-token-of-the-test-0123456789';
const JWT_SECRET = 'a-secret-of-at-least-thirty-two-characters';
/** The tenants' own token secret (each tenant signs its visitors' tokens with its own). */
const TENANT_JWT_SECRET = 'a-tenant-secret-of-at-least-32-characters';
const BOT = '7100001:AAbbCCddEEffGGhhIIjjKKllMMnnOOppQQ';
/** The replicas of one deployment share their KEK. */
const KEK = `k1:${randomBytes(32).toString('base64')}`;

type Replica = GatewayUnderTest;

/** One gateway replica over the shared database and NATS namespace. */
function replica(
  databaseUrl: string,
  namespace: string,
  keys: Record<string, string> = { TENANT_KEK: KEK },
): Promise<Replica> {
  return startGatewayUnderTest({
    namespace,
    databaseUrl,
    natsUrl: testInfra.natsUrl,
    logLevel: 'silent',
    env: {
      CONVERSATION_JWT_SECRET: JWT_SECRET,
      SERVICE_TOKEN,
      PLATFORM_TOKEN,
      ...keys,
    },
  });
}

describe('platform API without PLATFORM_TOKEN', () => {
  it('answers 404 PLATFORM_DISABLED on every platform route, whatever the token', async () => {
    const gateway = await startGatewayUnderTest({
      namespace: uniqueName('platform-off'),
      env: { SERVICE_TOKEN },
    });
    try {
      for (const [method, url] of [
        ['GET', '/v1/platform/tenants'],
        ['POST', '/v1/platform/tenants'],
        ['DELETE', '/v1/platform/tenants/default'],
      ] as const) {
        const response = await gateway.app.inject({
          method,
          url,
          headers: { authorization: `Bearer ${SERVICE_TOKEN}` },
        });
        expect(response.statusCode).toBe(404);
        expect(response.json()).toMatchObject({ error: { code: 'PLATFORM_DISABLED' } });
      }
    } finally {
      await gateway.close();
    }
  });

  it('refuses to start with PLATFORM_TOKEN but no TENANT_KEK', async () => {
    const { loadGatewayConfig } = await import('../src/index');
    expect(() =>
      loadGatewayConfig({ CONVERSATION_JWT_SECRET: JWT_SECRET, PLATFORM_TOKEN }),
    ).toThrow(/TENANT_KEK: required with PLATFORM_TOKEN/);
    expect(() =>
      loadGatewayConfig({ CONVERSATION_JWT_SECRET: JWT_SECRET, TENANT_KEK: 'k1:short' }),
    ).toThrow(/TENANT_KEK: a KEK is/);
  });
});

describe('platform API: tenants on two gateway replicas', () => {
  const namespace = uniqueName('platform');
  let testDb: TestDatabase;
  let a: Replica;
  let b: Replica;

  beforeAll(async () => {
    testDb = await createTestDatabase('platform');
    a = await replica(testDb.url, namespace);
    b = await replica(testDb.url, namespace);
  });

  afterAll(async () => {
    for (const r of [a, b]) {
      if (r) await r.close();
    }
    await testDb?.drop();
    await cleanupNats(namespace);
  });

  const call = (
    on: Replica,
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    url: string,
    body?: unknown,
    token = PLATFORM_TOKEN,
  ) =>
    on.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}` },
      ...(body === undefined ? {} : { payload: body as Record<string, unknown> }),
    });

  it('takes the platform token only: none is TOKEN_MISSING, the service token is TOKEN_INVALID', async () => {
    const none = await a.app.inject({ method: 'GET', url: '/v1/platform/tenants' });
    expect(none.statusCode).toBe(401);
    expect(none.json()).toMatchObject({ error: { code: 'TOKEN_MISSING' } });
    const service = await call(a, 'GET', '/v1/platform/tenants', undefined, SERVICE_TOKEN);
    expect(service.statusCode).toBe(401);
    expect(service.json()).toMatchObject({ error: { code: 'TOKEN_INVALID' } });
    // And the platform token is no admin token.
    const admin = await call(a, 'GET', '/v1/admin/agents');
    expect(admin.statusCode).toBe(401);
  });

  it('creates, reads, lists, changes, suspends, resumes and deletes; secrets never come back', async () => {
    const created = await call(a, 'POST', '/v1/platform/tenants', {
      id: 'acme',
      name: 'Acme',
      plan: 'pro',
      limits: { conversationsPerDay: 200, concurrentSockets: 50 },
      allowedOrigins: ['https://acme.example'],
      secrets: { botToken: BOT, supportGroups: ['-1001234567890'] },
    });
    expect(created.statusCode).toBe(201);
    expect(created.body).not.toContain(BOT);
    const tenant = created.json<{
      id: string;
      siteKey: string;
      secrets: Record<string, { set: boolean; fingerprint?: string }>;
    }>();
    expect(tenant).toMatchObject({
      id: 'acme',
      status: 'active',
      plan: 'pro',
      limits: { conversationsPerDay: 200, concurrentSockets: 50 },
      allowedOrigins: ['https://acme.example'],
      secrets: {
        botToken: { set: true },
        supportGroups: { set: true, count: 1 },
        jwtSecret: { set: false },
      },
    });
    expect(tenant.siteKey).toMatch(/^pk_/);
    expect(JSON.stringify(tenant)).not.toMatch(/wh_|webhook/i);

    expect((await call(b, 'GET', '/v1/platform/tenants/acme')).json()).toEqual(tenant);
    const again = await call(a, 'POST', '/v1/platform/tenants', { id: 'acme', name: 'x' });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ error: { code: 'TENANT_EXISTS' } });

    const bad = await call(a, 'POST', '/v1/platform/tenants', {
      name: 'Bad',
      allowedOrigins: ['https://shop.example/path'],
      secrets: { botToken: 'nope', password: 'x' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: { code: 'INVALID_REQUEST' } });

    const patched = await call(a, 'PATCH', '/v1/platform/tenants/acme', {
      name: 'Acme Inc.',
      secrets: { botToken: null, jwtSecret: 'j'.repeat(40) },
    });
    expect(patched.statusCode).toBe(200);
    expect(patched.json()).toMatchObject({
      name: 'Acme Inc.',
      secrets: { botToken: { set: false }, jwtSecret: { set: true }, supportGroups: { set: true } },
    });
    expect(patched.body).not.toContain('jjjjjjjj');

    const generated = await call(a, 'POST', '/v1/platform/tenants', { name: 'Generated' });
    expect(generated.json<{ id: string }>().id).toMatch(/^t-[0-9a-f]{12}$/);

    expect((await call(a, 'POST', '/v1/platform/tenants/acme/suspend')).json()).toMatchObject({
      status: 'suspended',
    });
    expect((await call(a, 'POST', '/v1/platform/tenants/acme/resume')).json()).toMatchObject({
      status: 'active',
    });
    const page = await call(a, 'GET', '/v1/platform/tenants?limit=1');
    const first = page.json<{ items: Array<{ id: string }>; nextCursor: string }>();
    expect(first.items.map((t) => t.id)).toEqual(['acme']);
    const next = await call(
      a,
      'GET',
      `/v1/platform/tenants?limit=10&cursor=${encodeURIComponent(first.nextCursor)}`,
    );
    expect(next.json<{ items: Array<{ id: string }> }>().items.map((t) => t.id)).toContain(
      'default',
    );
    const wrongCursor = await call(a, 'GET', '/v1/platform/tenants?cursor=abc');
    expect(wrongCursor.json()).toMatchObject({ error: { code: 'INVALID_CURSOR' } });

    const deleted = await call(
      a,
      'DELETE',
      `/v1/platform/tenants/${generated.json<{ id: string }>().id}`,
    );
    expect(deleted.json()).toMatchObject({ status: 'deleted' });
    const protectedDefault = await call(a, 'DELETE', '/v1/platform/tenants/default');
    expect(protectedDefault.statusCode).toBe(409);
    expect(protectedDefault.json()).toMatchObject({ error: { code: 'TENANT_PROTECTED' } });
    const missing = await call(a, 'GET', '/v1/platform/tenants/nobody');
    expect(missing.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });

    const audit = await a.infra.database.db
      .selectFrom('audit_log')
      .selectAll()
      .where('tenant_id', '=', 'acme')
      .orderBy('id')
      .execute();
    expect(audit.map((entry) => entry.action)).toEqual([
      'tenant.create',
      'tenant.update',
      'tenant.suspend',
      'tenant.resume',
    ]);
    expect(JSON.stringify(audit)).not.toContain(BOT.slice(8));
  });

  it("a suspension made on one replica reaches the other's cache without a restart", async () => {
    await call(a, 'POST', '/v1/platform/tenants', {
      id: 'hot',
      name: 'Hot',
      secrets: { jwtSecret: TENANT_JWT_SECRET },
    });
    const conversations = new ConversationService(
      new UnitOfWork(b.infra.database.db, { publish: async () => {} }),
    );
    const conversation = await conversations.start({ tenantId: 'hot', channel: 'web' });
    const tokens = new ConversationTokens(
      JWT_SECRET,
      3_600_000,
      0,
      false,
      undefined,
      async () => TENANT_JWT_SECRET,
    );
    const { token } = await tokens.issue(
      { conversationId: conversation.id, tenantId: 'hot', generation: 0 },
      undefined,
    );
    const history = () =>
      b.app.inject({
        method: 'GET',
        url: `/v1/conversations/${conversation.id}/messages`,
        headers: { authorization: `Bearer ${token}` },
      });
    // B reads the tenant once and keeps it.
    expect((await history()).statusCode).toBe(200);

    await call(a, 'POST', '/v1/platform/tenants/hot/suspend');
    const refused = await until(async () => {
      const response = await history();
      return response.statusCode === 403 ? response : undefined;
    });
    expect(refused.json()).toMatchObject({ error: { code: 'TENANT_INACTIVE' } });

    await call(a, 'POST', '/v1/platform/tenants/hot/resume');
    await until(async () => ((await history()).statusCode === 200 ? true : undefined));
  });

  it("a suspension closes the tenant's open sockets on every replica, and refuses new ones", async () => {
    await call(a, 'POST', '/v1/platform/tenants', {
      id: 'cold',
      name: 'Cold',
      secrets: { jwtSecret: TENANT_JWT_SECRET },
    });
    const conversations = new ConversationService(
      new UnitOfWork(b.infra.database.db, { publish: async () => {} }),
    );
    const conversation = await conversations.start({ tenantId: 'cold', channel: 'web' });
    const other = await conversations.start({ tenantId: DEFAULT_TENANT_ID, channel: 'web' });
    const tokens = new ConversationTokens(
      JWT_SECRET,
      3_600_000,
      0,
      false,
      undefined,
      async () => TENANT_JWT_SECRET,
    );
    const tokenOf = async (conversationId: string, tenantId: string) =>
      (await tokens.issue({ conversationId, tenantId, generation: 0 }, undefined)).token;
    const url = await b.app.listen({ port: 0, host: '127.0.0.1' });
    const cold = await VisitorClient.connect(url, await tokenOf(conversation.id, 'cold'));
    const warm = await VisitorClient.connect(url, await tokenOf(other.id, DEFAULT_TENANT_ID));
    await cold.waitFor((f) => f.type === 'status');
    await warm.waitFor((f) => f.type === 'status');

    // Suspended through replica A: B hears it and closes the tenant's socket, and only it.
    await call(a, 'POST', '/v1/platform/tenants/cold/suspend');
    await cold.waitUntil(() => cold.closeCode, 10_000, 'the close');
    expect(cold.closeCode).toBe(4403);
    expect(cold.of('error')).toMatchObject([{ code: 'TENANT_INACTIVE' }]);
    await expect(
      VisitorClient.connect(url, await tokenOf(conversation.id, 'cold')),
    ).rejects.toThrow(/upgrade refused: 403/);
    expect(warm.closeCode).toBeUndefined();
    warm.socket.close();
  });

  it('a replica started with a new KEK rewraps every data key on request; fingerprints stay', async () => {
    const before = (await call(a, 'GET', '/v1/platform/tenants/acme')).json<{
      secrets: unknown;
      kekId: string;
    }>();
    expect(before.kekId).toBe('k1');
    const rotated = await replica(testDb.url, namespace, {
      TENANT_KEK: `k2:${randomBytes(32).toString('base64')}`,
      TENANT_KEKS_PREVIOUS: KEK,
    });
    try {
      const response = await call(rotated, 'POST', '/v1/platform/kek/rewrap');
      expect(response.statusCode).toBe(200);
      // Every tenant with secrets: acme, and the two given a jwtSecret above.
      const result = response.json<{ kekId: string; rewrapped: string[]; failed: unknown[] }>();
      expect({ ...result, rewrapped: result.rewrapped.sort() }).toEqual({
        kekId: 'k2',
        rewrapped: ['acme', 'cold', 'hot'],
        failed: [],
      });
      const after = (await call(rotated, 'GET', '/v1/platform/tenants/acme')).json<{
        secrets: unknown;
        kekId: string;
      }>();
      expect(after).toMatchObject({ kekId: 'k2', secrets: before.secrets });
      // The new KEK writes: a change of one secret keeps the others' fingerprints.
      const changed = await call(rotated, 'PATCH', '/v1/platform/tenants/acme', {
        secrets: { serviceToken: 's'.repeat(30) },
      });
      expect(changed.json()).toMatchObject({
        kekId: 'k2',
        secrets: { serviceToken: { set: true } },
      });
      // A replica still on k1 alone cannot open it, and says so with a stable code.
      const stale = await call(a, 'PATCH', '/v1/platform/tenants/acme', {
        secrets: { serviceToken: null },
      });
      expect(stale.statusCode).toBe(503);
      expect(stale.json()).toMatchObject({ error: { code: 'TENANT_KEK_UNKNOWN' } });
    } finally {
      await rotated.close();
    }
  });

  it('documents every platform route with the platform token', async () => {
    const document = (await a.app.inject({ method: 'GET', url: '/openapi.json' })).json<{
      paths: Record<string, Record<string, { security: unknown; tags: string[] }>>;
    }>();
    const operations = Object.entries(document.paths)
      .filter(([path]) => path.startsWith('/v1/platform/'))
      .flatMap(([, ops]) => Object.values(ops));
    // Tenants (8, usage included), the KEK rewrap, and the console platform view's session.
    expect(operations).toHaveLength(10);
    for (const operation of operations) {
      expect(operation.security).toEqual([{ platformToken: [] }]);
      expect(operation.tags).toEqual(['platform']);
    }
  });
});

/** `check`'s first answer that is not undefined, asked again every 20 ms for up to 5 s. */
async function until<T>(check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('the other replica never saw the change');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
