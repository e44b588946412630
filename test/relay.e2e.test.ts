import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startConversation, VisitorClient } from '@topicdesk/testkit';
import {
  agentSays,
  botTexts,
  GROUP_ID,
  startCluster,
  topicOf,
  type Cluster,
} from './support/cluster';

let cluster: Cluster;
const clients: VisitorClient[] = [];

async function connect(gateway: number, token: string, options?: { viaQuery?: boolean }) {
  const client = await VisitorClient.connect(cluster.gateways[gateway]!.url, token, options);
  clients.push(client);
  await client.waitFor((f) => f.type === 'status');
  return client;
}

beforeAll(async () => {
  cluster = await startCluster({ gateways: 2 });
}, 120_000);

afterEach((context) => {
  // On failure, show what Telegram (the sandbox) saw: it is the quickest way to the cause.
  if (context.task.result?.state === 'fail') {
    for (const call of cluster.sandbox.state.calls().slice(-30)) {
      console.log(
        'sandbox call:',
        call.method,
        call.status,
        call.description ?? '',
        JSON.stringify(call.params).slice(0, 160),
      );
    }
  }
});

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await cluster?.stop();
});

describe('visitor ↔ Telegram topic across separate processes', () => {
  it('sends a visitor message on replica A into its own topic, and an agent reply reaches sockets on A and B', async () => {
    const conversation = await startConversation(cluster.gateways[0]!.url, {
      name: 'Ann',
      page: { url: 'https://shop.example/cart', title: 'Cart' },
    });
    expect(conversation.ticket).toMatch(/^SUPP-/);
    const onA = await connect(0, conversation.token);
    const onB = await connect(1, conversation.token, { viaQuery: true });

    onA.sendMessage('c-1', 'Hello, where is my order?');
    const ack = await onA.waitFor((f) => f.type === 'ack');
    expect(ack).toMatchObject({ clientId: 'c-1', seq: 1 });
    // The second tab sees the message; the sender gets an ack, not an echo.
    await onB.waitFor((f) => f.type === 'message' && f['seq'] === 1);
    expect(onB.of('message')[0]).toMatchObject({
      kind: 'visitor',
      text: 'Hello, where is my order?',
    });

    const threadId = await topicOf(cluster.sandbox, conversation.ticket);
    const topic = cluster.sandbox.state.topics(GROUP_ID).find((t) => t.threadId === threadId);
    expect(topic?.name).toBe(`🟢 ${conversation.ticket} · Ann`);
    await cluster.sandbox.state.waitFor(() =>
      botTexts(cluster.sandbox, threadId).includes('Hello, where is my order?'),
    );
    await onA.waitFor((f) => f.type === 'receipt' && f['seq'] === 1 && f['state'] === 'delivered');

    agentSays(cluster.sandbox, threadId, 'It ships today.');
    for (const client of [onA, onB]) {
      const reply = await client.waitFor((f) => f.type === 'message' && f['kind'] === 'agent');
      // The first reply claims the conversation: "Support joined" takes seq 2.
      expect(reply).toMatchObject({ seq: 3, text: 'It ships today.', author: 'Support' });
      expect(client.of('message').find((f) => f['seq'] === 2)).toMatchObject({
        kind: 'system',
        text: 'Support joined the conversation.',
      });
      // Anonymity: nothing of the agent's Telegram identity reaches the visitor.
      expect(JSON.stringify(client.frames)).not.toMatch(/Alice|Agentova|alice_agent|7001/);
    }
    expect(onA.of('message').filter((f) => f['kind'] === 'visitor')).toHaveLength(0);
  });

  it('returns exactly the missed messages, in order, when a visitor resumes on the other replica', async () => {
    const conversation = await startConversation(cluster.gateways[0]!.url);
    const onA = await connect(0, conversation.token);
    onA.sendMessage('r-1', 'first');
    await onA.waitFor((f) => f.type === 'ack');
    const threadId = await topicOf(cluster.sandbox, conversation.ticket);
    agentSays(cluster.sandbox, threadId, 'reply one');
    await onA.waitFor((f) => f.type === 'message' && f['seq'] === 3);
    await onA.close();

    agentSays(cluster.sandbox, threadId, 'reply two');
    agentSays(cluster.sandbox, threadId, 'reply three');
    await cluster.sandbox.state.waitFor(() => true, 10);
    // Wait until both are stored (visible through the REST history).
    await expect
      .poll(
        async () => {
          const res = await fetch(
            `${cluster.gateways[1]!.url}/v1/conversations/${conversation.conversationId}/messages?after=0`,
            {
              headers: { authorization: `Bearer ${conversation.token}` },
            },
          );
          return ((await res.json()) as { messages: unknown[] }).messages.length;
        },
        { timeout: 10_000 },
      )
      .toBe(5);

    const onB = await connect(1, conversation.token);
    onB.send({ type: 'resume', afterSeq: 3 });
    await onB.waitUntil(() => onB.of('message').length >= 2 || undefined);
    await new Promise((r) => setTimeout(r, 300));
    expect(onB.of('message').map((f) => [f['seq'], f['text']])).toEqual([
      [4, 'reply two'],
      [5, 'reply three'],
    ]);
  });

  it('stores one message and sends Telegram one message for the same clientId twice', async () => {
    const conversation = await startConversation(cluster.gateways[0]!.url);
    const onA = await connect(0, conversation.token);
    const onB = await connect(1, conversation.token);
    onA.sendMessage('dup-1', 'only once please');
    onB.sendMessage('dup-1', 'only once please');
    const ackA = await onA.waitFor((f) => f.type === 'ack');
    const ackB = await onB.waitFor((f) => f.type === 'ack');
    expect(ackA['seq']).toBe(1);
    expect(ackB['seq']).toBe(1);
    const threadId = await topicOf(cluster.sandbox, conversation.ticket);
    await cluster.sandbox.state.waitFor(() => botTexts(cluster.sandbox, threadId).length === 1);
    await new Promise((r) => setTimeout(r, 1500));
    expect(botTexts(cluster.sandbox, threadId)).toEqual(['only once please']);
    const res = await fetch(
      `${cluster.gateways[0]!.url}/v1/conversations/${conversation.conversationId}/messages`,
      {
        headers: { authorization: `Bearer ${conversation.token}` },
      },
    );
    expect(((await res.json()) as { messages: unknown[] }).messages).toHaveLength(1);
  });

  it('delivers a 50-message burst to Telegram completely and in order', async () => {
    const conversation = await startConversation(cluster.gateways[0]!.url);
    const onA = await connect(0, conversation.token);
    const texts = Array.from({ length: 50 }, (_, i) => `burst ${String(i + 1).padStart(2, '0')}`);
    texts.forEach((text, i) => onA.sendMessage(`b-${i}`, text));
    await onA.waitUntil(() => onA.of('ack').length === 50 || undefined, 20_000, '50 acks');
    expect(onA.of('ack').map((f) => f['seq'])).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    const threadId = await topicOf(cluster.sandbox, conversation.ticket);
    const received = await cluster.sandbox.state.waitFor(() => {
      const lines = botTexts(cluster.sandbox, threadId).flatMap((t) => t.split('\n\n'));
      return lines.length >= 50 ? lines : undefined;
    }, 30_000);
    expect(received).toEqual(texts);
  });
});

