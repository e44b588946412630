import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SpanRecord } from '@topicdesk/telemetry';
import { repoRoot, uniqueName, VisitorClient, type StartedConversation } from '@topicdesk/testkit';
import {
  AGENT,
  BOT_TOKEN,
  GROUP_ID,
  startCluster,
  topicOf,
  type Cluster,
} from '../support/cluster';
import { ancestors, describeChain, eventually, scrape, total, waitForSpans } from './support';

const GATEWAY = 'topicdesk-gateway';
const BRIDGE = 'topicdesk-telegram-bridge';
const PG = '@opentelemetry/instrumentation-pg';
const IOREDIS = '@opentelemetry/instrumentation-ioredis';
const HTTP = '@opentelemetry/instrumentation-http';

const runDir = join(repoRoot, 'test-results', 'observability');
const traceFile = join(runDir, `${uniqueName('trace')}.jsonl`);
const clockFile = join(runDir, `${uniqueName('clock')}.txt`);
let cluster: Cluster;
const clients: VisitorClient[] = [];
let conversation: StartedConversation;
let threadId: number;

async function connect(
  gateway: number,
  token: string,
  options?: { viaQuery?: boolean },
): Promise<VisitorClient> {
  const client = await VisitorClient.connect(cluster.gateways[gateway]!.url, token, options);
  clients.push(client);
  await client.waitFor((f) => f.type === 'status');
  return client;
}

const isNatsProcess = (s: SpanRecord, subject: string) =>
  s.kind === 'consumer' &&
  s.attributes['messaging.system'] === 'nats' &&
  String(s.attributes['messaging.destination.name']).endsWith(subject);
const isNatsPublish = (s: SpanRecord, subject: string) =>
  s.kind === 'producer' &&
  s.attributes['messaging.system'] === 'nats' &&
  String(s.attributes['messaging.destination.name']).endsWith(subject);

beforeAll(async () => {
  mkdirSync(runDir, { recursive: true });
  const traced = { TOPICDESK_TRACE_FILE: traceFile };
  cluster = await startCluster({
    gateways: 2,
    gatewayEnv: { ...traced, WS_RATE_BURST: '20', WS_RATE_PER_SEC: '5' },
    bridgeEnv: traced,
    schedulerEnv: { ...traced, SCHEDULER_CLOCK_FILE: clockFile, SCHEDULER_INTERVAL: '1s' },
  });
}, 120_000);

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await cluster?.stop();
});

