// Benchmark 2: the visitor → Telegram pipeline with the sandbox's limits off. Every service as
// its own process (gateway, bridge) on the real Postgres, NATS and Redis; visitors send `message`
// frames over WebSockets, and a message counts as delivered when the Telegram sandbox receives
// the bot's sendMessage carrying it. At a fixed 200 messages/s and at the maximum (a closed loop:
// each conversation sends its next message once the previous one reached the sandbox). The
// anchor: plain single-row INSERTs from `pg` into the same Postgres at the same concurrency.
import { pathToFileURL } from 'node:url';
import {
  createTestDatabase,
  startConversation,
  type StartedConversation,
} from '@topicdesk/testkit';
import pg from 'pg';
import WebSocket from 'ws';
import { GROUP_ID, startCluster, type Cluster } from '../../test/support/cluster';
import { cpuSeconds, inBatches, percentile, report, round, sleep } from './lib/machine';

const CONVERSATIONS = Number(process.env['BENCH_CONVERSATIONS'] ?? '1000');
/** Messages in flight in the closed loop (and INSERTs in flight in the anchor). */
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? '100');
/** Postgres connections of the anchor: the pipeline's own (gateway 10 + bridge 10). */
const POSTGRES_CONNECTIONS = 20;
/** Fixed offered loads, messages/s: light (the unloaded latency) and the 200/s. */
const FIXED_RATES = (process.env['BENCH_RATES'] ?? '20,200').split(',').map(Number);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? '20');

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
  }

  send(visitor: Visitor, text: string): void {
    this.sentAt.set(text, performance.now());
    this.#sent.set(text, performance.now());
    visitor.socket.send(JSON.stringify({ type: 'message', clientId: text, text }));
  }

  reset(): void {
    this.latencies.length = 0;
    this.ackLatencies.length = 0;
    this.receivedAt.length = 0;
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

/** CPU seconds of the named processes, to tell which one is the bottleneck. */
function cpuOf(pids: Record<string, number[]>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(pids).map(([name, list]) => [
      name,
      list.reduce((sum, pid) => {
        try {
          return sum + cpuSeconds(pid);
        } catch {
          return sum; // a backend that exited meanwhile
        }
      }, 0),
    ]),
  );
}

/** Transactions committed in the database so far (every statement outside BEGIN is one). */
async function commits(databaseName: string, adminUrl: string): Promise<number> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ commits: string }>(
      'select xact_commit as commits from pg_stat_database where datname = $1',
      [databaseName],
    );
    return Number(rows[0]?.commits ?? 0);
  } finally {
    await client.end();
  }
}

/** CPU seconds used so far by each backend serving the database. */
async function postgresBackendCpu(
  databaseName: string,
  adminUrl: string,
): Promise<Map<number, number>> {
  const cpu = new Map<number, number>();
  for (const pid of await postgresBackends(databaseName, adminUrl)) {
    try {
      cpu.set(pid, cpuSeconds(pid));
    } catch {
      // the backend exited between the query and the reading
    }
  }
  return cpu;
}

async function postgresBackends(databaseName: string, adminUrl: string): Promise<number[]> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>(
      'select pid from pg_stat_activity where datname = $1',
      [databaseName],
    );
    return rows.map((r) => r.pid);
  } finally {
    await client.end();
  }
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

async function fixedRate(ledger: Ledger, visitors: Visitor[], rate: number) {
  ledger.reset();
  const total = rate * SECONDS;
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
  return { rate, ...summary(ledger, total, seconds) };
}

/**
 * CONCURRENCY senders, each with one message in flight: the next goes once the sandbox has the
 * previous one. A sender goes round its share of the conversations, so one conversation gets a
 * message only every CONVERSATIONS / CONCURRENCY sends, as with many visitors typing at once.
 */
async function closedLoop(
  ledger: Ledger,
  visitors: Visitor[],
  pids: Record<string, number[]>,
  postgresCpu: () => Promise<Map<number, number>>,
  postgresCommits: () => Promise<number>,
) {
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
  const cpuBefore = cpuOf(pids);
  const postgresBefore = await postgresCpu();
  const commitsBefore = await postgresCommits();
  const began = performance.now();
  await sleep(SECONDS * 1000);
  const seconds = (performance.now() - began) / 1000;
  const cpuAfter = cpuOf(pids);
  const commitsDuring = (await postgresCommits()) - commitsBefore;
  // Pooled connections come and go: every backend of the database now, less what it had used.
  let postgres = 0;
  for (const [pid, cpu] of await postgresCpu()) postgres += cpu - (postgresBefore.get(pid) ?? 0);
  cpuBefore['postgres backends'] = 0;
  cpuAfter['postgres backends'] = postgres;
  const delivered = ledger.latencies.length;
  const result = { concurrency: CONCURRENCY, ...summary(ledger, delivered, seconds) };
  running = false;
  ledger.onReceived = undefined;
  await sleep(3_000);
  const cpuShare = Object.fromEntries(
    Object.keys(cpuAfter).map((name) => [
      name,
      `${round(((cpuAfter[name]! - cpuBefore[name]!) / seconds) * 100)}% of a core`,
    ]),
  );
  const busy = Object.keys(cpuAfter).reduce((sum, n) => sum + cpuAfter[n]! - cpuBefore[n]!, 0);
  return {
    ...result,
    cpu: cpuShare,
    cpuMsPerMessage: round((busy * 1000) / Math.max(1, delivered), 2),
    postgresCommitsPerMessage: round(commitsDuring / Math.max(1, delivered), 1),
  };
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

export async function benchPipeline() {
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
  let pipeline;
  try {
    const gateway = cluster.gateways[0]!;
    const conversations = await inBatches(
      Array.from({ length: CONVERSATIONS }, (_, i) => i),
      20,
      () => startConversation(gateway.url),
    );
    await cluster.sandbox.state.waitFor(
      () => cluster.sandbox.state.topics(GROUP_ID).length >= CONVERSATIONS,
      120_000,
    );
    const ledger = new Ledger(cluster);
    const visitors = await inBatches(conversations, 20, (c) =>
      connect(gateway.url, c, (clientId) => ledger.acked(clientId)),
    );
    const pids = {
      gateway: [gateway.pid!],
      bridge: [cluster.bridge.pid!],
      'bench process (visitors, sandbox)': [process.pid],
    };
    const adminUrl = new URL('/postgres', cluster.database.url).toString();
    // The bridge has just opened the topics: let it settle before anything is measured.
    await sleep(10_000);
    const max = await closedLoop(
      ledger,
      visitors,
      pids,
      () => postgresBackendCpu(cluster.database.name, adminUrl),
      () => commits(cluster.database.name, adminUrl),
    );
    console.log('max', max);
    const fixed = [];
    for (const rate of FIXED_RATES) {
      await sleep(5_000);
      fixed.push(await fixedRate(ledger, visitors, rate));
      console.log('fixed', fixed.at(-1));
    }
    pipeline = { fixed, max };
    for (const visitor of visitors) visitor.socket.terminate();
  } finally {
    await cluster.stop();
  }
  const inserts = await postgresInserts(CONCURRENCY);
  console.log('pg inserts', inserts);
  report('pipeline', {
    conversations: CONVERSATIONS,
    concurrency: CONCURRENCY,
    seconds: SECONDS,
    topicdesk: pipeline,
    postgresInserts: inserts,
    ratioToInserts: round(pipeline.max.messagesPerSecond / inserts.insertsPerSecond, 3),
    goals: { ratioToInserts: '≥ 0.5' },
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await benchPipeline();
