// Benchmark 1: idle visitor connections on one gateway process, against a bare `ws` server
// holding the same connections. Memory per connection (resident set growth / connections) and
// the most connections one gateway process holds under this machine's open-files limit.
import { fork, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createDatabase, migrateToLatest } from '@topicdesk/data';
import {
  cleanupNats,
  cleanupRedis,
  createTestDatabase,
  freePort,
  repoRoot,
  ServiceProcess,
  testInfra,
  uniqueName,
} from '@topicdesk/testkit';
import { openFds, report, round, rssBytes, sleep, startConversations } from './lib/machine';
import { probeMemory as probe, type Memory } from './lib/memory';

/** The process limit is 20,000 open files; the gateway needs some for Postgres, NATS, Redis, logs. */
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? '19000');
const CLIENT_PROCESSES = 4;
const SETTLE_MS = 10_000;

const tsxLoader = pathToFileURL(join(repoRoot, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const probeModule = pathToFileURL(join(repoRoot, 'bench/src/anchors/memory-probe.ts')).href;
/** Preloads the memory probe (and tsx, which it needs) into a measured process. */
const probeOptions = `--import=${tsxLoader} --import=${probeModule}`;

interface Progress {
  connected: number;
  failed: number;
  failures: Record<string, number>;
  done: boolean;
}

/** Opens `tokens.length` connections to `url` from several processes and source addresses. */
async function holdConnections(url: string, tokens: readonly string[]) {
  const children: ChildProcess[] = [];
  const progress: Progress[] = [];
  const started = performance.now();
  const slice = Math.ceil(tokens.length / CLIENT_PROCESSES);
  await Promise.all(
    Array.from({ length: CLIENT_PROCESSES }, (_, k) => {
      const file = join(tmpdir(), `bench-tokens-${process.pid}-${k}.json`);
      writeFileSync(file, JSON.stringify(tokens.slice(k * slice, (k + 1) * slice)));
      const child = fork(join(repoRoot, 'bench/src/anchors/hold-clients.ts'), {
        execArgv: ['--import', tsxLoader],
        env: {
          ...process.env,
          URL: url,
          TOKENS_FILE: file,
          LOCAL_ADDRESS: `127.0.0.${10 + k}`,
          CONCURRENCY: '100',
        },
      });
      children.push(child);
      return new Promise<void>((resolve) => {
        child.on('message', (message: Progress) => {
          progress[k] = message;
          if (message.done) resolve();
        });
        child.once('exit', () => resolve());
      });
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const connected = progress.reduce((sum, p) => sum + (p?.connected ?? 0), 0);
  const failures: Record<string, number> = {};
  for (const p of progress)
    for (const [reason, count] of Object.entries(p?.failures ?? {}))
      failures[reason] = (failures[reason] ?? 0) + count;
  return {
    connected,
    failures,
    connectsPerSecond: round(connected / seconds),
    release: async () => {
      await Promise.all(
        children.map(
          (child) =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null) return resolve();
              child.once('exit', () => resolve());
              child.send('exit');
            }),
        ),
      );
    },
  };
}

/** Memory of a server before and after holding the connections, after full collections. */
async function measure(pid: number, url: string, tokens: readonly string[], probeFile: string) {
  await sleep(SETTLE_MS);
  const before = await probe(pid, probeFile);
  const held = await holdConnections(url, tokens);
  await sleep(SETTLE_MS);
  const after = await probe(pid, probeFile);
  const rssNow = rssBytes(pid);
  const fds = openFds(pid);
  await held.release();
  const per = (field: keyof Memory) =>
    Math.round((after[field] - before[field]) / Math.max(1, held.connected));
  return {
    connections: held.connected,
    failures: held.failures,
    connectsPerSecond: held.connectsPerSecond,
    rssBeforeMiB: round(before.rss / 2 ** 20),
    rssAfterMiB: round(after.rss / 2 ** 20),
    rssUncollectedMiB: round(rssNow / 2 ** 20),
    bytesPerConnection: per('rss'),
    heapBytesPerConnection: per('heapUsed'),
    externalBytesPerConnection: per('external'),
    openFiles: fds,
  };
}

async function anchor(tokens: readonly string[]) {
  const port = await freePort();
  const probeFile = join(tmpdir(), `bench-probe-ws-${process.pid}.json`);
  const server = fork(join(repoRoot, 'bench/src/anchors/ws-server.ts'), {
    execArgv: ['--import', tsxLoader, '--import', probeModule],
    env: { ...process.env, PORT: String(port), MEMORY_PROBE_FILE: probeFile },
  });
  await new Promise((resolve) => server.once('message', resolve));
  try {
    return await measure(server.pid!, `ws://127.0.0.1:${port}/`, tokens, probeFile);
  } finally {
    server.kill('SIGKILL');
  }
}

async function gateway() {
  const database = await createTestDatabase('bench');
  const migrator = await createDatabase({ url: database.url });
  await migrateToLatest(migrator.db);
  await migrator.close();
  const namespace = uniqueName('bench');
  const port = await freePort();
  const probeFile = join(tmpdir(), `bench-probe-gateway-${process.pid}.json`);
  const service = new ServiceProcess({
    name: `${namespace}-gateway`,
    // BENCH_GATEWAY_SCRIPT: another checkout's gateway (relative to this one), for before/after.
    script: process.env['BENCH_GATEWAY_SCRIPT'] ?? 'services/gateway/src/main.ts',
    url: `http://127.0.0.1:${port}`,
    env: {
      DATABASE_URL: database.url,
      NATS_URL: testInfra.natsUrl,
      REDIS_URL: testInfra.redisUrl,
      NAMESPACE: namespace,
      HOST: '127.0.0.1',
      PORT: String(port),
      CONVERSATION_JWT_SECRET: 'bench'.repeat(8),
      LIMIT_CONVERSATIONS_PER_DAY: String(CONNECTIONS * 2),
      LOG_LEVEL: 'warn',
      NODE_OPTIONS: probeOptions,
      MEMORY_PROBE_FILE: probeFile,
    },
  });
  try {
    await service.start(60_000);
    const began = performance.now();
    const conversations = await startConversations(service.url, CONNECTIONS, 50);
    const startsPerSecond = round(CONNECTIONS / ((performance.now() - began) / 1000));
    console.log(`${CONNECTIONS} conversations started (${startsPerSecond}/s)`);
    // A fresh process, as the anchor is: nothing left over from starting the conversations.
    await service.stop();
    await service.start(60_000);
    const result = await measure(
      service.pid!,
      `ws://127.0.0.1:${port}/v1/ws`,
      conversations.map((c) => c.token),
      probeFile,
    );
    return { ...result, conversationStartsPerSecond: startsPerSecond };
  } finally {
    await service.stop();
    await Promise.allSettled([cleanupNats(namespace), cleanupRedis(namespace)]);
    await database.drop();
  }
}

export async function benchIdle() {
  // The anchor holds the same connections (it ignores the tokens).
  const tokens = Array.from({ length: CONNECTIONS }, (_, i) => `anchor-${i}`);
  const ws = await anchor(tokens);
  console.log('ws anchor', ws);
  const topicdesk = await gateway();
  console.log('gateway', topicdesk);
  const ratio = round(topicdesk.bytesPerConnection / ws.bytesPerConnection, 2);
  report('idle', {
    connectionsAttempted: CONNECTIONS,
    ws,
    topicdesk,
    memoryRatio: ratio,
    goals: {
      memoryRatio: '≤ 1.5',
      connections: '50,000 (not reachable: 20,000 open files/process)',
    },
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await benchIdle();
