import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayUnderTest, type GatewayUnderTest } from './gateway-under-test';

const SERVICE_TOKEN = 'tokens-test-service-token';
const EVIL = 'https://evil.example';

describe('visitor tokens and CORS', () => {
  let gateway: GatewayUnderTest;
  let app: FastifyInstance;
  let url: string;

  beforeAll(async () => {
    gateway = await startGatewayUnderTest({
      namespace: 'gateway-tokens-test',
      env: { SERVICE_TOKEN, ALLOWED_ORIGINS: '*' },
    });
    app = gateway.app;
    await app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await gateway?.close();
  });

  const start = async () => {
    const response = await app.inject({ method: 'POST', url: '/v1/conversations', payload: {} });
    expect(response.statusCode).toBe(201);
    return response.json<{ conversationId: string; token: string }>();
  };
  const refresh = (id: string, token: string) =>
    app.inject({
      method: 'POST',
      url: `/v1/conversations/${id}/token`,
      headers: { authorization: `Bearer ${token}` },
      payload: {},
    });
  const history = (id: string, token: string) =>
    app.inject({
      url: `/v1/conversations/${id}/messages`,
      headers: { authorization: `Bearer ${token}` },
    });
  const upgrade = (token: string) =>
    new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(`${url.replace('http', 'ws')}/v1/ws?token=${token}`);
      ws.on('open', () => {
        ws.close();
        resolve(101);
      });
      ws.on('unexpected-response', (_request, response) => {
        resolve(response.statusCode ?? 0);
        ws.terminate();
      });
      ws.on('error', reject);
    });

  it('refuses ?token= on REST routes with 400 INVALID_REQUEST saying where the token goes', async () => {
    const { conversationId: id, token } = await start();
    for (const [method, path] of [
      ['GET', `/v1/conversations/${id}/messages?token=${token}`],
      ['GET', `/v1/conversations/${id}?token=${token}`],
      ['POST', `/v1/conversations/${id}/token?token=${token}`],
      ['POST', `/v1/conversations/${id}/profile?token=${token}`],
    ] as const) {
      const response = await app.inject({
        method,
        url: path,
        ...(method === 'POST' ? { payload: { name: 'Ada' } } : {}),
      });
      expect(response.statusCode, path).toBe(400);
      expect(response.json(), path).toMatchObject({
        error: { code: 'INVALID_REQUEST', message: expect.stringContaining('Authorization') },
      });
    }
    // The header still works, and the WebSocket takes ?token= as documented.
    expect((await history(id, token)).statusCode).toBe(200);
    expect(await upgrade(token)).toBe(101);
  });

  it('retires the token a refresh replaced: REST, the WebSocket and later refreshes refuse it with TOKEN_RETIRED', async () => {
    const { conversationId: id, token: first } = await start();
    const second = (await refresh(id, first)).json<{ token: string }>().token;
    const third = (await refresh(id, second)).json<{ token: string }>().token;
    for (const old of [first, second]) {
      const refused = await history(id, old);
      expect(refused.statusCode).toBe(401);
      expect(refused.json()).toMatchObject({ error: { code: 'TOKEN_RETIRED' } });
      expect(await upgrade(old)).toBe(401);
    }
    // Two generations back: no refresh at all, however often it is tried.
    for (let i = 0; i < 3; i++) {
      const again = await refresh(id, first);
      expect(again.statusCode).toBe(401);
      expect(again.json()).toMatchObject({ error: { code: 'TOKEN_RETIRED' } });
    }
    expect((await history(id, third)).statusCode).toBe(200);
    expect(await upgrade(third)).toBe(101);
  });

  it('lets the token just replaced refresh again for a short while (two tabs at once), without moving on', async () => {
    const { conversationId: id, token } = await start();
    const [a, b] = await Promise.all([refresh(id, token), refresh(id, token)]);
    expect([a.statusCode, b.statusCode]).toEqual([200, 200]);
    // Both are of the one current generation: either works.
    for (const fresh of [a, b])
      expect((await history(id, fresh.json<{ token: string }>().token)).statusCode).toBe(200);
  });

  it('sends no CORS headers on admin routes, even with ALLOWED_ORIGINS=*; the visitor API keeps them', async () => {
    const preflight = await app.inject({
      method: 'OPTIONS',
      url: '/v1/admin/agents/7001',
      headers: {
        origin: EVIL,
        'access-control-request-method': 'PUT',
        'access-control-request-headers': 'authorization,content-type',
      },
    });
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    expect(preflight.headers['access-control-allow-headers']).toBeUndefined();
    const read = await app.inject({
      url: '/v1/admin/agents',
      headers: { origin: EVIL, authorization: `Bearer ${SERVICE_TOKEN}` },
    });
    expect(read.statusCode).toBe(200);
    expect(read.headers['access-control-allow-origin']).toBeUndefined();

    const visitor = await app.inject({
      method: 'OPTIONS',
      url: '/v1/conversations',
      headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST' },
    });
    expect(visitor.headers['access-control-allow-origin']).toBe('https://shop.example');
  });
});