describe('one trace per message across separate processes', () => {
  it('continues the caller’s trace context through the gateway, NATS and the bridge to createForumTopic', async () => {
    // The test is the caller: its traceparent must be the root of everything that follows.
    const traceId = randomBytes(16).toString('hex');
    const callerSpanId = randomBytes(8).toString('hex');
    const response = await fetch(`${cluster.gateways[0]!.url}/v1/conversations`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        traceparent: `00-${traceId}-${callerSpanId}-01`,
      },
      body: JSON.stringify({ name: 'Tracy' }),
    });
    expect(response.status).toBe(201);
    conversation = (await response.json()) as StartedConversation;
    threadId = await topicOf(cluster.sandbox, conversation.ticket);

    // Spans are written when they end, so the bridge's CONSUMER span being in the file means
    // the sync that created the topic has finished.
    const { call, chain } = await waitForSpans(
      traceFile,
      (spans) => {
        const call = spans.find(
          (s) => s.traceId === traceId && s.name === 'telegram createForumTopic',
        );
        if (!call) return undefined;
        const chain = ancestors(spans, call);
        return chain.some((s) => isNatsProcess(s, 'conversation.sync')) &&
          chain.at(-1)?.parentSpanId === callerSpanId
          ? { call, chain }
          : undefined;
      },
      15_000,
      'the createForumTopic span and its consumer span',
    );
    expect(call).toMatchObject({ service: BRIDGE, kind: 'client', status: 'unset' });
    expect(call.attributes).toMatchObject({
      'rpc.method': 'createForumTopic',
      'http.response.status_code': 200,
      'telegram.chat_id': GROUP_ID,
    });
    const consumer = chain.find((s) => isNatsProcess(s, 'conversation.sync'))!;
    expect(consumer.service).toBe(BRIDGE);
    const publish = chain.find((s) => isNatsPublish(s, 'conversation.sync'));
    expect(publish?.service, describeChain(chain)).toBe(GATEWAY);
    // The chain ends at the gateway's HTTP server span, whose parent is the caller's span.
    const root = chain.at(-1)!;
    expect(root, describeChain(chain)).toMatchObject({
      service: GATEWAY,
      kind: 'server',
      parentSpanId: callerSpanId,
    });
  });

  it('runs one trace from a visitor’s WebSocket message through gateway, NATS and bridge to the Telegram sendMessage call', async () => {
    const visitor = await connect(0, conversation.token);
    visitor.sendMessage('t-1', 'Where is my parcel?');
    await visitor.waitFor((f) => f.type === 'ack' && f['clientId'] === 't-1');

    const { root, send, chain, trace } = await waitForSpans(
      traceFile,
      (spans) => {
        const root = spans.find(
          (s) =>
            s.name === 'ws message' &&
            s.attributes['topicdesk.conversation_id'] === conversation.conversationId,
        );
        const send =
          root &&
          spans.find((s) => s.traceId === root.traceId && s.name === 'telegram sendMessage');
        if (!root || !send) return undefined;
        // Spans are written as they end, children first: wait for the whole chain.
        const chain = ancestors(spans, send);
        if (chain.at(-1)?.spanId !== root.spanId) return undefined;
        return { root, send, chain, trace: spans.filter((s) => s.traceId === root.traceId) };
      },
      15_000,
      'a trace from the ws message to sendMessage',
    );

    expect(root).toMatchObject({ service: GATEWAY, kind: 'server' });
    expect(root.parentSpanId).toBeUndefined();
    expect(send).toMatchObject({ service: BRIDGE, kind: 'client' });
    expect(send.attributes).toMatchObject({
      'rpc.system': 'telegram_bot_api',
      'rpc.method': 'sendMessage',
      'http.response.status_code': 200,
      'telegram.chat_id': GROUP_ID,
      'telegram.message_thread_id': threadId,
      'telegram.retry_count': 0,
    });
    // Unbroken: sendMessage ← bridge CONSUMER (conversation.sync) ← gateway PRODUCER ← ws message.
    const text = describeChain([send, ...chain]);
    expect(chain.at(-1), text).toEqual(root);
    const consumerAt = chain.findIndex((s) => isNatsProcess(s, 'conversation.sync'));
    const producerAt = chain.findIndex((s) => isNatsPublish(s, 'conversation.sync'));
    expect(consumerAt, text).toBeGreaterThanOrEqual(0);
    expect(producerAt, text).toBeGreaterThan(consumerAt);
    expect(chain[consumerAt]!.service).toBe(BRIDGE);
    expect(chain[producerAt]!.service).toBe(GATEWAY);
    expect(chain[consumerAt]!.parentSpanId).toBe(chain[producerAt]!.spanId);

    // The Bot API request itself (http instrumentation) hangs under the call's span, token hidden.
    const request = trace.find(
      (s) => s.scope === HTTP && s.kind === 'client' && s.parentSpanId === send.spanId,
    );
    expect(request?.attributes['url.full']).toMatch(/\/bot<redacted>\/sendMessage$/);
    // The instrumentations patched the real drivers in both processes: the message was stored
    // (pg) in the gateway, and the bridge took its sync lock (ioredis) and read Postgres.
    expect(trace.some((s) => s.service === GATEWAY && s.scope === PG)).toBe(true);
    expect(trace.some((s) => s.service === BRIDGE && s.scope === PG)).toBe(true);
    expect(trace.some((s) => s.service === BRIDGE && s.scope === IOREDIS)).toBe(true);
    // No visitor text in any span.
    expect(JSON.stringify(trace)).not.toContain('parcel');
  });

  it('runs one trace from a Telegram webhook through bridge, NATS, Redis and the other gateway replica to the WebSocket frame', async () => {
    // The second tab passes its token in the query string, which must not reach a span either.
    const onB = await connect(1, conversation.token, { viaQuery: true });
    cluster.sandbox.state.injectMessage({
      chatId: GROUP_ID,
      messageThreadId: threadId,
      text: 'It left the warehouse today.',
      from: AGENT,
    });
    const frame = await onB.waitFor((f) => f.type === 'message' && f['kind'] === 'agent');

    const { frameSpan, chain, trace } = await waitForSpans(
      traceFile,
      (spans) => {
        const frameSpan = spans.find(
          (s) =>
            s.name === 'ws send message' &&
            s.attributes['topicdesk.conversation_id'] === conversation.conversationId &&
            s.attributes['topicdesk.seq'] === frame['seq'],
        );
        if (!frameSpan) return undefined;
        const chain = ancestors(spans, frameSpan);
        const root = chain.at(-1);
        // Complete once the chain reaches the webhook request (spans end bottom-up).
        if (!root || root.service !== BRIDGE || root.parentSpanId !== undefined) return undefined;
        return { frameSpan, chain, trace: spans.filter((s) => s.traceId === frameSpan.traceId) };
      },
      15_000,
      'a trace from the webhook to the WebSocket frame',
    );
    const text = describeChain([frameSpan, ...chain]);
    expect(frameSpan).toMatchObject({ service: GATEWAY, kind: 'producer' });

    // ws send ← gateway CONSUMER (Redis fanout) ← bridge PRODUCER (Redis fanout) ← … ←
    // bridge CONSUMER (telegram.update) ← bridge PRODUCER (telegram.update) ← … ← webhook request.
    const fanoutIn = chain.findIndex(
      (s) => s.kind === 'consumer' && s.attributes['messaging.system'] === 'redis',
    );
    const fanoutOut = chain.findIndex(
      (s) => s.kind === 'producer' && s.attributes['messaging.system'] === 'redis',
    );
    const updateIn = chain.findIndex((s) => isNatsProcess(s, 'telegram.update'));
    const updateOut = chain.findIndex((s) => isNatsPublish(s, 'telegram.update'));
    expect(fanoutIn, text).toBe(0);
    expect(chain[fanoutIn]!.service).toBe(GATEWAY);
    expect(fanoutOut, text).toBeGreaterThan(fanoutIn);
    expect(chain[fanoutOut]!.service).toBe(BRIDGE);
    expect(updateIn, text).toBeGreaterThan(fanoutOut);
    expect(updateOut, text).toBeGreaterThan(updateIn);
    expect(chain[updateIn]!.service).toBe(BRIDGE);
    const root = chain.at(-1)!;
    expect(root, text).toMatchObject({ service: BRIDGE, kind: 'server' });
    // The Redis PUBLISH itself (ioredis) is in the trace, under the fanout PRODUCER span.
    expect(
      trace.some(
        (s) =>
          s.scope === IOREDIS &&
          s.name === 'publish' &&
          s.parentSpanId === chain[fanoutOut]!.spanId,
      ),
      text,
    ).toBe(true);
    // Neither the webhook's secret path nor what the agent wrote is in any span.
    const all = JSON.stringify(trace);
    expect(all).not.toContain(cluster.webhookSecret);
    expect(all).not.toContain('warehouse');
  });

  it('keeps tokens and secrets out of every span of the run', async () => {
    const spans = await waitForSpans(traceFile, (s) => (s.length > 0 ? s : undefined));
    const all = JSON.stringify(spans);
    expect(all).not.toContain(conversation.token);
    expect(all).not.toContain(cluster.webhookSecret);
    expect(all).not.toContain(cluster.headerSecret);
    expect(all).not.toContain(BOT_TOKEN.split(':')[1]);
    // WebSocket upgrades are traced (by @fastify/otel) like any request, token left out.
    expect(
      spans.some(
        (s) =>
          s.service === GATEWAY &&
          s.scope === '@fastify/otel' &&
          s.attributes['http.route'] === '/v1/ws' &&
          s.attributes['url.path'] === '/v1/ws',
      ),
    ).toBe(true);
  });
});

