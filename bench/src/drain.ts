// Benchmark 4: a Telegram-limited drain, in two cases (BENCH_DRAIN_CASE=existing|new|all).
//
// `existing`: 100 conversations burst (three messages each, at once) while the sandbox enforces
// Telegram's limits (1 message/s per chat, 20/min per group, 30/s per bot) and the bridge runs
// with its defaults for them. Their topics were created beforehand. Every topic is in the one
// support group, so the group's budget is what paces the drain. Measured: 429s provoked (goal:
// at most one) and the send rate against what the limits allow (goal: at least 90 %).
//
// `new`: 100 visitors arrive within seconds and each sends three texts, so every conversation
// also needs its topic (and whatever else the bridge posts for a new one). The sandbox enforces
// the limits per bot with Telegram's real windows; the bridge gets BENCH_SENDER_BOTS pool bots
// (TELEGRAM_SENDER_BOT_TOKENS). Measured: makespan, group calls per new conversation, time from
// a visitor's first text to its appearance in the topic, 429s, share of the allowed rate (bots ×
// 20 per minute) and the calls each bot made (issue 11). Calls the bridge puts off past the last
// text (the header's pin) are waited for and counted per conversation too.
import { pathToFileURL } from 'node:url';
import { RATE_LIMITED_METHODS } from '@topicdesk/telegram-sandbox';
import { startConversation, testInfra, type StartedConversation } from '@topicdesk/testkit';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { BOT_TOKEN, GROUP_ID, startCluster, type Cluster } from '../../test/support/cluster';
import { inBatches, percentile, report, round, sleep, startConversations } from './lib/machine';

const CONVERSATIONS = Number(process.env['BENCH_CONVERSATIONS'] ?? '100');
const SENDER_BOTS = Number(process.env['BENCH_SENDER_BOTS'] ?? '0');
const DRAIN_CASES = ['existing', 'new'] as const;
type DrainCase = (typeof DRAIN_CASES)[number];
const MESSAGES_EACH = 3;
const LIMITS = { perGroupPerMinute: 20, perChatPerSecond: 1, globalPerSecond: 30 };
/** How long the `new` case waits for the last text before it reports what arrived. */
const NEW_CASE_DEADLINE_MS = 60 * 60_000;
/**
 * After the last text, how long the `new` case keeps counting group calls (a pin, a header edit
 * the bridge makes later): until no call into the group for QUIET_MS (a group window and a
 * sweep), at most SETTLE_DEADLINE_MS. It does not wait for every header to be pinned:
 * TELEGRAM_PIN_HEADER=auto skips the pin for good while the group is backed up.
 */
const SETTLE_DEADLINE_MS = 20 * 60_000;
const QUIET_MS = 90_000;
/** TELEGRAM_PIN_HEADER for the bridge in the `new` case (auto, always, never; default auto). */
const PIN_HEADER = process.env['BENCH_PIN_HEADER'] ?? 'auto';

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

/**
 * Restarts the cluster's bridge with Telegram's limits (its defaults) and turns them on in the
 * sandbox, both starting from empty windows: for a benchmark whose set-up ran with them off.
 */
export async function withTelegramLimits(cluster: Cluster): Promise<void> {
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
}

/**
 * Seconds the limits need for `count` sends into the group by `bots` bots, starting empty: each
 * bot has its own windows, so the sends are spread evenly and the busiest bot sets the time.
 */
function idealSeconds(count: number, bots: number): number {
  if (count === 0) return 0;
  return idealSchedule(Math.ceil(count / bots)).at(-1)! / 1000;
}

/** Pool bots' tokens with bot ids distinct from the main bot's (200000001). */
export function senderTokens(count: number): string[] {
  return Array.from({ length: count }, (_, i) => {
    const nn = String(i + 2).padStart(2, '0');
    return `2000000${nn}:bench-sender-${nn}`;
  });
}

const botIdOf = (token: string) => Number(token.split(':')[0]);