describe('failures', () => {
  it('gets a message acked while the bridge was killed to Telegram exactly once after restart', async () => {
    const conversation = await startConversation(cluster.gateways[0]!.url);
    const onA = await connect(0, conversation.token);
    onA.sendMessage('k-0', 'before the crash');
    await onA.waitFor((f) => f.type === 'ack');
    const threadId = await topicOf(cluster.sandbox, conversation.ticket);
    await cluster.sandbox.state.waitFor(() => botTexts(cluster.sandbox, threadId).length === 1);
    // Recorded as delivered, not only sent: a kill between Telegram's answer and that record
    // sends it again after the restart (Telegram has no idempotency key to prevent that).
    await onA.waitFor((f) => f.type === 'receipt' && f['seq'] === 1 && f['state'] === 'delivered');

    onA.sendMessage('k-1', 'acked, then the bridge dies');
    await onA.waitFor((f) => f.type === 'ack' && f['clientId'] === 'k-1');
    await cluster.bridge.kill();
    await cluster.bridge.start(60_000);
    await cluster.sandbox.state.waitFor(
      () => botTexts(cluster.sandbox, threadId).length >= 2,
      30_000,
    );
    await new Promise((r) => setTimeout(r, 2000));
    expect(botTexts(cluster.sandbox, threadId)).toEqual([
      'before the crash',
      'acked, then the bridge dies',
    ]);
  });

  it('gives a visitor an agent message that arrived while their gateway replica was down', async () => {
    const conversation = await startConversation(cluster.gateways[1]!.url);
    const onB = await connect(1, conversation.token);
    onB.sendMessage('g-1', 'hello');
    await onB.waitFor((f) => f.type === 'ack');
    const threadId = await topicOf(cluster.sandbox, conversation.ticket);
    await cluster.gateways[1]!.kill();
    agentSays(cluster.sandbox, threadId, 'sent while the replica was down');
    const onA = await connect(0, conversation.token);
    onA.send({ type: 'resume', afterSeq: 1 });
    const frame = await onA.waitFor((f) => f.type === 'message' && f['kind'] === 'agent', 15_000);
    expect(frame).toMatchObject({ seq: 3, text: 'sent while the replica was down' });
    await cluster.gateways[1]!.start(60_000);
  });
});

