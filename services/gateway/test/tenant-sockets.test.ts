import { randomBytes } from 'node:crypto';
import {
  cleanupNats,
  cleanupRedis,
  createTestDatabase,
  testInfra,
  uniqueName,
  VisitorClient,
  type TestDatabase,
} from '@topicdesk/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayUnderTest, type GatewayUnderTest } from './gateway-under-test';

// Issue 16: a site's concurrentSockets hold across gateway replicas (one count in Redis), and
// its usage report counts on every replica alike.

const PLATFORM_TOKEN = 'platform-token-of-the-test-0123456789';
const SERVICE_TOKEN = 'service-token-of-the-test-0123456789';
const KEK = `k1:${randomBytes(32).toString('base64')}`;

interface Replica {
  gateway: GatewayUnderTest;
  url: string;
}

async function replica(databaseUrl: string, namespace: string): Promise<Replica> {
  const gateway = await startGatewayUnderTest({
    namespace,
    databaseUrl,
    natsUrl: testInfra.natsUrl,
    redisUrl: testInfra.redisUrl,
    logLevel: 'silent',
    env: { PLATFORM_TOKEN, SERVICE_TOKEN, TENANT_KEK: KEK },
  });
  const url = await gateway.app.listen({ port: 0, host: '127.0.0.1' });
  return { gateway, url };
}

describe('a site on two gateway replicas', () => {
  const namespace = uniqueName('tenant-sockets');
  let testDb: TestDatabase;
  let a: Replica;
  let b: Replica;
  let siteKey: string;

  beforeAll(async () => {
    testDb = await createTestDatabase('tenant-sockets');
    a = await replica(testDb.url, namespace);
    b = await replica(testDb.url, namespace);
    const created = await a.gateway.app.inject({
      method: 'POST',
      url: '/v1/platform/tenants',
      headers: { authorization: `Bearer ${PLATFORM_TOKEN}` },
      payload: {
        id: 'busy',
        name: 'Busy',
        limits: { concurrentSockets: 2, conversationsPerDay: 10, messagesPerHour: 10 },
        secrets: {
          jwtSecret: 'busy-secret-of-at-least-32-characters!!',
          serviceToken: 'busy-service-token-0123456789abcdef',
        },
      },
    });
    expect(created.statusCode).toBe(201);
    siteKey = created.json<{ siteKey: string }>().siteKey;
  });

  afterAll(async () => {
    for (const r of [a, b]) {
      if (r) await r.gateway.close();
    }
    await testDb?.drop();
    await cleanupNats(namespace);
    await cleanupRedis(namespace);
  });

  const start = async (on: Replica) => {
    const response = await on.gateway.app.inject({
      method: 'POST',
      url: '/v1/conversations',
      payload: { siteKey },
    });
    expect(response.statusCode).toBe(201);
    return response.json<{ conversationId: string; token: string }>();
  };

  it('refuses the socket past concurrentSockets on any replica: error frame, then 4429', async () => {
    const first = await start(a);
    const second = await start(b);
    const third = await start(a);
    const one = await VisitorClient.connect(a.url, first.token);
    const two = await VisitorClient.connect(b.url, second.token);
    await one.waitFor((f) => f.type === 'status');
    await two.waitFor((f) => f.type === 'status');

    const refused = await VisitorClient.connect(a.url, third.token);
    await refused.waitUntil(() => refused.closeCode, 10_000, 'the close');
    expect(refused.closeCode).toBe(4429);
    expect(refused.of('error')).toMatchObject([
      { code: 'TENANT_QUOTA_EXCEEDED', limit: 'concurrentSockets' },
    ]);
    // The default tenant has no such limit: its sockets are not refused.
    const plain = (
      await a.gateway.app.inject({ method: 'POST', url: '/v1/conversations', payload: {} })
    ).json<{ token: string }>();
    const other = await VisitorClient.connect(a.url, plain.token);
    await other.waitFor((f) => f.type === 'status');
    await other.close();

    // One closed on B frees a seat for A.
    await two.close();
    const again = await until(async () => {
      const client = await VisitorClient.connect(a.url, third.token);
      await client.waitUntil(
        () => client.closeCode ?? client.frames.find((f) => f.type === 'status'),
        10_000,
        'status or close',
      );
      if (client.closeCode === undefined) return client;
      return undefined;
    });
    expect(again.of('status')).toHaveLength(1);
    await again.close();
    await one.close();
  });

  it("reports the site's usage the same on both replicas, to the platform and to its own admin", async () => {
    const conversation = await start(b);
    const socket = await VisitorClient.connect(b.url, conversation.token);
    await socket.waitFor((f) => f.type === 'status');
    socket.sendMessage('m1', 'hello');
    await socket.waitFor((f) => f.type === 'ack');
    const platform = await until(async () => {
      const response = await a.gateway.app.inject({
        method: 'GET',
        url: '/v1/platform/tenants/busy/usage',
        headers: { authorization: `Bearer ${PLATFORM_TOKEN}` },
      });
      const body = response.json<{ openSockets: number }>();
      return body.openSockets === 1 ? response : undefined;
    });
    expect(platform.statusCode).toBe(200);
    const usage = platform.json<Record<string, unknown>>();
    expect(usage).toMatchObject({
      tenantId: 'busy',
      conversationsToday: 4,
      messagesThisHour: 1,
      openSockets: 1,
      limits: { concurrentSockets: 2, conversationsPerDay: 10, messagesPerHour: 10 },
      window: { conversations: 'PT24H', messages: 'PT1H' },
    });
    const admin = await b.gateway.app.inject({
      method: 'GET',
      url: '/v1/admin/usage',
      headers: { authorization: `Bearer ${SERVICE_TOKEN}` },
    });
    expect(admin.statusCode).toBe(200);
    expect(admin.json()).toMatchObject({ tenantId: 'default', openSockets: 0, limits: {} });
    const missing = await a.gateway.app.inject({
      method: 'GET',
      url: '/v1/platform/tenants/nobody/usage',
      headers: { authorization: `Bearer ${PLATFORM_TOKEN}` },
    });
    expect(missing.statusCode).toBe(404);
    await socket.close();
  });
});

async function until<T>(check: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
