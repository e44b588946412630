// Who commits at idle (issue 13): the pipeline benchmark's cluster (a gateway, a bridge and, here,
// BENCH_SCHEDULERS schedulers) with BENCH_CONVERSATIONS conversations whose topics are open and
// visitors connected, then nothing happening. Commits are counted from pg_stat_database: with
// every service running, with each one stopped (SIGSTOP) in turn, and with all stopped — the
// differences are each service's share, exactly. Then pg_stat_activity is sampled as fast as it
// answers, to name the statements: each new (backend, query_start) is a statement of the service
// whose pool the backend belongs to (application_name). A statement followed by another on the
// same backend before the next sample is missed, so those counts are a lower bound. Not a
// benchmark of `pnpm bench`: run it with `pnpm exec tsx src/idle-sources.ts` in bench/.
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import WebSocket from 'ws';
import { GROUP_ID, startCluster } from '../../test/support/cluster';
import { inBatches, sleep, startConversations } from './lib/machine';
import { databaseCommits } from './lib/usage';

const CONVERSATIONS = Number(process.env['BENCH_CONVERSATIONS'] ?? '1000');
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? '30');
const SCHEDULERS = Number(process.env['BENCH_SCHEDULERS'] ?? '1');

interface Activity {
  pid: number;
  application_name: string;
  query_start: string | null;
  query: string;
}

function shorten(query: string): string {
  return query.replace(/\s+/g, ' ').slice(0, 110);
}

async function sample(admin: pg.Client, database: string, seconds: number) {
  const seen = new Set<string>();
  const statements = new Map<string, number>();
  // What the backends ran before the sampling began is not counted.
  const first = await admin.query<Activity>(
    `select pid, query_start::text from pg_stat_activity where datname = $1`,
    [database],
  );
  for (const row of first.rows) seen.add(`${row.pid} ${row.query_start}`);
  const deadline = performance.now() + seconds * 1000;
  while (performance.now() < deadline) {
    const { rows } = await admin.query<Activity>(
      `select pid, application_name, query_start::text, query
         from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()`,
      [database],
    );
    for (const row of rows) {
      if (!row.query_start) continue;
      const statement = `${row.pid} ${row.query_start}`;
      if (seen.has(statement)) continue;
      seen.add(statement);
      const key = `${row.application_name}: ${shorten(row.query)}`;
      statements.set(key, (statements.get(key) ?? 0) + 1);
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  return statements;
}

async function main() {
  const cluster = await startCluster({
    gateways: 1,
    schedulers: SCHEDULERS,
    gatewayEnv: {
      LIMIT_CONVERSATIONS_PER_DAY: '100000',
      WS_RATE_BURST: '10000',
      WS_RATE_PER_SEC: '10000',
      LOG_LEVEL: 'warn',
    },
    bridgeEnv: {
      LOG_LEVEL: 'warn',
      TELEGRAM_LIMIT_GLOBAL_PER_SECOND: '1000000',
      TELEGRAM_LIMIT_CHAT_PER_SECOND: '1000000',
      TELEGRAM_LIMIT_GROUP_PER_MINUTE: '1000000',
      TELEGRAM_LIMIT_SAFETY: '0ms',
    },
  });
  const admin = new pg.Client({
    connectionString: new URL('/postgres', cluster.database.url).toString(),
  });
  await admin.connect();
  const sockets: WebSocket[] = [];
  try {
    const gateway = cluster.gateways[0]!;
    const conversations = await startConversations(gateway.url, CONVERSATIONS);
    await cluster.sandbox.state.waitFor(
      () => cluster.sandbox.state.topics(GROUP_ID).length >= CONVERSATIONS,
      600_000,
    );
    await inBatches(conversations, 20, async (c) => {
      const socket = new WebSocket(`${gateway.url.replace(/^http/, 'ws')}/v1/ws`, {
        headers: { authorization: `Bearer ${c.token}` },
      });
      sockets.push(socket);
      await new Promise<void>((resolve, reject) => {
        socket.on('message', (data: Buffer) => {
          if ((JSON.parse(data.toString('utf8')) as { type: string }).type === 'status') resolve();
        });
        socket.once('error', reject);
      });
    });
    console.log(`${CONVERSATIONS} topics open, visitors connected; settling`);
    // The commits of each second from now, to see when the pipeline is idle.
    let last = await databaseCommits(admin, cluster.database.name);
    const perSecond: number[] = [];
    // Postgres (15) reports a backend's counts when it goes idle, but at most once a second: one
    // that went idle sooner reports 10 s later (PGSTAT_IDLE_INTERVAL). What setup did shows up
    // that late, so nothing is measured before 12 s have passed.
    for (let i = 0; i < 12; i++) {
      await sleep(1_000);
      const now = await databaseCommits(admin, cluster.database.name);
      perSecond.push(now - last);
      last = now;
    }
    console.log('commits in each second after settling began:', perSecond.join(' '));
    // Exact shares: each service stopped (SIGSTOP) in turn while the others run.
    const processes: Record<string, number | undefined> = {
      gateway: gateway.pid,
      bridge: cluster.bridge.pid,
      ...Object.fromEntries(cluster.schedulers.map((s, i) => [`scheduler-${i}`, s.pid])),
    };
    const rate = async (ms: number) => {
      const from = await databaseCommits(admin, cluster.database.name);
      await sleep(ms);
      return ((await databaseCommits(admin, cluster.database.name)) - from) / (ms / 1000);
    };
    console.log(`all running: ${(await rate(SECONDS * 1000)).toFixed(2)} commits/s`);
    for (const [name, pid] of Object.entries(processes)) {
      if (!pid) continue;
      process.kill(pid, 'SIGSTOP');
      await sleep(500);
      const without = await rate(SECONDS * 1000);
      process.kill(pid, 'SIGCONT');
      console.log(`${name} stopped: ${without.toFixed(2)} commits/s`);
      await sleep(3_000);
    }
    const all = Object.values(processes).filter((pid): pid is number => pid !== undefined);
    for (const pid of all) process.kill(pid, 'SIGSTOP');
    await sleep(500);
    console.log(`all stopped: ${(await rate(SECONDS * 1000)).toFixed(2)} commits/s`);
    for (const pid of all) process.kill(pid, 'SIGCONT');
    await sleep(3_000);
    const before = await databaseCommits(admin, cluster.database.name);
    const began = performance.now();
    const statements = await sample(admin, cluster.database.name, SECONDS);
    const seconds = (performance.now() - began) / 1000;
    const total = (await databaseCommits(admin, cluster.database.name)) - before;
    console.log(`commits/s (pg_stat_database): ${(total / seconds).toFixed(2)}`);
    console.log('statements/s seen, by service and statement:');
    for (const [name, count] of [...statements].sort((a, b) => b[1] - a[1]))
      console.log(`  ${(count / seconds).toFixed(2)}  ${name}`);
  } finally {
    for (const socket of sockets) socket.terminate();
    await admin.end();
    await cluster.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
