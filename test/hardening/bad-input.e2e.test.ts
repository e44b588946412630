import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConversation, VisitorClient } from '@topicdesk/testkit';
import { startGateway, type GatewayUnderTest } from './gateway-process';

// Issue 12, items 2 (gateway half) and 5: every field that reaches Telegram is validated at the
// visitor API, and bad input is a 400 with a stable code — never a 503 UNAVAILABLE, which the
// widget retries every 0.5–2 s and which drained the hourly quota.

let gateway: GatewayUnderTest;
const sockets: VisitorClient[] = [];

beforeAll(async () => {
  gateway = await startGateway();
}, 90_000);

afterAll(async () => {
  await Promise.allSettled(sockets.map((s) => s.close()));
  await gateway?.cleanup();
});

async function call(method: string, path: string, body?: unknown, token?: string) {
  const response = await fetch(`${gateway.url}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return {
    status: response.status,
    body: (await response.json()) as {
      error?: { code: string; message: string; details?: { issues?: string[] } };
    },
  };
}

describe('starting a conversation', () => {
  it('refuses a 14.9 KB locale with 400 INVALID_REQUEST that says why', async () => {
    const answer = await call('POST', '/v1/conversations', {
      locale: `en${'-abcdefgh'.repeat(1650)}`,
    });
    expect(answer.status).toBe(400);
    expect(answer.body.error?.code).toBe('INVALID_REQUEST');
    expect(answer.body.error?.details?.issues?.join()).toContain(
      'locale: a language tag has at most 35 characters',
    );
  });

  it.each([
    ['a NUL in the name', { name: 'Ada\u0000' }],
    ['a name over 100 characters', { name: 'n'.repeat(101) }],
    ['a javascript: page URL', { page: { url: 'javascript:alert(1)' } }],
    ['a JSON null body', null],
  ])('answers %s with 400, not 503', async (_what, body) => {
    const answer = await call('POST', '/v1/conversations', body);
    expect(answer.status).toBe(400);
    expect(answer.body.error?.code).toBe('INVALID_REQUEST');
  });

  it('cuts a page title of 14,000 characters, cleans one with a NUL, and starts the conversation (the page chose its title, not the visitor)', async () => {
    for (const title of ['T'.repeat(14_000), 'Cart\u0000']) {
      const answer = await call('POST', '/v1/conversations', {
        page: { url: 'https://shop.example/', title },
      });
      expect(answer.status).toBe(201);
    }
  });
});

describe('a conversation’s own routes', () => {
  it('answers a NUL in the profile name with 400 INVALID_REQUEST', async () => {
    const c = await startConversation(gateway.url);
    const answer = await call(
      'POST',
      `/v1/conversations/${c.conversationId}/profile`,
      { name: 'Ada\u0000Lovelace' },
      c.token,
    );
    expect(answer.status).toBe(400);
    expect(answer.body.error?.code).toBe('INVALID_REQUEST');
  });

  it('answers ?after=2147483648 (beyond the 32-bit seq) and a repeated ?after with 400', async () => {
    const c = await startConversation(gateway.url);
    for (const query of ['after=2147483648', 'after=9007199254740991', 'after=1&after=2']) {
      const answer = await call(
        'GET',
        `/v1/conversations/${c.conversationId}/messages?${query}`,
        undefined,
        c.token,
      );
      expect(answer.status, query).toBe(400);
      expect(answer.body.error?.code).toBe('INVALID_REQUEST');
    }
  });
});

describe('the visitor socket', () => {
  it('answers a NUL in a message, a message of zero-width characters and a resume beyond any seq with error frames, and stays open', async () => {
    const c = await startConversation(gateway.url);
    const visitor = await VisitorClient.connect(gateway.url, c.token);
    sockets.push(visitor);
    await visitor.waitFor((f) => f.type === 'status');
    visitor.sendMessage('nul-1', 'hello\u0000world');
    expect(
      await visitor.waitFor((f) => f.type === 'error' && f['clientId'] === 'nul-1'),
    ).toMatchObject({
      code: 'INVALID_REQUEST',
    });
    visitor.sendMessage('zw-1', '\u200B\u200D\u2060\uFEFF');
    expect(
      await visitor.waitFor((f) => f.type === 'error' && f['clientId'] === 'zw-1'),
    ).toMatchObject({
      code: 'INVALID_REQUEST',
      message: 'the message is empty',
    });
    visitor.send({ type: 'resume', afterSeq: 2 ** 40 });
    visitor.send({ type: 'resume', afterSeq: 1000 });
    await visitor.waitUntil(
      () =>
        visitor.of('error').filter((f) => f['code'] === 'INVALID_REQUEST').length >= 4 || undefined,
      5_000,
      'an error frame for each resume',
    );
    visitor.sendMessage('ok-1', 'still here');
    await visitor.waitFor((f) => f.type === 'ack' && f['clientId'] === 'ok-1');
    expect(visitor.of('error').map((f) => f['code'])).not.toContain('UNAVAILABLE');
    expect(visitor.closeCode).toBeUndefined();
  });
});

describe('the admin API', () => {
  it('answers a NUL in an agent’s display name and a repeated ?locale with 400, not 503', async () => {
    const agent = await call(
      'PUT',
      '/v1/admin/agents/7001',
      { displayName: 'Ali\u0000ce' },
      gateway.serviceToken,
    );
    expect(agent.status).toBe(400);
    expect(agent.body.error?.code).toBe('INVALID_REQUEST');
    const repeated = await call(
      'DELETE',
      '/v1/admin/templates/welcome?locale=en&locale=de',
      undefined,
      gateway.serviceToken,
    );
    expect(repeated.status).toBe(400);
    expect(repeated.body.error?.code).toBe('INVALID_REQUEST');
    const template = await call(
      'PUT',
      '/v1/admin/templates',
      { key: 'welcome', text: 'Hi\u0000' },
      gateway.serviceToken,
    );
    expect(template.status).toBe(400);
  });
});
