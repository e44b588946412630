// Benchmark 3: agent → visitor fanout across two gateway replicas, against Socket.IO with
// @socket.io/redis-adapter carrying the same load on the same machine. One visitor socket per
// conversation, half on each replica; a publisher announces agent messages on the
// conversations' channels the way the bridge's outbox relay does (Topicdesk: one Redis channel
// per conversation; Socket.IO: a room, broadcast through the adapter). Measured: delay from
// publish to the visitor's socket (p50/p99) and messages delivered per CPU-second of the two
// server processes.
import { fork, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createAdapter } from '@socket.io/redis-adapter';
import { createDatabase, migrateToLatest } from '@topicdesk/data';
import { createRedisFanout } from '@topicdesk/fanout';
import {
  cleanupNats,
  createTestDatabase,
  freePort,
  LocalServer,
  repoRoot,
  ServiceProcess,
  testInfra,
  uniqueName,
} from '@topicdesk/testkit';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { cpuSeconds, percentile, report, round, sleep, startConversations } from './lib/machine';

const CONVERSATIONS = Number(process.env['BENCH_CONVERSATIONS'] ?? '1000');
const RATES = (process.env['BENCH_RATES'] ?? '1000,4000').split(',').map(Number);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? '10');
const REPETITIONS = Number(process.env['BENCH_REPETITIONS'] ?? '3');
const CLIENT_PROCESSES = 2;
/** Server processes of each system (the case is two; more shows how each scales). */
const REPLICAS = Number(process.env['BENCH_REPLICAS'] ?? '2');
const tsxLoader = pathToFileURL(join(repoRoot, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

interface Target {
  url: string;
  credential: string;
}

type Publish = (index: number, seq: number, text: string) => void;

interface System {
  /** The two server processes (replicas). */
  pids: number[];
  targets: Target[];
  publish: Publish;
  stop(): Promise<void>;
}

async function startClients(mode: 'topicdesk' | 'socketio', targets: Target[]) {
  const children: ChildProcess[] = [];
  await Promise.all(
    Array.from({ length: CLIENT_PROCESSES }, (_, k) => {
      const file = join(tmpdir(), `bench-fanout-${process.pid}-${mode}-${k}.json`);
      writeFileSync(file, JSON.stringify(targets.filter((_t, i) => i % CLIENT_PROCESSES === k)));
      const child = fork(join(repoRoot, 'bench/src/anchors/fanout-clients.ts'), {
        execArgv: ['--import', tsxLoader],
        env: { ...process.env, MODE: mode, TARGETS_FILE: file },
      });
      children.push(child);
      return new Promise<void>((resolve, reject) => {
        child.once('message', () => resolve());
        child.once('exit', (code) => reject(new Error(`client process exited with ${code}`)));
      });
    }),
  );
  const collect = () =>
    Promise.all(
      children.map(
        (child) =>
          new Promise<{ received: number; latencies: number[] }>((resolve) => {
            child.once('message', (message: { received: number; latencies: number[] }) =>
              resolve(message),
            );
            child.send('collect');
          }),
      ),
    ).then((parts) => ({
      received: parts.reduce((sum, p) => sum + p.received, 0),
      latencies: parts.flatMap((p) => p.latencies),
    }));
  const stop = () => {
    for (const child of children) child.send('exit');
  };
  return { collect, stop };
}

/** Publishes `rate` messages a second for SECONDS, round-robin over the conversations. */
async function run(system: System, mode: 'topicdesk' | 'socketio', rate: number, redisPid: number) {
  const clients = await startClients(mode, system.targets);
  await clients.collect();
  const seqs = new Array<number>(system.targets.length).fill(0);
  const total = rate * SECONDS;
  const cpuBefore = system.pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  const redisBefore = cpuSeconds(redisPid);
  const began = performance.now();
  let sent = 0;
  let next = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - began) / 1000) * rate));
    for (; sent < due; sent++) {
      const index = next++ % system.targets.length;
      seqs[index]! += 1;
      system.publish(index, seqs[index]!, String(performance.timeOrigin + performance.now()));
    }
    await sleep(5);
  }
  // Wait for the deliveries (or give up after 20 s: what is missing counts as lost).
  let result = await clients.collect();
  const received = [result];
  const deadline = Date.now() + 20_000;
  let count = result.received;
  while (count < total && Date.now() < deadline) {
    await sleep(250);
    result = await clients.collect();
    received.push(result);
    count += result.received;
  }
  const elapsed = (performance.now() - began) / 1000;
  const cpu = system.pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0) - cpuBefore;
  const redisCpu = cpuSeconds(redisPid) - redisBefore;
  clients.stop();
  const latencies = received.flatMap((r) => r.latencies);
  return {
    rate,
    published: total,
    delivered: count,
    p50Ms: round(percentile(latencies, 50), 2),
    p99Ms: round(percentile(latencies, 99), 2),
    serverCpuSeconds: round(cpu, 2),
    messagesPerCpuSecond: Math.round(count / cpu),
    redisCpuSeconds: round(redisCpu, 2),
    messagesPerCpuSecondWithRedis: Math.round(count / (cpu + redisCpu)),
    seconds: round(elapsed, 1),
  };
}