describe('Prometheus metrics of every service after an end-to-end run', () => {
  it('exposes the documented series, non-zero where traffic flowed', async () => {
    const visitor = clients[0]!;
    // Traffic the earlier tests did not make: a webhook with a wrong secret, a frame flood,
    // a Telegram 429 the bridge waits out, and an auto-close.
    const refused = await fetch(`${cluster.bridge.url}/v1/telegram/webhook/not-the-secret`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ update_id: 1 }),
    });
    expect(refused.status).toBe(404);

    // Two frames past the burst of 20: refused, but too few to get the socket closed for flooding.
    for (let i = 0; i < 22; i++) visitor.send({ type: 'typing' });
    await visitor.waitFor((f) => f.type === 'error' && f['code'] === 'RATE_LIMITED');
    // Let the frame bucket refill before sending messages again.
    await new Promise((resolve) => setTimeout(resolve, 1500));

    // The sandbox allows one message per 3 s in the chat, no burst; the bridge's own budget (the
    // suite's generous one) allows more, so its second send is answered 429 and retried after
    // retry_after.
    cluster.sandbox.state.setLimits({
      enabled: true,
      perChatPerSecond: 1,
      chatWindowMs: 3000,
      chatBurst: 1,
    });
    try {
      visitor.sendMessage('m-1', 'first');
      await visitor.waitFor((f) => f.type === 'ack' && f['clientId'] === 'm-1');
      const first = visitor.frames.find((f) => f.type === 'ack' && f['clientId'] === 'm-1')!;
      await visitor.waitFor(
        (f) => f.type === 'receipt' && f['seq'] === first['seq'] && f['state'] === 'delivered',
        15_000,
      );
      visitor.sendMessage('m-2', 'second');
      await visitor.waitFor((f) => f.type === 'ack' && f['clientId'] === 'm-2');
      const second = visitor.frames.find((f) => f.type === 'ack' && f['clientId'] === 'm-2')!;
      await visitor.waitFor(
        (f) => f.type === 'receipt' && f['seq'] === second['seq'] && f['state'] === 'delivered',
        20_000,
      );
    } finally {
      cluster.sandbox.state.setLimits({ enabled: false });
    }
    expect(cluster.sandbox.state.calls().some((c) => c.status === 429)).toBe(true);

    const [gatewayA, gatewayB, bridge] = await Promise.all([
      scrape(cluster.gateways[0]!.url),
      scrape(cluster.gateways[1]!.url),
      scrape(cluster.bridge.url),
    ]);

    // Gateway A holds the visitor's first socket; B the second tab.
    expect(total(gatewayA, 'topicdesk_ws_connections')).toBeGreaterThanOrEqual(1);
    expect(total(gatewayB, 'topicdesk_ws_connections')).toBeGreaterThanOrEqual(1);
    expect(total(gatewayA, 'topicdesk_ws_frames_in_total')).toBeGreaterThan(0);
    expect(total(gatewayA, 'topicdesk_ws_frames_out_total', { type: 'ack' })).toBeGreaterThan(0);
    expect(
      total(gatewayA, 'topicdesk_messages_in_total', { kind: 'visitor', tenant: 'default' }),
    ).toBe(3);
    expect(
      total(gatewayB, 'topicdesk_messages_out_total', { kind: 'agent', tenant: 'default' }),
    ).toBeGreaterThan(0);
    // Per tenant by nature, with the bounded tenant label (docs/operations.md).
    expect(
      total(gatewayA, 'topicdesk_conversations_started_total', {
        channel: 'web',
        tenant: 'default',
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(total(gatewayA, 'topicdesk_ack_latency_seconds_count')).toBe(3);
    // Seconds buckets, not the SDK's millisecond ones.
    expect(total(gatewayA, 'topicdesk_ack_latency_seconds_bucket', { le: '0.25' })).toBeDefined();
    expect(
      total(gatewayB, 'topicdesk_delivery_latency_seconds_count', { direction: 'to_visitor' }),
    ).toBeGreaterThan(0);
    expect(
      total(gatewayA, 'topicdesk_rate_limit_hits_total', { scope: 'ws_frame' }),
    ).toBeGreaterThan(0);
    for (const gateway of [gatewayA, gatewayB]) {
      expect(total(gateway, 'topicdesk_outbox_pending')).toBeDefined();
      expect(total(gateway, 'topicdesk_outbox_lag_seconds')).toBeDefined();
    }

    expect(
      total(bridge, 'topicdesk_telegram_calls_total', { method: 'sendMessage', code: '200' }),
    ).toBeGreaterThanOrEqual(3);
    expect(
      total(bridge, 'topicdesk_telegram_calls_total', { method: 'createForumTopic', code: '200' }),
    ).toBeGreaterThan(0);
    expect(
      total(bridge, 'topicdesk_telegram_errors_total', { method: 'sendMessage', code: '429' }),
    ).toBeGreaterThan(0);
    expect(
      total(bridge, 'topicdesk_telegram_429_total', { method: 'sendMessage', tenant: 'default' }),
    ).toBeGreaterThan(0);
    expect(
      total(bridge, 'topicdesk_telegram_retries_total', { method: 'sendMessage' }),
    ).toBeGreaterThan(0);
    expect(total(bridge, 'topicdesk_telegram_sends_waiting')).toBeDefined();
    expect(
      total(bridge, 'topicdesk_webhook_auth_failures_total', { reason: 'path' }),
    ).toBeGreaterThan(0);
    expect(total(bridge, 'topicdesk_messages_in_total', { kind: 'agent', tenant: 'default' })).toBe(
      1,
    );
    // That reply was its conversation's first: observed when it was stored (docs/reports.md).
    expect(total(bridge, 'topicdesk_first_response_seconds_count', { channel: 'web' })).toBe(1);
    expect(
      total(bridge, 'topicdesk_first_response_seconds_bucket', { channel: 'web', le: '604800' }),
    ).toBe(1);
    expect(
      total(bridge, 'topicdesk_messages_out_total', { kind: 'visitor', tenant: 'default' }),
    ).toBe(3);
    expect(
      total(bridge, 'topicdesk_delivery_latency_seconds_count', { direction: 'to_telegram' }),
    ).toBe(3);
    for (const durable of ['bridge-sync', 'bridge-updates']) {
      expect(total(bridge, 'topicdesk_nats_consumer_pending', { durable })).toBeDefined();
      expect(total(bridge, 'topicdesk_nats_consumer_ack_pending', { durable })).toBeDefined();
    }
    expect(total(bridge, 'topicdesk_outbox_lag_seconds')).toBeDefined();

    // A day later by the scheduler's clock, every open conversation is idle: it closes them.
    writeFileSync(clockFile, String(25 * 3_600_000));
    await visitor.waitFor((f) => f.type === 'status' && f['status'] === 'closed', 15_000);
    // The job counts its closes once its batch is published, a moment after the visitor hears.
    const scheduler = await eventually(
      () => scrape(cluster.schedulers[0]!.url),
      (samples) => (total(samples, 'topicdesk_auto_closed_total') ?? 0) > 0,
    );
    expect(total(scheduler, 'topicdesk_auto_closed_total')).toBeGreaterThan(0);
    // Each close is a resolution, observed by the service that closed it.
    expect(
      total(scheduler, 'topicdesk_resolution_seconds_count', { channel: 'web' }),
    ).toBeGreaterThan(0);
    expect(
      total(scheduler, 'topicdesk_scheduler_runs_total', { job: 'auto-close' }),
    ).toBeGreaterThan(0);
    expect(total(scheduler, 'topicdesk_outbox_pending')).toBeDefined();
  });
});

describe('scheduler traces', () => {
  it('runs one trace from an auto-close run through NATS to the bridge closing the topic', async () => {
    // The previous test moved the scheduler's clock a day ahead, which closed the conversations.
    const { run, close } = await waitForSpans(
      traceFile,
      (spans) => {
        for (const run of spans.filter(
          (s) =>
            s.name === 'scheduler auto-close' &&
            Number(s.attributes['topicdesk.job.handled'] ?? 0) > 0,
        )) {
          const close = spans.find(
            (s) => s.traceId === run.traceId && s.name === 'telegram closeForumTopic',
          );
          if (close) return { run, close };
        }
        return undefined;
      },
      20_000,
      'an auto-close run and its closeForumTopic',
    );
    expect(run).toMatchObject({ service: 'topicdesk-scheduler' });
    expect(run.parentSpanId).toBeUndefined();
    expect(close).toMatchObject({ service: BRIDGE, kind: 'client' });
    expect(close.attributes['http.response.status_code']).toBe(200);
  });
});
