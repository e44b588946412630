import { request } from 'node:http';
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConversation, VisitorClient } from '@topicdesk/testkit';
import { startCluster, type Cluster } from '../support/cluster';

// The abuse limits of the visitor API against two gateway replicas: the per-socket frame bucket
// and its close after a sustained flood, the cap on a socket's unsent bytes, and the Redis-backed
// quotas (conversations per address, messages per conversation) that hold across replicas.

const LIMITS = {
  WS_RATE_BURST: '100',
  WS_RATE_PER_SEC: '50',
  WS_RATE_CLOSE_AFTER: '50',
  WS_MAX_BUFFERED_BYTES: '65536',
  LIMIT_MESSAGES_PER_HOUR: '20',
  LIMIT_CONVERSATIONS_PER_DAY: '3',
};

let cluster: Cluster;
const clients: VisitorClient[] = [];

beforeAll(async () => {
  cluster = await startCluster({ gateways: 2, gatewayEnv: LIMITS });
}, 120_000);

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await cluster?.stop();
});

async function connect(gateway: number, token: string): Promise<VisitorClient> {
  const client = await VisitorClient.connect(cluster.gateways[gateway]!.url, token);
  clients.push(client);
  await client.waitFor((f) => f.type === 'status');
  return client;
}

/** POST /v1/conversations from a given loopback source address. */
function startFrom(gatewayUrl: string, localAddress: string) {
  const url = new URL('/v1/conversations', gatewayUrl);
  return new Promise<{ status: number; retryAfter: string | undefined; body: unknown }>(
    (resolve, reject) => {
      const req = request(
        url,
        { method: 'POST', localAddress, headers: { 'content-type': 'application/json' } },
        (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              retryAfter: res.headers['retry-after'],
              body: JSON.parse(text) as unknown,
            }),
          );
        },
      );
      req.on('error', reject);
      req.end('{}');
    },
  );
}

/** A counter from a gateway's /metrics, summed over its series matching `labels`. */
async function counter(gatewayUrl: string, name: string, labels: string): Promise<number> {
  const text = await (await fetch(`${gatewayUrl}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith(name) && line.includes(labels))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}

describe('the frame bucket', () => {
  it('answers a flood with RATE_LIMITED frames, then closes it with 4429; the conversation’s other sockets go on', async () => {
    const conversation = await startConversation(cluster.gateways[0]!.url);
    const flooder = await connect(0, conversation.token);
    const other = await connect(0, conversation.token);
    for (let i = 0; i < 400; i++) flooder.send({ type: 'typing' });
    await flooder.waitUntil(() => flooder.closeCode, 10_000, 'the close');
    expect(flooder.closeCode).toBe(4429);
    const errors = flooder.of('error');
    // Past the burst each frame is refused with an error frame; the 50th refusal closes.
    expect(errors).toHaveLength(50);
    expect(new Set(errors.map((f) => f['code']))).toEqual(new Set(['RATE_LIMITED']));

    other.sendMessage('o-1', 'still here');
    await other.waitFor((f) => f.type === 'ack' && f['clientId'] === 'o-1');
    expect(other.closeCode).toBeUndefined();
  });
});

describe('the cap on unsent bytes', () => {
  it('closes a socket that stops reading with 4008, and nothing else', async () => {
    const conversation = await startConversation(cluster.gateways[0]!.url);
    const writer = await connect(0, conversation.token);
    // 20 messages of 4,000 three-byte characters: about 240 KB of history.
    for (let i = 0; i < 20; i++) writer.sendMessage(`big-${i}`, '界'.repeat(4000));
    await writer.waitUntil(() => writer.of('ack').length === 20 || undefined, 20_000, '20 acks');

    let tcp: Socket | undefined;
    const reader = new WebSocket(`${cluster.gateways[0]!.url.replace(/^http/, 'ws')}/v1/ws`, {
      headers: { authorization: `Bearer ${conversation.token}` },
    });
    reader.on('upgrade', (response) => (tcp = response.socket));
    const closed = new Promise<number>((resolve) => reader.on('close', (code) => resolve(code)));
    await new Promise((resolve) => reader.once('open', resolve));
    // Asks for the whole history 40 times (about 10 MB), and stops reading.
    tcp!.pause();
    for (let i = 0; i < 40; i++) reader.send(JSON.stringify({ type: 'resume', afterSeq: 0 }));

    const gateway = cluster.gateways[0]!.url;
    const metric = 'topicdesk_rate_limit_hits_total';
    const deadline = Date.now() + 20_000;
    while ((await counter(gateway, metric, 'scope="ws_slow_consumer"')) === 0) {
      if (Date.now() > deadline) throw new Error('the gateway never gave up on the slow reader');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    // Reading again, the client gets what was on its way, then the close frame.
    tcp!.resume();
    expect(await closed).toBe(4008);

    // The conversation's other socket is unaffected (it has used its messages: it asks for one).
    writer.send({ type: 'resume', afterSeq: 19 });
    await writer.waitFor((f) => f.type === 'message' && f['seq'] === 20);
    expect(writer.closeCode).toBeUndefined();
  });
});

describe('the Redis-backed quotas', () => {
  it('counts the messages of one conversation across both replicas', async () => {
    const conversation = await startConversation(cluster.gateways[1]!.url);
    const onA = await connect(0, conversation.token);
    const onB = await connect(1, conversation.token);
    for (let i = 0; i < 21; i++) (i % 2 === 0 ? onA : onB).sendMessage(`q-${i}`, `quota ${i}`);
    const refused = () =>
      [...onA.of('error'), ...onB.of('error')].filter((f) => f['code'] === 'RATE_LIMITED');
    await onA.waitUntil(
      () => onA.of('ack').length + onB.of('ack').length + refused().length === 21 || undefined,
      20_000,
      '21 answers',
    );
    expect(onA.of('ack').length + onB.of('ack').length).toBe(20);
    expect(refused()).toHaveLength(1);
    expect(refused()[0]).toMatchObject({ clientId: expect.stringMatching(/^q-/) });
    expect(refused()[0]!['retryAfterMs']).toBeGreaterThan(0);
  });

  it('counts the conversations started from one address across both replicas', async () => {
    const [a, b] = cluster.gateways.map((g) => g.url) as [string, string];
    const answers = [];
    for (const url of [a, b, a, b]) answers.push(await startFrom(url, '127.0.0.2'));
    expect(answers.map((r) => r.status)).toEqual([201, 201, 201, 429]);
    expect(answers[3]!.body).toMatchObject({ error: { code: 'CONVERSATION_LIMIT' } });
    expect(Number(answers[3]!.retryAfter)).toBeGreaterThan(0);
    // Another address has its own quota.
    expect((await startFrom(b, '127.0.0.3')).status).toBe(201);
  });
});