export async function benchDrain() {
  const chosen = process.env['BENCH_DRAIN_CASE'] ?? 'all';
  const cases: readonly DrainCase[] =
    chosen === 'all' ? DRAIN_CASES : DRAIN_CASES.filter((c) => c === chosen);
  if (cases.length === 0)
    throw new Error(`BENCH_DRAIN_CASE=${chosen}; use ${DRAIN_CASES.join(', ')} or all`);
  for (const drainCase of cases) {
    switch (drainCase) {
      case 'existing':
        await drainExisting();
        break;
      case 'new':
        await drainNew();
        break;
      default: {
        const never: never = drainCase;
        throw new Error(`unknown drain case ${String(never)}`);
      }
    }
  }
}

/** The `existing` case: conversations whose topics exist burst three messages each. */
async function drainExisting() {
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
    const conversations = await startConversations(gateway.url, CONVERSATIONS);
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

    await withTelegramLimits(cluster);
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

/** Group calls of one bot id, by method. */
type CallsByMethod = Record<string, number>;

/** The `new` case: visitors arrive at once, start conversations and send three texts each. */
async function drainNew() {
  const tokens = senderTokens(SENDER_BOTS);
  const bots = 1 + tokens.length;
  const cluster = await startCluster({
    gateways: 1,
    schedulers: 0,
    // Telegram's limits with its real windows, per bot; the bridge keeps its defaults for them.
    sandboxLimits: { enabled: true, ...LIMITS },
    gatewayEnv: {
      LIMIT_CONVERSATIONS_PER_DAY: '100000',
      LIMIT_MESSAGES_PER_HOUR: '100000',
      LOG_LEVEL: 'warn',
    },
    bridgeEnv: {
      LOG_LEVEL: 'warn',
      // Telegram's window, said outright: tests shorten it, the bench must not.
      TELEGRAM_LIMIT_GROUP_WINDOW: '60s',
      TELEGRAM_PIN_HEADER: PIN_HEADER,
      ...(tokens.length > 0 ? { TELEGRAM_SENDER_BOT_TOKENS: tokens.join(',') } : {}),
    },
  });
  const sockets: WebSocket[] = [];
  try {
    const gateway = cluster.gateways[0]!;
    const { state } = cluster.sandbox;
    // A text → when it first showed in the group, and in which topic.
    const seen = new Map<string, { at: number; threadId: number | undefined }>();
    let carriedByHeader = 0;
    const expected = new Set<string>();
    state.on('message', ({ chatId, message, byBot }) => {
      if (!byBot || chatId !== GROUP_ID || typeof message.text !== 'string') return;
      const at = Date.now();
      // Texts are merged with blank lines between them; the new bridge puts the first ones
      // under the header, the first of them after a '💬 '.
      for (const part of message.text.split('\n\n')) {
        const line = part.replace(/^💬 /u, '');
        if (expected.has(line) && !seen.has(line)) {
          seen.set(line, { at, threadId: message.message_thread_id });
          if (message.text.includes('\n\n💬 ')) carriedByHeader++;
        }
      }
    });
    // Every call into the group, counted when the sandbox counts it against the limits (the set
    // grows as the sandbox learns which calls Telegram counts) or listed apart when it does not.
    const limited: Array<{ method: string; botId: number | null; status: number; at: number }> = [];
    const unlimited = new Map<string, number>();
    let tooMany = 0;
    let otherErrors = 0;
    // Any call into the group, counted or not, refused or not: the quiet wait starts after it.
    let lastGroupCallAt = 0;
    state.on('call', (call) => {
      if (call.status === 429) tooMany++;
      else if (call.status !== 200) otherErrors++;
      if (Number(call.params['chat_id']) !== GROUP_ID) return;
      lastGroupCallAt = Date.now();
      if (RATE_LIMITED_METHODS.has(call.method))
        limited.push({ method: call.method, botId: call.botId, status: call.status, at: call.at });
      else if (call.status === 200)
        unlimited.set(call.method, (unlimited.get(call.method) ?? 0) + 1);
    });

    // The arrival: each visitor starts a conversation, connects and sends three texts at once.
    const firstTextAt: number[] = [];
    const tickets: string[] = [];
    const arrivalStarted = Date.now();
    await inBatches(
      Array.from({ length: CONVERSATIONS }, (_, i) => i),
      20,
      async (i) => {
        const conversation = await startConversation(gateway.url);
        const socket = await connect(gateway.url, conversation);
        sockets[i] = socket;
        tickets[i] = conversation.ticket;
        for (let n = 0; n < MESSAGES_EACH; n++) expected.add(`new ${i}.${n}`);
        firstTextAt[i] = Date.now();
        for (let n = 0; n < MESSAGES_EACH; n++)
          socket.send(
            JSON.stringify({ type: 'message', clientId: `n-${i}-${n}`, text: `new ${i}.${n}` }),
          );
      },
    );
    const firstText = Math.min(...firstTextAt);
    const arrivalSeconds = (Math.max(...firstTextAt) - firstText) / 1000;
    console.log(
      `[drain new] ${CONVERSATIONS} visitors arrived in ${round(arrivalSeconds, 1)} s ` +
        `(${round((firstText - arrivalStarted) / 1000, 1)} s to the first text); ${bots} bot(s)`,
    );

    const deadline = Date.now() + NEW_CASE_DEADLINE_MS;
    let lastProgress = Date.now();
    while (seen.size < expected.size && Date.now() < deadline) {
      await sleep(500);
      if (Date.now() - lastProgress >= 30_000) {
        lastProgress = Date.now();
        console.log(
          `[drain new] ${round((Date.now() - firstText) / 1000, 0)} s: ${seen.size}/` +
            `${expected.size} texts in the group, ${limited.length} limited group calls, ` +
            `${tooMany} × 429`,
        );
      }
    }

    const textsDoneAt = Date.now();
    const lastVisible = Math.max(...[...seen.values()].map((s) => s.at));

    // Calls after the last text (pins, edits) still belong to the conversations: count them
    // until the group has been quiet for QUIET_MS, which shows no more are coming.
    const pinnedHeaders = () =>
      state.messages({ chatId: GROUP_ID, fromBot: true }).filter((m) => m.pinned).length;
    const settleDeadline = Date.now() + SETTLE_DEADLINE_MS;
    while (
      Date.now() - Math.max(textsDoneAt, lastGroupCallAt) < QUIET_MS &&
      Date.now() < settleDeadline
    ) {
      await sleep(1_000);
      if (Date.now() - lastProgress >= 30_000) {
        lastProgress = Date.now();
        console.log(
          `[drain new] ${round((Date.now() - firstText) / 1000, 0)} s: quiet for ` +
            `${round((Date.now() - Math.max(textsDoneAt, lastGroupCallAt)) / 1000, 0)} s, ` +
            `${pinnedHeaders()}/${CONVERSATIONS} headers pinned, ${limited.length} limited ` +
            `group calls, ${tooMany} × 429`,
        );
      }
    }
    const settledSeconds = round((Date.now() - textsDoneAt) / 1000, 1);

    // Where each conversation's texts landed: its own topic (named with its ticket), in order.
    const topicByTicket = new Map(state.topics(GROUP_ID).map((t) => [t.name, t.threadId]));
    const threadOf = (ticket: string) =>
      [...topicByTicket].find(([name]) => name.includes(ticket))?.[1];
    const firstVisible: number[] = [];
    let misplaced = 0;
    let outOfOrder = 0;
    for (let i = 0; i < CONVERSATIONS; i++) {
      const threadId = threadOf(tickets[i]!);
      const times = Array.from({ length: MESSAGES_EACH }, (_, n) => seen.get(`new ${i}.${n}`));
      for (const time of times) if (time && time.threadId !== threadId) misplaced++;
      for (let n = 1; n < MESSAGES_EACH; n++)
        if (times[n] && times[n - 1] && times[n]!.at < times[n - 1]!.at) outOfOrder++;
      if (times[0]) firstVisible.push((times[0].at - firstTextAt[i]!) / 1000);
    }
    const accepted = limited.filter((c) => c.status === 200);
    const byMethod: CallsByMethod = {};
    const byBot: Record<string, number> = {};
    for (const call of accepted) {
      byMethod[call.method] = (byMethod[call.method] ?? 0) + 1;
      byBot[String(call.botId)] = (byBot[String(call.botId)] ?? 0) + 1;
    }
    // The drain proper: the calls up to the last text shown; the rest came after (pins put off).
    const drain = accepted.filter((c) => c.at <= lastVisible);
    const afterByMethod: CallsByMethod = {};
    for (const call of accepted.slice(drain.length))
      afterByMethod[call.method] = (afterByMethod[call.method] ?? 0) + 1;
    const span = drain.length > 1 ? (drain.at(-1)!.at - drain[0]!.at) / 1000 : 0;
    const ideal = idealSeconds(drain.length, bots);
    report(`drain-new-${bots}-bot${bots === 1 ? '' : 's'}`, {
      case: 'new',
      conversations: CONVERSATIONS,
      messagesEach: MESSAGES_EACH,
      bots,
      botIds: [botIdOf(BOT_TOKEN), ...tokens.map(botIdOf)],
      limits: { ...LIMITS, groupWindowMs: 60_000, chatWindowMs: 1_000, globalWindowMs: 1_000 },
      rateLimitedMethods: [...RATE_LIMITED_METHODS],
      pinHeader: PIN_HEADER,
      arrivalSeconds: round(arrivalSeconds, 1),
      texts: expected.size,
      visible: seen.size,
      // Texts that first showed under their topic's header (one call for both).
      carriedByHeader,
      misplaced,
      outOfOrder,
      makespanSeconds: round((lastVisible - firstText) / 1000, 1),
      // Every accepted limited call into the group, those after the last text (pins) included.
      groupCalls: accepted.length,
      groupCallsPerConversation: round(accepted.length / CONVERSATIONS, 2),
      groupCallsByMethod: byMethod,
      groupCallsUntilLastText: drain.length,
      groupCallsAfterLastTextByMethod: afterByMethod,
      lastGroupCallSeconds:
        accepted.length > 0 ? round((accepted.at(-1)!.at - firstText) / 1000, 1) : null,
      headersPinned: pinnedHeaders(),
      // How long after the last text the bench kept counting (QUIET_MS of silence included).
      settledSeconds,
      // Calls into the group the sandbox does not count against the limits (e.g. typing).
      uncountedGroupCallsByMethod: Object.fromEntries(unlimited),
      groupCallsByBot: byBot,
      firstTextVisibleSeconds: {
        p50: round(percentile(firstVisible, 50), 1),
        p95: round(percentile(firstVisible, 95), 1),
        max: round(Math.max(...firstVisible), 1),
      },
      tooManyRequests: tooMany,
      otherErrors,
      // Rate figures over the drain proper (calls up to the last text shown).
      firstToLastGroupCallSeconds: round(span, 1),
      idealSeconds: round(ideal, 1),
      groupCallsPerMinute: span > 0 ? round(((drain.length - 1) / span) * 60, 2) : null,
      allowedPerMinute: bots * LIMITS.perGroupPerMinute,
      // The time the limits need for these calls (starting empty) over the time they took.
      shareOfAllowedRate: span > 0 ? round(ideal / span, 3) : null,
      goals: {
        fiveBots: 'makespan and p95 ≤ ¼ of 1 bot’s, 0 × 429',
        oneBot: 'group calls per conversation ≤ 2.5, makespan ≥ ⅓ shorter than today’s code',
      },
    });
  } finally {
    for (const socket of sockets) socket?.terminate();
    await cluster.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await benchDrain();