async function topicdesk(redisUrl: string): Promise<System> {
  const database = await createTestDatabase('bench');
  const migrator = await createDatabase({ url: database.url });
  await migrateToLatest(migrator.db);
  await migrator.close();
  const namespace = uniqueName('bench');
  const gateways: ServiceProcess[] = [];
  for (const name of 'abcdefgh'.slice(0, REPLICAS)) {
    const port = await freePort();
    gateways.push(
      new ServiceProcess({
        name: `${namespace}-gateway-${name}`,
        script: 'services/gateway/src/main.ts',
        url: `http://127.0.0.1:${port}`,
        env: {
          DATABASE_URL: database.url,
          NATS_URL: testInfra.natsUrl,
          REDIS_URL: redisUrl,
          NAMESPACE: namespace,
          HOST: '127.0.0.1',
          PORT: String(port),
          CONVERSATION_JWT_SECRET: 'bench'.repeat(8),
          LIMIT_CONVERSATIONS_PER_DAY: String(CONVERSATIONS * 2),
          LOG_LEVEL: 'warn',
          // For profiling a run, e.g. --import of bench/src/anchors/cpu-profile.ts.
          ...(process.env['BENCH_GATEWAY_NODE_OPTIONS']
            ? { NODE_OPTIONS: process.env['BENCH_GATEWAY_NODE_OPTIONS'] }
            : {}),
        },
      }),
    );
  }
  await Promise.all(gateways.map((g) => g.start(60_000)));
  const conversations = await startConversations(gateways[0]!.url, CONVERSATIONS, 50);
  const fanout = await createRedisFanout({ url: redisUrl, namespace });
  const at = new Date().toISOString();
  return {
    pids: gateways.map((g) => g.pid!),
    targets: conversations.map((c, i) => ({
      url: gateways[i % REPLICAS]!.url.replace(/^http/, 'ws'),
      credential: c.token,
    })),
    publish: (index, seq, text) =>
      void fanout.publish(conversations[index]!.conversationId, {
        type: 'message',
        seq,
        kind: 'agent',
        text,
        author: 'Support',
        at,
      }),
    async stop() {
      await fanout.close();
      await Promise.all(gateways.map((g) => g.stop()));
      await cleanupNats(namespace);
      await database.drop();
    },
  };
}

async function socketIo(redisUrl: string): Promise<System> {
  const key = uniqueName('bench-sio');
  const servers: ChildProcess[] = [];
  const urls: string[] = [];
  for (let i = 0; i < REPLICAS; i++) {
    const port = await freePort();
    const server = fork(join(repoRoot, 'bench/src/anchors/socketio-server.ts'), {
      execArgv: ['--import', tsxLoader],
      env: {
        ...process.env,
        PORT: String(port),
        REDIS_URL: redisUrl,
        ADAPTER_KEY: key,
        ...(process.env['BENCH_SOCKETIO_NODE_OPTIONS']
          ? { NODE_OPTIONS: process.env['BENCH_SOCKETIO_NODE_OPTIONS'] }
          : {}),
      },
    });
    servers.push(server);
    process.once('exit', () => server.kill('SIGKILL'));
    await new Promise((resolve) => server.once('message', resolve));
    urls.push(`http://127.0.0.1:${port}`);
  }
  // The publisher is a third Socket.IO node on the adapter, with no clients of its own.
  const pub = new Redis(redisUrl);
  const sub = pub.duplicate();
  const publisher = new Server({ adapter: createAdapter(pub, sub, { key }) });
  const at = new Date().toISOString();
  return {
    pids: servers.map((s) => s.pid!),
    targets: Array.from({ length: CONVERSATIONS }, (_, i) => ({
      url: urls[i % REPLICAS]!,
      credential: `conversation-${i}`,
    })),
    publish: (index, seq, text) =>
      publisher.to(`conversation-${index}`).emit('message', {
        type: 'message',
        seq,
        kind: 'agent',
        text,
        author: 'Support',
        at,
      }),
    async stop() {
      // The publisher was never attached to an HTTP server: there is no engine to close.
      pub.disconnect();
      sub.disconnect();
      for (const server of servers) server.kill('SIGTERM');
    },
  };
}

/** The median of each numeric field over repeated runs of one rate. */
function median(runs: Array<Awaited<ReturnType<typeof run>>>) {
  const mid = (values: number[]) =>
    [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const first = runs[0]!;
  return Object.fromEntries(
    Object.keys(first).map((key) => [key, mid(runs.map((r) => r[key as keyof typeof first]))]),
  ) as typeof first;
}

export async function benchFanout() {
  // A Redis of the benchmark's own, so that its CPU can be read too (and nobody else's load is in it).
  const redis = await LocalServer.redis();
  const redisPid = redis.pid!;
  const systems = {
    topicdesk: await topicdesk(redis.url),
    socketio: await socketIo(redis.url),
  };
  const runs: Record<string, Array<Awaited<ReturnType<typeof run>>>> = {};
  try {
    // Interleaved and repeated, so that both see the same machine (other load comes and goes).
    for (let repetition = 0; repetition < REPETITIONS; repetition++) {
      for (const rate of RATES) {
        for (const name of ['topicdesk', 'socketio'] as const) {
          const result = await run(systems[name], name, rate, redisPid);
          console.log(name, result);
          (runs[`${name} ${rate}`] ??= []).push(result);
          await sleep(1_000);
        }
      }
    }
  } finally {
    await Promise.allSettled(Object.values(systems).map((system) => system.stop()));
    await redis.stop();
  }
  const medians = (name: string) => RATES.map((rate) => median(runs[`${name} ${rate}`]!));
  report(REPLICAS === 2 ? 'fanout' : `fanout-${REPLICAS}-replicas`, {
    conversations: CONVERSATIONS,
    replicas: REPLICAS,
    secondsPerRun: SECONDS,
    repetitions: REPETITIONS,
    topicdesk: medians('topicdesk'),
    socketio: medians('socketio'),
    goals: { vsSocketIo: 'lower p50 and p99, more messages per CPU-second' },
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await benchFanout();
