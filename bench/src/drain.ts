// Benchmark 4: a Telegram-limited drain. 100 conversations burst (three messages each, at once)
// while the sandbox enforces Telegram's limits (1 message/s per chat, 20/min per group, 30/s
// per bot) and the bridge runs with its defaults for them. Every topic is in the one support
// group, so the group's budget is what paces the drain. Measured: 429s provoked (goal: at most
// one) and the send rate against what the limits allow (goal: at least 90 %).
import { pathToFileURL } from 'node:url';
import { RATE_LIMITED_METHODS } from '@topicdesk/telegram-sandbox';
import { startConversation, testInfra, type StartedConversation } from '@topicdesk/testkit';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { GROUP_ID, startCluster } from '../../test/support/cluster';
import { inBatches, report, round, sleep } from './lib/machine';

const CONVERSATIONS = Number(process.env['BENCH_CONVERSATIONS'] ?? '100');
const MESSAGES_EACH = 3;
const LIMITS = { perGroupPerMinute: 20, perChatPerSecond: 1, globalPerSecond: 30 };

/**
 * When the k-th of `count` sends could go at the earliest under the limits, starting empty: one
 * per second to the chat, and no more than 20 in any 60 s window to the group.
 */
function idealSchedule(count: number): number[] {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    let at = i === 0 ? 0 : times[i - 1]! + 1_000 / LIMITS.perChatPerSecond;
    const windowStart = i - LIMITS.perGroupPerMinute;
    if (windowStart >= 0) at = Math.max(at, times[windowStart]! + 60_000);
    times.push(at);
  }
  return times;
}

function connect(url: string, conversation: StartedConversation): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/ws`, {
      headers: { authorization: `Bearer ${conversation.token}` },
    });
    socket.on('message', (data: Buffer) => {
      if ((JSON.parse(data.toString('utf8')) as { type: string }).type === 'status')
        resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Deletes the bridge's Telegram budgets, so the drain starts from empty windows as Telegram's do. */
async function clearBudgets(namespace: string): Promise<void> {
  const redis = new Redis(testInfra.redisUrl);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${namespace}:budget*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

export async function benchDrain() {
  const cluster = await startCluster({
    gateways: 1,
    schedulers: 0,
    gatewayEnv: {
      LIMIT_CONVERSATIONS_PER_DAY: '100000',
      LIMIT_MESSAGES_PER_HOUR: '100000',
      LOG_LEVEL: 'warn',
    },
    bridgeEnv: { LOG_LEVEL: 'warn' },
  });
  try {
    const gateway = cluster.gateways[0]!;
    // Set-up with the limits off: the conversations, their topics and first messages (and the
    // welcome each first message gets), so that the burst is nothing but visitor messages.
    const conversations = await inBatches(
      Array.from({ length: CONVERSATIONS }, (_, i) => i),
      20,
      () => startConversation(gateway.url),
    );
    const sockets = await inBatches(conversations, 20, (c) => connect(gateway.url, c));
    sockets.forEach((socket, i) =>
      socket.send(JSON.stringify({ type: 'message', clientId: `hello-${i}`, text: `hello ${i}` })),
    );
    const expected = new Set<string>();
    const delivered = new Map<string, number>();
    cluster.sandbox.state.on('message', ({ chatId, message, byBot }) => {
      if (!byBot || chatId !== GROUP_ID || typeof message.text !== 'string') return;
      for (const line of message.text.split('\n\n'))
        if (expected.has(line) && !delivered.has(line)) delivered.set(line, performance.now());
    });
    await cluster.sandbox.state.waitFor(
      () =>
        cluster.sandbox.state
          .messages({ chatId: GROUP_ID, fromBot: true })
          .filter((m) => typeof m.text === 'string' && m.text.startsWith('hello ')).length >=
        CONVERSATIONS,
      180_000,
    );

    // The bridge with Telegram's limits (its defaults), the sandbox enforcing them, both empty.
    await cluster.bridge.stop();
    for (const key of [
      'TELEGRAM_LIMIT_GROUP_PER_MINUTE',
      'TELEGRAM_LIMIT_CHAT_PER_SECOND',
      'TELEGRAM_LIMIT_SAFETY',
    ])
      delete cluster.bridge.options.env[key];
    await clearBudgets(cluster.namespace);
    cluster.sandbox.state.setLimits({ enabled: true, ...LIMITS });
    await cluster.bridge.start(60_000);
    const sends: Array<{ at: number; status: number }> = [];
    cluster.sandbox.state.on('call', (call) => {
      if (RATE_LIMITED_METHODS.has(call.method)) sends.push({ at: call.at, status: call.status });
    });

    // The burst: every conversation sends three messages at once.
    const burstAt = performance.now();
    sockets.forEach((socket, i) => {
      for (let n = 0; n < MESSAGES_EACH; n++) {
        const text = `burst ${i}.${n}`;
        expected.add(text);
        socket.send(JSON.stringify({ type: 'message', clientId: `b-${i}-${n}`, text }));
      }
    });
    const deadline = Date.now() + 15 * 60_000;
    while (delivered.size < expected.size && Date.now() < deadline) await sleep(500);
    const drainedSeconds = (Math.max(...delivered.values()) - burstAt) / 1000;

    const accepted = sends.filter((s) => s.status === 200).map((s) => s.at);
    const tooMany = sends.filter((s) => s.status === 429).length;
    const span = (accepted.at(-1)! - accepted[0]!) / 1000;
    const ideal = idealSchedule(accepted.length);
    const idealSpan = ideal.at(-1)! / 1000;
    for (const socket of sockets) socket.terminate();
    report('drain', {
      conversations: CONVERSATIONS,
      messages: expected.size,
      delivered: delivered.size,
      limits: LIMITS,
      acceptedSends: accepted.length,
      tooManyRequests: tooMany,
      firstToLastSendSeconds: round(span, 1),
      idealSeconds: round(idealSpan, 1),
      sendRatePerMinute: round(((accepted.length - 1) / span) * 60, 2),
      allowedRatePerMinute: round(((accepted.length - 1) / idealSpan) * 60, 2),
      efficiency: round(idealSpan / span, 3),
      burstToLastDeliveredSeconds: round(drainedSeconds, 1),
      goals: { tooManyRequests: '≤ 1', efficiency: '≥ 0.9' },
    });
  } finally {
    await cluster.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await benchDrain();
