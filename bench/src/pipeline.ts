// Benchmark 2: the visitor → Telegram pipeline with the sandbox's limits off. Every service as
// its own process (gateway, bridge) on the real Postgres, NATS and Redis; visitors send `message`
// frames over WebSockets, and a message counts as delivered when the Telegram sandbox receives
// the bot's sendMessage carrying it. At fixed rates (20, 100, 200/s) and at the maximum (a closed loop:
// each conversation sends its next message once the previous one reached the sandbox). The
// anchor: plain single-row INSERTs from `pg` into the same Postgres at the same concurrency.
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { createTestDatabase, type StartedConversation } from '@topicdesk/testkit';
import pg from 'pg';
import WebSocket from 'ws';
import { GROUP_ID, startCluster, type Cluster } from '../../test/support/cluster';
import { checkoutOf, currentRevision } from './lib/checkout';
import { inBatches, percentile, report, round, sleep, startConversations } from './lib/machine';
import { BENCH_PROCESS, UsageMeter } from './lib/usage';

const CONVERSATIONS = Number(process.env['BENCH_CONVERSATIONS'] ?? '1000');
/** Messages in flight in the closed loop (and INSERTs in flight in the anchor). */
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? '100');
/** Postgres connections of the anchor: the pipeline's own (gateway 10 + bridge 10). */
const POSTGRES_CONNECTIONS = 20;
/** Fixed offered loads, messages/s: light (the unloaded latency), issue 13's 100/s, and 200/s. */
const FIXED_RATES = (process.env['BENCH_RATES'] ?? '20,100,200').split(',').map(Number);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? '20');
/**
 * A pause before a measured window, longer than Postgres's stats lag: a backend reports its
 * commits when it goes idle, but at most once a second; one that went idle sooner reports them
 * 10 s later (PGSTAT_IDLE_INTERVAL, Postgres 15). What happened before the pause would otherwise
 * be counted in the window.
 */
const STATS_SETTLE_MS = 12_000;
/**
 * `BENCH_TRACE_FILE=<prefix>`: each fixed rate's messages are written to `<prefix>-<rate>.json`,
 * one row per text with its send, ack and receipt times (ms since the epoch, to be lined up with
 * the services' logs): which messages make the tail, and when.
 */
const TRACE_FILE = process.env['BENCH_TRACE_FILE'];

interface Visitor {
  conversation: StartedConversation;
  socket: WebSocket;
}

/** Send and receipt times of every message, by its text (each text is unique). */
class Ledger {
  readonly sentAt = new Map<string, number>();
  readonly latencies: number[] = [];
  /** WS send → ack: the gateway's part (stored in Postgres, outbox published). */
  readonly ackLatencies: number[] = [];
  readonly #sent = new Map<string, number>();
  readonly receivedAt: number[] = [];
  onReceived: ((text: string) => void) | undefined;
  /** Per text, with BENCH_TRACE_FILE: sent, acked and received (performance.now()). */
  readonly trace = new Map<string, { sent: number; acked?: number; received?: number }>();

  constructor(cluster: Cluster) {
    cluster.sandbox.state.on('message', ({ chatId, message, byBot }) => {
      if (!byBot || chatId !== GROUP_ID || typeof message.text !== 'string') return;
      const now = performance.now();
      // Messages waiting for the same topic may be merged into one send, one per line pair.
      for (const line of message.text.split('\n\n')) {
        const sent = this.sentAt.get(line);
        if (sent === undefined) continue;
        this.sentAt.delete(line);
        this.latencies.push(now - sent);
        const traced = this.trace.get(line);
        if (traced) traced.received = now;
        this.receivedAt.push(now);
        this.onReceived?.(line);
      }
    });
  }

  acked(clientId: string): void {
    const sent = this.#sent.get(clientId);
    if (sent === undefined) return;
    this.#sent.delete(clientId);
    this.ackLatencies.push(performance.now() - sent);
    const traced = this.trace.get(clientId);
    if (traced) traced.acked = performance.now();
  }

  send(visitor: Visitor, text: string): void {
    this.sentAt.set(text, performance.now());
    if (TRACE_FILE) this.trace.set(text, { sent: performance.now() });
    this.#sent.set(text, performance.now());
    visitor.socket.send(JSON.stringify({ type: 'message', clientId: text, text }));
  }

  reset(): void {
    this.latencies.length = 0;
    this.ackLatencies.length = 0;
    this.receivedAt.length = 0;
    this.trace.clear();
  }

