import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConversation, VisitorClient } from '@topicdesk/testkit';
import { startGateway, type GatewayUnderTest } from './gateway-process';

// Issue 12, items 4, 6 and 8: the hourly message quota counts only messages actually stored
// (not resends of one clientId), profile changes are rate-limited, and one conversation cannot
// hold thousands of sockets on a replica.

let gateway: GatewayUnderTest;
const sockets: VisitorClient[] = [];

beforeAll(async () => {
  gateway = await startGateway({
    LIMIT_MESSAGES_PER_HOUR: '3',
    LIMIT_PROFILE_CHANGES_PER_HOUR: '2',
    WS_MAX_SOCKETS_PER_CONVERSATION: '3',
    WS_RATE_BURST: '200',
  });
}, 90_000);

afterAll(async () => {
  await Promise.allSettled(sockets.map((s) => s.close()));
  await gateway?.cleanup();
});

async function connect(token: string): Promise<VisitorClient> {
  const client = await VisitorClient.connect(gateway.url, token);
  sockets.push(client);
  return client;
}

describe('the hourly message quota', () => {
  it('acks 50 resends of one clientId with the same seq, stores it once and counts it once', async () => {
    const c = await startConversation(gateway.url);
    const visitor = await connect(c.token);
    await visitor.waitFor((f) => f.type === 'status');
    for (let i = 0; i < 50; i++) visitor.sendMessage('same', 'hello once');
    await visitor.waitUntil(() => visitor.of('ack').length === 50 || undefined, 15_000, '50 acks');
    expect(new Set(visitor.of('ack').map((f) => f['seq']))).toEqual(new Set([1]));
    // Two more distinct messages fit in the quota of 3; the fourth does not.
    for (const id of ['two', 'three', 'four']) visitor.sendMessage(id, `message ${id}`);
    const refused = await visitor.waitFor(
      (f) => f.type === 'error' && f['code'] === 'RATE_LIMITED',
    );
    expect(refused['clientId']).toBe('four');
    expect(
      visitor
        .of('ack')
        .filter((f) => f['clientId'] !== 'same')
        .map((f) => f['seq']),
    ).toEqual([2, 3]);
  });
});

describe('profile changes', () => {
  it('are limited per conversation per hour: the third rename is 429 RATE_LIMITED with retry-after', async () => {
    const c = await startConversation(gateway.url);
    const rename = (name: string) =>
      fetch(`${gateway.url}/v1/conversations/${c.conversationId}/profile`, {
        method: 'POST',
        headers: { authorization: `Bearer ${c.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name }),
      });
    expect((await rename('Ada')).status).toBe(200);
    expect((await rename('Grace')).status).toBe(200);
    const third = await rename('Hedy');
    expect(third.status).toBe(429);
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await third.json()).toMatchObject({ error: { code: 'RATE_LIMITED' } });
  });
});

describe('sockets per conversation', () => {
  it('closes the socket over WS_MAX_SOCKETS_PER_CONVERSATION with 4409 and keeps the others; a freed slot can be used again', async () => {
    const c = await startConversation(gateway.url);
    const open = [await connect(c.token), await connect(c.token), await connect(c.token)];
    await Promise.all(open.map((s) => s.waitFor((f) => f.type === 'status')));
    const extra = await connect(c.token);
    await extra.waitUntil(() => extra.closeCode, 5_000, 'the close');
    expect(extra.closeCode).toBe(4409);
    expect(extra.of('error')[0]).toMatchObject({ code: 'RATE_LIMITED' });
    // Another conversation is not affected.
    const other = await startConversation(gateway.url);
    const elsewhere = await connect(other.token);
    await elsewhere.waitFor((f) => f.type === 'status');
    for (const s of open) expect(s.closeCode).toBeUndefined();

    await open[0]!.close();
    const again = await connect(c.token);
    await again.waitFor((f) => f.type === 'status');
    expect(again.closeCode).toBeUndefined();
  });
});