describe('bad input', () => {
  it('answers a non-JSON frame with an error frame and keeps the socket usable', async () => {
    const conversation = await startConversation(cluster.gateways[0]!.url);
    const client = await connect(0, conversation.token);
    client.send('this is not json {');
    expect(await client.waitFor((f) => f.type === 'error')).toMatchObject({ code: 'INVALID_JSON' });
    client.send({ type: 'message', clientId: 42, text: 'wrong type' });
    await client.waitUntil(() => client.of('error').length === 2 || undefined);
    expect(client.of('error')[1]).toMatchObject({ code: 'INVALID_REQUEST' });
    client.sendMessage('after-bad', 'still works');
    expect(await client.waitFor((f) => f.type === 'ack')).toMatchObject({
      clientId: 'after-bad',
      seq: 1,
    });
  });

  it('refuses a 10,000-character text with MESSAGE_TOO_LONG and sends nothing to Telegram', async () => {
    const conversation = await startConversation(cluster.gateways[0]!.url);
    const client = await connect(0, conversation.token);
    client.sendMessage('long-1', 'x'.repeat(10_000));
    expect(await client.waitFor((f) => f.type === 'error')).toMatchObject({
      code: 'MESSAGE_TOO_LONG',
      clientId: 'long-1',
    });
    const threadId = await topicOf(cluster.sandbox, conversation.ticket);
    await new Promise((r) => setTimeout(r, 1000));
    expect(botTexts(cluster.sandbox, threadId)).toEqual([]);
    expect(client.of('ack')).toEqual([]);
  });

  it('answers oversized, malformed and wrong-type REST bodies with 4xx JSON', async () => {
    const url = `${cluster.gateways[0]!.url}/v1/conversations`;
    const post = (body: string, type = 'application/json') =>
      fetch(url, { method: 'POST', headers: { 'content-type': type }, body });
    const cases = [
      [await post(JSON.stringify({ name: 'x'.repeat(40_000) })), 413, 'PAYLOAD_TOO_LARGE'],
      [await post('{"name": '), 400, 'INVALID_JSON'],
      [await post(JSON.stringify({ name: 12 })), 400, 'INVALID_REQUEST'],
      [await post(JSON.stringify({ page: { url: 'not a url' } })), 400, 'INVALID_REQUEST'],
      [await post(JSON.stringify({ surprise: true })), 400, 'INVALID_REQUEST'],
      [await post('name=x', 'application/x-www-form-urlencoded'), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ] as const;
    for (const [response, status, code] of cases) {
      expect(response.status).toBe(status);
      expect(await response.json()).toMatchObject({ error: { code } });
    }
  });

  it("refuses forged, expired and other conversations' tokens", async () => {
    const gateway = cluster.gateways[0]!.url;
    const mine = await startConversation(gateway);
    const other = await startConversation(gateway);
    const history = (id: string, token?: string) =>
      fetch(
        `${gateway}/v1/conversations/${id}/messages`,
        token ? { headers: { authorization: `Bearer ${token}` } } : {},
      );
    const sign = (secret: string, expiresIn: number) =>
      new SignJWT({ tid: 'default' })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(mine.conversationId)
        .setIssuer('topicdesk')
        .setAudience('topicdesk:conversation')
        .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
        .setExpirationTime(Math.floor(Date.now() / 1000) + expiresIn)
        .sign(new TextEncoder().encode(secret));

    expect((await history(mine.conversationId, mine.token)).status).toBe(200);
    const missing = await history(mine.conversationId);
    expect(missing.status).toBe(401);
    expect(await missing.json()).toMatchObject({ error: { code: 'TOKEN_MISSING' } });
    const forged = await history(mine.conversationId, await sign('x'.repeat(40), 3600));
    expect(await forged.json()).toMatchObject({ error: { code: 'TOKEN_INVALID' } });
    const expired = await history(mine.conversationId, await sign(cluster.jwtSecret, -60));
    expect(expired.status).toBe(401);
    expect(await expired.json()).toMatchObject({ error: { code: 'TOKEN_EXPIRED' } });
    const otherOnes = await history(other.conversationId, mine.token);
    expect(otherOnes.status).toBe(403);
    expect(await otherOnes.json()).toMatchObject({ error: { code: 'FORBIDDEN' } });
    await expect(VisitorClient.connect(gateway, 'not-a-token')).rejects.toThrow(/401/);
    await expect(VisitorClient.connect(gateway, await sign('y'.repeat(40), 3600))).rejects.toThrow(
      /401/,
    );

    // An expired token within the grace period is exchanged for a new one.
    const refresh = await fetch(`${gateway}/v1/conversations/${mine.conversationId}/token`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await sign(cluster.jwtSecret, -60)}` },
    });
    expect(refresh.status).toBe(200);
    const fresh = (await refresh.json()) as { token: string; expiresAt: string };
    expect(Date.parse(fresh.expiresAt)).toBeGreaterThan(Date.now());
    expect((await history(mine.conversationId, fresh.token)).status).toBe(200);
  });

  it('refuses webhook calls with a wrong secret path or header, and nothing reaches a visitor', async () => {
    const conversation = await startConversation(cluster.gateways[0]!.url);
    const client = await connect(0, conversation.token);
    client.sendMessage('w-1', 'hi');
    await client.waitFor((f) => f.type === 'ack');
    const threadId = await topicOf(cluster.sandbox, conversation.ticket);
    const update = {
      update_id: 900_000_001,
      message: {
        message_id: 999_001,
        date: Math.floor(Date.now() / 1000),
        chat: { id: GROUP_ID, type: 'supergroup', title: 'Support', is_forum: true },
        from: { id: 666, is_bot: false, first_name: 'Mallory' },
        message_thread_id: threadId,
        is_topic_message: true,
        text: 'forged agent reply',
      },
    };
    const send = (secret: string, header?: string) =>
      fetch(`${cluster.bridge.url}/v1/telegram/webhook/${secret}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(header ? { 'x-telegram-bot-api-secret-token': header } : {}),
        },
        body: JSON.stringify(update),
      });
    expect((await send('wrong-secret', cluster.headerSecret)).status).toBe(404);
    expect((await send(cluster.webhookSecret)).status).toBe(401);
    expect((await send(cluster.webhookSecret, 'wrong_header')).status).toBe(401);
    await new Promise((r) => setTimeout(r, 1000));
    expect(client.frames.some((f) => JSON.stringify(f).includes('forged agent reply'))).toBe(false);

    // The right secrets are accepted (and the same update twice is stored once).
    expect((await send(cluster.webhookSecret, cluster.headerSecret)).status).toBe(200);
    expect((await send(cluster.webhookSecret, cluster.headerSecret)).status).toBe(200);
    await client.waitFor((f) => f.type === 'message' && f['text'] === 'forged agent reply');
    await new Promise((r) => setTimeout(r, 1000));
    expect(client.of('message').filter((f) => f['text'] === 'forged agent reply')).toHaveLength(1);
  });

  it('ignores and counts an update for an unknown topic without crashing', async () => {
    const update = {
      update_id: 900_000_100,
      message: {
        message_id: 999_100,
        date: Math.floor(Date.now() / 1000),
        chat: { id: GROUP_ID, type: 'supergroup', title: 'Support', is_forum: true },
        from: { id: 7001, is_bot: false, first_name: 'Alice' },
        message_thread_id: 987_654,
        is_topic_message: true,
        text: 'to nowhere',
      },
    };
    const response = await fetch(
      `${cluster.bridge.url}/v1/telegram/webhook/${cluster.webhookSecret}`,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-telegram-bot-api-secret-token': cluster.headerSecret,
        },
        body: JSON.stringify(update),
      },
    );
    expect(response.status).toBe(200);
    await expect
      .poll(
        async () => {
          const metrics = await (await fetch(`${cluster.bridge.url}/metrics`)).text();
          return /topicdesk_telegram_updates_ignored_total\{[^}]*reason="unknown_topic"[^}]*\} [1-9]/.test(
            metrics,
          );
        },
        { timeout: 10_000 },
      )
      .toBe(true);
    expect((await fetch(`${cluster.bridge.url}/healthz`)).status).toBe(200);
    // Garbage on the webhook is refused with a code, not a crash.
    const garbage = await fetch(
      `${cluster.bridge.url}/v1/telegram/webhook/${cluster.webhookSecret}`,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-telegram-bot-api-secret-token': cluster.headerSecret,
        },
        body: JSON.stringify({ hello: randomUUID() }),
      },
    );
    expect(garbage.status).toBe(400);
    expect((await fetch(`${cluster.bridge.url}/readyz`)).status).toBe(200);
  });
});