  /** Writes the trace (BENCH_TRACE_FILE) of the messages sent since the last reset. */
  writeTrace(file: string): void {
    const epoch = (ms: number | undefined) =>
      ms === undefined ? null : round(performance.timeOrigin + ms, 1);
    const rows = [...this.trace].map(([text, t]) => ({
      text,
      sentAt: epoch(t.sent),
      ackedAt: epoch(t.acked),
      receivedAt: epoch(t.received),
    }));
    writeFileSync(file, JSON.stringify(rows));
  }
}

function connect(
  url: string,
  conversation: StartedConversation,
  onAck: (clientId: string) => void,
): Promise<Visitor> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/v1/ws`, {
      headers: { authorization: `Bearer ${conversation.token}` },
    });
    socket.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString('utf8')) as {
        type: string;
        code?: string;
        clientId?: string;
      };
      if (frame.type === 'ack' && frame.clientId) onAck(frame.clientId);
      else if (frame.type === 'status') resolve({ conversation, socket });
      else if (frame.type === 'error') console.warn('error frame', frame);
    });
    socket.once('error', reject);
  });
}

function summary(ledger: Ledger, sent: number, seconds: number) {
  return {
    sent,
    delivered: ledger.latencies.length,
    messagesPerSecond: round(ledger.latencies.length / seconds),
    p50Ms: round(percentile(ledger.latencies, 50), 1),
    p99Ms: round(percentile(ledger.latencies, 99), 1),
    ackP50Ms: round(percentile(ledger.ackLatencies, 50), 1),
    ackP99Ms: round(percentile(ledger.ackLatencies, 99), 1),
  };
}

async function fixedRate(ledger: Ledger, visitors: Visitor[], rate: number, meter: UsageMeter) {
  ledger.reset();
  const total = rate * SECONDS;
  const before = await meter.snapshot();
  const began = performance.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - began) / 1000) * rate));
    for (; sent < due; sent++) ledger.send(visitors[sent % visitors.length]!, `r${rate}-${sent}`);
    await sleep(5);
  }
  const deadline = Date.now() + 30_000;
  while (ledger.latencies.length < total && Date.now() < deadline) await sleep(50);
  const seconds = ((ledger.receivedAt.at(-1) ?? performance.now()) - began) / 1000;
  if (TRACE_FILE) ledger.writeTrace(`${TRACE_FILE}-${rate}.json`);
  // From the first send until the last delivery: what these messages cost, idle time included.
  const usage = await meter.since(before, ledger.latencies.length, seconds);
  return { rate, ...summary(ledger, total, seconds), ...usage };
}

/**
 * CONCURRENCY senders, each with one message in flight: the next goes once the sandbox has the
 * previous one. A sender goes round its share of the conversations, so one conversation gets a
 * message only every CONVERSATIONS / CONCURRENCY sends, as with many visitors typing at once.
 */
async function closedLoop(ledger: Ledger, visitors: Visitor[], meter: UsageMeter) {
  ledger.reset();
  const sender = new Map<string, number>();
  const turn = new Array<number>(CONCURRENCY).fill(0);
  let sent = 0;
  let running = true;
  const sendNext = (k: number) => {
    if (!running) return;
    const mine = Math.ceil((visitors.length - k) / CONCURRENCY);
    const visitor = visitors[k + CONCURRENCY * (turn[k]!++ % mine)]!;
    const text = `max-${sent++}`;
    sender.set(text, k);
    ledger.send(visitor, text);
  };
  ledger.onReceived = (text) => {
    const k = sender.get(text);
    sender.delete(text);
    if (k !== undefined) sendNext(k);
  };
  // Warm up for a few seconds, then measure a steady window.
  for (let k = 0; k < CONCURRENCY; k++) sendNext(k);
  await sleep(3_000);
  ledger.reset();
  const before = await meter.snapshot();
  const began = performance.now();
  await sleep(SECONDS * 1000);
  const seconds = (performance.now() - began) / 1000;
  const delivered = ledger.latencies.length;
  const usage = await meter.since(before, delivered, seconds);
  const result = { concurrency: CONCURRENCY, ...summary(ledger, delivered, seconds), ...usage };
  running = false;
  ledger.onReceived = undefined;
  await sleep(3_000);
  return result;
}

/**
 * The anchor: `concurrency` single-row INSERTs in flight for SECONDS, through as many pg
 * connections as the pipeline's services hold (a gateway's and a bridge's pool of 10 each) —
 * which also leaves the shared server's other clients their connections.
 */
async function postgresInserts(concurrency: number) {
  const database = await createTestDatabase('bench');
  const pool = new pg.Pool({ connectionString: database.url, max: POSTGRES_CONNECTIONS });
  // Dropping the database at the end ends its connections; that is expected.
  pool.on('error', () => undefined);
  try {
    await pool.query(`create table bench_messages (
      id bigserial primary key,
      conversation_id uuid not null,
      seq integer not null,
      text text not null,
      created_at timestamptz not null default now()
    )`);
    const latencies: number[] = [];
    let running = true;
    const ids = Array.from({ length: concurrency }, () => crypto.randomUUID());
    const workers = ids.map(async (id) => {
      for (let seq = 1; running; seq++) {
        const started = performance.now();
        await pool.query(
          'insert into bench_messages (conversation_id, seq, text) values ($1, $2, $3)',
          [id, seq, `message ${seq} of a visitor`],
        );
        latencies.push(performance.now() - started);
      }
    });
    await sleep(2_000);
    latencies.length = 0;
    const began = performance.now();
    await sleep(SECONDS * 1000);
    const count = latencies.length;
    const seconds = (performance.now() - began) / 1000;
    running = false;
    await Promise.all(workers);
    return {
      concurrency,
      connections: POSTGRES_CONNECTIONS,
      insertsPerSecond: round(count / seconds),
      p50Ms: round(percentile(latencies.slice(0, count), 50), 2),
      p99Ms: round(percentile(latencies.slice(0, count), 99), 2),
    };
  } finally {
    await pool.end();
    await database.drop();
  }
}

type PipelineRun = Awaited<ReturnType<typeof runPipeline>>;

/** One run of the pipeline on the services of `code` (a checkout's root; default this one). */
async function runPipeline(code: { label: string; revision: string; root?: string | undefined }) {
  const relaxed = {
    LIMIT_CONVERSATIONS_PER_DAY: '100000',
    LIMIT_MESSAGES_PER_HOUR: '1000000',
    WS_RATE_BURST: '10000',
    WS_RATE_PER_SEC: '10000',
    LOG_LEVEL: 'warn',
    // For profiling a run, e.g. --import of bench/src/anchors/cpu-profile.ts.
    ...(process.env['BENCH_GATEWAY_NODE_OPTIONS']
      ? { NODE_OPTIONS: process.env['BENCH_GATEWAY_NODE_OPTIONS'] }
      : {}),
  };
  const cluster = await startCluster({
    gateways: 1,
    schedulers: 0,
    gatewayEnv: relaxed,
    ...(code.root ? { servicesRoot: code.root } : {}),
    // The bridge keeps Telegram's limits by itself (30/s per bot, 20/min into the group): with
    // them the pipeline can do no more than Telegram allows. Raised here, to measure the software.
    bridgeEnv: {
      LOG_LEVEL: 'warn',
      TELEGRAM_LIMIT_GLOBAL_PER_SECOND: '1000000',
      TELEGRAM_LIMIT_CHAT_PER_SECOND: '1000000',
      TELEGRAM_LIMIT_GROUP_PER_MINUTE: '1000000',
      TELEGRAM_LIMIT_SAFETY: '0ms',
      ...(process.env['BENCH_BRIDGE_NODE_OPTIONS']
        ? { NODE_OPTIONS: process.env['BENCH_BRIDGE_NODE_OPTIONS'] }
        : {}),
    },
  });
  let meter: UsageMeter | undefined;
  try {
    const gateway = cluster.gateways[0]!;
    const conversations = await startConversations(gateway.url, CONVERSATIONS);
    await cluster.sandbox.state.waitFor(
      () => cluster.sandbox.state.topics(GROUP_ID).length >= CONVERSATIONS,
      // Minutes on a loaded machine: every topic is a createForumTopic and a header.
      600_000,
    );
    console.log(code.label, `${CONVERSATIONS} topics open`);
    const ledger = new Ledger(cluster);
    const visitors = await inBatches(conversations, 20, (c) =>
      connect(gateway.url, c, (clientId) => ledger.acked(clientId)),
    );
    meter = await UsageMeter.open(
      { gateway: gateway.pid!, bridge: cluster.bridge.pid!, [BENCH_PROCESS]: process.pid },
      cluster.database.name,
      new URL('/postgres', cluster.database.url).toString(),
    );
    // The bridge has just opened the topics and the visitors connected: let it settle before
    // anything is measured, then measure what the pipeline uses idle (subtracted in the
    // *NetOfIdle figures). Longer than Postgres's stats lag (STATS_SETTLE_MS): after 5 s, the
    // commits of the visitors' connections still counted as idle (46.6/s then, about 2/s idle).
    await sleep(STATS_SETTLE_MS);
    const idle = await meter.measureIdle(10);
    console.log(code.label, 'idle', idle);
    const max = await closedLoop(ledger, visitors, meter);
    console.log(code.label, 'max', max);
    const fixed = [];
    for (const rate of FIXED_RATES) {
      await sleep(STATS_SETTLE_MS);
      fixed.push(await fixedRate(ledger, visitors, rate, meter));
      console.log(code.label, 'fixed', fixed.at(-1));
    }
    for (const visitor of visitors) visitor.socket.terminate();
    return { code: code.label, revision: code.revision, loadAverage: loadavg(), idle, fixed, max };
  } finally {
    await meter?.close();
    await cluster.stop();
  }
}

/** The figures issue 13's goals are about, from one run. */
function goalFigures(run: PipelineRun) {
  const at100 = run.fixed.find((f) => f.rate === 100);
  return {
    maxMessagesPerSecond: run.max.messagesPerSecond,
    cpuMsPerMessageAtMax: run.max.cpuMsPerMessage,
    commitsPerMessageAtMax: run.max.postgresCommitsPerMessage,
    commitsPerMessageAtMaxNetOfIdle: run.max.postgresCommitsPerMessageNetOfIdle ?? Number.NaN,
    cpuMsPerMessageAt100: at100?.cpuMsPerMessage ?? Number.NaN,
    cpuMsPerMessageAt100NetOfIdle: at100?.cpuMsPerMessageNetOfIdle ?? Number.NaN,
    commitsPerMessageAt100: at100?.postgresCommitsPerMessage ?? Number.NaN,
    commitsPerMessageAt100NetOfIdle: at100?.postgresCommitsPerMessageNetOfIdle ?? Number.NaN,
    p99MsAt100: at100?.p99Ms ?? Number.NaN,
  };
}

type Figures = ReturnType<typeof goalFigures>;

/** Median of each figure over runs, with the range. */
function spread(runs: readonly PipelineRun[]) {
  const figures = runs.map(goalFigures);
  const keys = Object.keys(figures[0]!) as Array<keyof Figures>;
  return Object.fromEntries(
    keys.map((key) => {
      const values = figures.map((f) => f[key]);
      return [
        key,
        {
          median: round(percentile(values, 50), 2),
          min: Math.min(...values),
          max: Math.max(...values),
        },
      ];
    }),
  ) as Record<keyof Figures, { median: number; min: number; max: number }>;
}

/**
 * `BENCH_PIPELINE_BASE=<git revision>`: the same benchmark on that revision's services first
 * (a detached worktree, see checkoutOf), then on this checkout's, alternating for
 * `BENCH_REPETITIONS` rounds; the ratios new/old are of the medians.
 */
export async function benchPipeline() {
  const baseRevision = process.env['BENCH_PIPELINE_BASE'];
  const repetitions = Number(process.env['BENCH_REPETITIONS'] ?? '1');
  const current = { label: 'new', revision: currentRevision() };
  const base = baseRevision
    ? (() => {
        const { dir, commit } = checkoutOf(baseRevision);
        return { label: 'old', revision: commit.slice(0, 12), root: dir };
      })()
    : undefined;
  const runs: PipelineRun[] = [];
  for (let i = 0; i < repetitions; i++) {
    if (base) runs.push(await runPipeline(base));
    runs.push(await runPipeline(current));
  }
  const inserts = await postgresInserts(CONCURRENCY);
  console.log('pg inserts', inserts);
  const newRuns = runs.filter((r) => r.code === 'new');
  const oldRuns = runs.filter((r) => r.code === 'old');
  const now = spread(newRuns);
  const before = oldRuns.length > 0 ? spread(oldRuns) : undefined;
  const ratio = (key: keyof Figures) =>
    before ? round(now[key].median / before[key].median, 3) : undefined;
  report('pipeline', {
    conversations: CONVERSATIONS,
    concurrency: CONCURRENCY,
    seconds: SECONDS,
    repetitions,
    runs,
    postgresInserts: inserts,
    ratioToInserts: round(now.maxMessagesPerSecond.median / inserts.insertsPerSecond, 3),
    new: { revision: current.revision, ...now },
    ...(before && base ? { old: { revision: base.revision, ...before } } : {}),
    ...(before
      ? {
          newOverOld: {
            maxMessagesPerSecond: ratio('maxMessagesPerSecond'),
            cpuMsPerMessageAtMax: ratio('cpuMsPerMessageAtMax'),
            commitsPerMessageAtMax: ratio('commitsPerMessageAtMax'),
            commitsPerMessageAt100NetOfIdle: ratio('commitsPerMessageAt100NetOfIdle'),
            cpuMsPerMessageAt100: ratio('cpuMsPerMessageAt100'),
            p99MsAt100: ratio('p99MsAt100'),
          },
        }
      : {}),
    goals: {
      ratioToInserts: '≥ 0.5',
      cpuMsPerMessage: '≤ 4 (gateway + bridge + Postgres backends)',
      postgresCommitsPerMessage: '≤ 3',
      maxMessagesPerSecond: '≥ 2× the old code in the same run',
      p99MsAt100: '≤ 50',
    },
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await benchPipeline();
