// Benchmark 6 (issue 16): 100 tenants on one deployment, each with its own sandbox bot and forum
// group, created through the platform API. Every service as its own process (one gateway, one
// bridge) on the real Postgres, NATS and Redis; the sandbox enforces Telegram's limits with the
// real windows (20 a minute per group, 1 a second per chat, 30 a second per bot).
//   1. Tenant creation → its first visitor message shown in its topic (p50/p99).
//      Anchor: the default tenant's conversation start → first message shown, same run.
//   2. Memory and CPU per idle tenant on the gateway and the bridge (resident set after full
//      collections, less the same before the tenants; CPU over an idle stretch, less the same
//      before). Anchor: the two processes of a whole deployment per site.
//   3. One tenant floods at its limits (20 visitors each at its socket's rate limit, within its
//      messagesPerHour quota; BENCH_FLOOD_MODE=runaway: as fast as answered, refused or not)
//      while the 99 others send normally (one message every few seconds each): the others' p99 WS send → shown in their topic, against the
//      same schedule without the flood (the anchor). Goal: at most 1.5×.
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { pathToFileURL } from 'node:url';
import { repoRoot, startConversation, type StartedConversation } from '@topicdesk/testkit';
import WebSocket from 'ws';
import { startCluster, type Cluster } from '../../test/support/cluster';
import {
  addTenantGroup,
  DEFAULT_BOT_ID,
  newKek,
  newPlatformToken,
  PlatformClient,
  tenantBotId,
  tenantGroupId,
  tenantSecrets,
} from '../../test/support/tenants';
import { cpuSeconds, inBatches, percentile, report, round, sleep } from './lib/machine';
import { probeMemory } from './lib/memory';

const TENANTS = Number(process.env['BENCH_TENANTS'] ?? '100');
/** Tenants created at once (each then starts a conversation and sends its first text). */
const CREATE_CONCURRENCY = 10;
/** Length of each idle CPU reading. */
const IDLE_SECONDS = Number(process.env['BENCH_TENANT_IDLE_SECONDS'] ?? '20');
/** Length of each send window (unflooded, flooded). */
const WINDOW_SECONDS = Number(process.env['BENCH_SECONDS'] ?? '60');
/** Each normal tenant sends one message this often (12 a minute: inside 20 a minute per group). */
const NORMAL_INTERVAL_MS = 5_000;
/** The flooding tenant's visitors. */
const FLOOD_CONVERSATIONS = 20;
/**
 * How tenant 1 floods. `paced` (the default): each of its visitors sends at its socket's limit,
 * WS_RATE_PER_SEC (the default 5/s: 100 messages/s from the tenant), for the whole window — the
 * most the deployment accepts from it without refusing a frame, within its quota. `runaway`:
 * each sends its next text as soon as the last is answered, refused or not (a broken client),
 * reconnecting when closed; its quota refuses most of them.
 */
const FLOOD_MODE = process.env['BENCH_FLOOD_MODE'] === 'runaway' ? 'runaway' : 'paced';
/** WS_RATE_PER_SEC and WS_RATE_BURST of the gateway: the defaults (the test harness raises them). */
const WS_RATE_PER_SEC = 5;
const WS_RATE_BURST = 20;
/** The flooding tenant's quota: a paced flood stays within it for the whole window. */
/** Unflooded and flooded windows, alternating, this many pairs (the machine's noise averages out). */
const PAIRS = Number(process.env['BENCH_REPETITIONS'] ?? '2');
const FLOOD_MESSAGES_PER_HOUR = Number(
  process.env['BENCH_FLOOD_QUOTA'] ??
    String(FLOOD_CONVERSATIONS * WS_RATE_PER_SEC * (WINDOW_SECONDS + 10) * PAIRS),
);
/** Default-tenant conversations timed for the first-message anchor. */
const ANCHOR_CONVERSATIONS = 5;
const SETTLE_MS = 10_000;
const ARRIVAL_TIMEOUT_MS = 180_000;

const tsxLoader = pathToFileURL(join(repoRoot, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const probeModule = pathToFileURL(join(repoRoot, 'bench/src/anchors/memory-probe.ts')).href;
const probeOptions = `--import=${tsxLoader} --import=${probeModule}`;

/** When each text was sent, and when it showed in its group (by a bot). */
class Arrivals {
  readonly #sentAt = new Map<string, number>();
  readonly #waiters = new Map<string, () => void>();
  readonly latencies = new Map<string, number>();

  constructor(cluster: Cluster) {
    cluster.sandbox.state.on('message', ({ message, byBot }) => {
      if (!byBot || typeof message.text !== 'string') return;
      const now = performance.now();
      // Texts waiting for the same topic go out merged, a header carries the first ones.
      for (const part of message.text.split('\n\n')) {
        const text = part.replace(/^💬 /u, '');
        const sent = this.#sentAt.get(text);
        if (sent === undefined) continue;
        this.#sentAt.delete(text);
        this.latencies.set(text, now - sent);
        this.#waiters.get(text)?.();
        this.#waiters.delete(text);
      }
    });
  }

  /** `text` counts from `at` (performance.now()); resolves when it shows, or after `timeoutMs`. */
  expect(text: string, at = performance.now(), timeoutMs = ARRIVAL_TIMEOUT_MS): Promise<boolean> {
    this.#sentAt.set(text, at);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(text);
        resolve(false);
      }, timeoutMs);
      timer.unref();
      this.#waiters.set(text, () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  get pending(): number {
    return this.#sentAt.size;
  }
}

/** A visitor's socket; `answered` resolves on the ack or error of a clientId. */
class Visitor {
  readonly #answers = new Map<string, (frame: { type: string; code?: string }) => void>();
  closed = false;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString('utf8')) as {
        type: string;
        clientId?: string;
        code?: string;
      };
      if ((frame.type === 'ack' || frame.type === 'error') && frame.clientId) {
        this.#answers.get(frame.clientId)?.(frame);
        this.#answers.delete(frame.clientId);
      }
    });
    socket.on('close', () => {
      this.closed = true;
      for (const answer of this.#answers.values()) answer({ type: 'closed' });
      this.#answers.clear();
    });
  }

  static connect(gatewayUrl: string, conversation: StartedConversation): Promise<Visitor> {
    const socket = new WebSocket(`${gatewayUrl.replace(/^http/, 'ws')}/v1/ws`, {
      headers: { authorization: `Bearer ${conversation.token}` },
    });
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(new Visitor(socket)));
      socket.once('error', reject);
    });
  }

  /** Sends a text; resolves with its ack or error frame (or `closed`, or `timeout` after 15 s). */
  send(clientId: string, text: string): Promise<{ type: string; code?: string }> {
    return new Promise((resolve) => {
      if (this.closed) return resolve({ type: 'closed' });
      const timer = setTimeout(() => {
        this.#answers.delete(clientId);
        resolve({ type: 'timeout' });
      }, 15_000);
      this.#answers.set(clientId, (frame) => {
        clearTimeout(timer);
        resolve(frame);
      });
      this.socket.send(JSON.stringify({ type: 'message', clientId, text }));
    });
  }

  close(): void {
    this.socket.close();
  }
}

interface Tenant {
  n: number;
  id: string;
  siteKey: string;
  conversation: StartedConversation;
}

const stats = (values: readonly number[]) => ({
  count: values.length,
  p50Ms: round(percentile(values, 50)),
  p99Ms: round(percentile(values, 99)),
  maxMs: round(values.length > 0 ? Math.max(...values) : Number.NaN),
});

/** Default-tenant conversations: start → first text shown in its topic. */
async function firstMessageAnchor(cluster: Cluster, arrivals: Arrivals) {
  const url = cluster.gateways[0]!.url;
  const times: number[] = [];
  for (let i = 0; i < ANCHOR_CONVERSATIONS; i++) {
    const started = performance.now();
    const conversation = await startConversation(url);
    const visitor = await Visitor.connect(url, conversation);
    const text = `anchor first ${i}`;
    const shown = arrivals.expect(text, started);
    await visitor.send(`anchor-${i}`, text);
    if (await shown) times.push(arrivals.latencies.get(text)!);
    visitor.close();
  }
  return stats(times);
}

/** Memory (after full collections) and CPU over an idle stretch, of the gateway and bridge. */
async function idleReading(cluster: Cluster, files: { gateway: string; bridge: string }) {
  await sleep(SETTLE_MS);
  const gatewayPid = cluster.gateways[0]!.pid!;
  const bridgePid = cluster.bridge.pid!;
  const [gateway, bridge] = await Promise.all([
    probeMemory(gatewayPid, files.gateway),
    probeMemory(bridgePid, files.bridge),
  ]);
  const cpuBefore = { gateway: cpuSeconds(gatewayPid), bridge: cpuSeconds(bridgePid) };
  await sleep(IDLE_SECONDS * 1000);
  return {
    rss: { gateway: gateway.rss, bridge: bridge.rss },
    heapUsed: { gateway: gateway.heapUsed, bridge: bridge.heapUsed },
    cpuMsPerSecond: {
      gateway: ((cpuSeconds(gatewayPid) - cpuBefore.gateway) * 1000) / IDLE_SECONDS,
      bridge: ((cpuSeconds(bridgePid) - cpuBefore.bridge) * 1000) / IDLE_SECONDS,
    },
  };
}

/** Creates tenant `n` and times its first visitor text from the create call to its topic. */
async function createTenant(
  cluster: Cluster,
  platform: PlatformClient,
  arrivals: Arrivals,
  n: number,
) {
  const url = cluster.gateways[0]!.url;
  const started = performance.now();
  const created = await platform.create({
    id: `bench-${n}`,
    name: `Bench site ${n}`,
    // Tenant 1 floods later: its quota is what stops it.
    ...(n === 1 ? { limits: { messagesPerHour: FLOOD_MESSAGES_PER_HOUR } } : {}),
    secrets: tenantSecrets(n),
  });
  const createMs = performance.now() - started;
  const conversation = await startConversation(url, { siteKey: created.siteKey });
  const visitor = await Visitor.connect(url, conversation);
  const text = `tenant ${n} first`;
  const shown = arrivals.expect(text, started);
  const answer = await visitor.send(`first-${n}`, text);
  visitor.close();
  const arrived = answer.type === 'ack' && (await shown);
  const tenant: Tenant = { n, id: created.id, siteKey: created.siteKey, conversation };
  return {
    tenant,
    createMs,
    firstMessageMs: arrived ? arrivals.latencies.get(text) : undefined,
    refused: answer.type === 'ack' ? undefined : (answer.code ?? answer.type),
  };
}

interface WindowResult {
  /** The others' latencies (ms), pooled over windows for the report's p99s. */
  latencies: number[];
  others: ReturnType<typeof stats> & { sent: number; shown: number; refused: number };
  /** CPU the gateway and the bridge used in the window, in % of one core. */
  cpuPercent: { gateway: number; bridge: number };
  flood?: { accepted: number; refused: Record<string, number>; shownInWindow: number };
}

/**
 * One window: every normal tenant sends a text every NORMAL_INTERVAL_MS (staggered), and with
 * `flooders` tenant 1's visitors flood (FLOOD_MODE). The others' texts are waited for after it.
 */
async function sendWindow(
  cluster: Cluster,
  arrivals: Arrivals,
  normal: readonly Tenant[],
  flooders: readonly StartedConversation[] | undefined,
  label: string,
): Promise<WindowResult> {
  const url = cluster.gateways[0]!.url;
  const sockets = await inBatches(normal, 20, (t) => Visitor.connect(url, t.conversation));
  const floodSockets = flooders
    ? await inBatches(flooders, 20, (c) => Visitor.connect(url, c))
    : [];
  const gatewayPid = cluster.gateways[0]!.pid!;
  const bridgePid = cluster.bridge.pid!;
  const cpuBefore = { gateway: cpuSeconds(gatewayPid), bridge: cpuSeconds(bridgePid) };
  const began = performance.now();
  const ends = began + WINDOW_SECONDS * 1000;
  const shown: Array<Promise<boolean>> = [];
  const sentTexts: string[] = [];
  let refused = 0;
  const floodRefused: Record<string, number> = {};
  let floodAccepted = 0;
  const floodTexts: string[] = [];

  const normalLoops = sockets.map(async (socket, i) => {
    await sleep((NORMAL_INTERVAL_MS * i) / sockets.length);
    for (let k = 0; performance.now() < ends; k++) {
      const text = `${label} t${normal[i]!.n} #${k}`;
      const at = performance.now();
      const arrived = arrivals.expect(text, at);
      const answer = await socket.send(`${label}-${normal[i]!.n}-${k}`, text);
      if (answer.type === 'ack') {
        shown.push(arrived);
        sentTexts.push(text);
      } else refused++;
      const next = at + NORMAL_INTERVAL_MS - performance.now();
      if (next > 0) await sleep(next);
    }
  });
  const count = (answer: { type: string; code?: string }, text: string) => {
    if (answer.type === 'ack') {
      floodAccepted++;
      floodTexts.push(text);
    } else {
      const key = answer.code ?? answer.type;
      floodRefused[key] = (floodRefused[key] ?? 0) + 1;
    }
  };
  const reopened: Visitor[] = [];
  const floodLoops = floodSockets.map(async (first, i) => {
    let socket = first;
    const pending: Array<Promise<void>> = [];
    for (let k = 0; performance.now() < ends; k++) {
      if (socket.closed) {
        // A closed socket (4429 after refused frames) is opened again, as a broken client would.
        socket = await Visitor.connect(url, flooders![i]!);
        reopened.push(socket);
      }
      const text = `${label} flood ${i} #${k}`;
      const sending = socket.send(`${label}-flood-${i}-${k}`, text).then((a) => count(a, text));
      if (FLOOD_MODE === 'paced') {
        // Open loop at the socket's sustained rate: the next text goes on time, answered or not.
        pending.push(sending);
        await sleep(1000 / WS_RATE_PER_SEC);
      } else {
        await sending;
      }
    }
    await Promise.all(pending);
  });
  const floodGroup = tenantGroupId(1);
  let floodShown = 0;
  const countFlood = ({ chatId, byBot }: { chatId: number; byBot: boolean }) => {
    if (byBot && chatId === floodGroup && performance.now() < ends) floodShown++;
  };
  cluster.sandbox.state.on('message', countFlood);
  await Promise.all([...normalLoops, ...floodLoops]);
  const windowSeconds = (performance.now() - began) / 1000;
  const cpuPercent = {
    gateway: round(((cpuSeconds(gatewayPid) - cpuBefore.gateway) / windowSeconds) * 100),
    bridge: round(((cpuSeconds(bridgePid) - cpuBefore.bridge) / windowSeconds) * 100),
  };
  cluster.sandbox.state.off('message', countFlood);
  const results = await Promise.all(shown);
  for (const s of [...sockets, ...floodSockets, ...reopened]) s.close();
  const latencies = sentTexts.flatMap((t) => {
    const ms = arrivals.latencies.get(t);
    return ms === undefined ? [] : [ms];
  });
  console.log(
    `[tenants ${label}] ${sentTexts.length} sent by ${normal.length} tenants, ` +
      `${results.filter(Boolean).length} shown; flood accepted ${floodAccepted}`,
  );
  return {
    latencies,
    cpuPercent,
    others: {
      ...stats(latencies),
      sent: sentTexts.length,
      shown: results.filter(Boolean).length,
      refused,
    },
    ...(flooders
      ? {
          flood: {
            accepted: floodAccepted,
            refused: floodRefused,
            // Sends into its group (merged texts count once), while the window lasted.
            shownInWindow: floodShown,
          },
        }
      : {}),
  };
}

export async function benchTenants() {
  const platformToken = newPlatformToken();
  const kek = newKek('bench');
  const files = {
    gateway: join(tmpdir(), `bench-probe-tenants-gateway-${process.pid}.json`),
    bridge: join(tmpdir(), `bench-probe-tenants-bridge-${process.pid}.json`),
  };
  const cluster = await startCluster({
    gateways: 1,
    schedulers: 0,
    // Telegram's limits with its real windows, per bot; the bridge keeps its defaults for them.
    sandboxLimits: { enabled: true },
    gatewayEnv: {
      PLATFORM_TOKEN: platformToken,
      TENANT_KEK: kek,
      // Every tenant's default quota: out of the way but for the flooding tenant's own.
      LIMIT_CONVERSATIONS_PER_DAY: '100000',
      LIMIT_MESSAGES_PER_HOUR: '100000',
      WS_RATE_PER_SEC: String(WS_RATE_PER_SEC),
      WS_RATE_BURST: String(WS_RATE_BURST),
      LOG_LEVEL: 'warn',
      NODE_OPTIONS: probeOptions,
      MEMORY_PROBE_FILE: files.gateway,
    },
    bridgeEnv: {
      TENANT_KEK: kek,
      LOG_LEVEL: 'warn',
      TELEGRAM_LIMIT_GROUP_WINDOW: '60s',
      NODE_OPTIONS: probeOptions,
      MEMORY_PROBE_FILE: files.bridge,
    },
  });
  try {
    const arrivals = new Arrivals(cluster);
    // Telegram's refusals, by whose bot: Telegram's limits are to be respected, not discovered.
    const tooMany = { defaultBot: 0, tenantBots: 0, floodingTenantBot: 0 };
    cluster.sandbox.state.on('call', (call) => {
      if (call.status !== 429) return;
      if (call.botId === DEFAULT_BOT_ID) tooMany.defaultBot++;
      else if (call.botId === tenantBotId(1)) tooMany.floodingTenantBot++;
      else tooMany.tenantBots++;
    });
    const platform = new PlatformClient(cluster.gateways[0]!.url, platformToken);
    for (let n = 1; n <= TENANTS; n++) addTenantGroup(cluster.sandbox, n);

    const anchorFirst = await firstMessageAnchor(cluster, arrivals);
    console.log('[tenants] default tenant, start → first text shown', anchorFirst);
    const before = await idleReading(cluster, files);
    console.log('[tenants] idle before the tenants', before);

    const began = performance.now();
    const created = await inBatches(
      Array.from({ length: TENANTS }, (_, i) => i + 1),
      CREATE_CONCURRENCY,
      (n) => createTenant(cluster, platform, arrivals, n),
    );
    const creationSeconds = (performance.now() - began) / 1000;
    const firstTimes = created.flatMap((c) =>
      c.firstMessageMs === undefined ? [] : [c.firstMessageMs],
    );
    const creation = {
      tenants: TENANTS,
      seconds: round(creationSeconds),
      createCall: stats(created.map((c) => c.createMs)),
      creationToFirstMessage: stats(firstTimes),
      missing: created.filter((c) => c.firstMessageMs === undefined).map((c) => c.tenant.id),
      refused: created.flatMap((c) => (c.refused ? [`${c.tenant.id}: ${c.refused}`] : [])),
    };
    console.log('[tenants] creation', creation);

    const after = await idleReading(cluster, files);
    console.log('[tenants] idle with the tenants', after);
    const perTenant = (a: number, b: number) => Math.round((a - b) / TENANTS);
    const idle = {
      before,
      after,
      rssBytesPerTenant: {
        gateway: perTenant(after.rss.gateway, before.rss.gateway),
        bridge: perTenant(after.rss.bridge, before.rss.bridge),
      },
      heapBytesPerTenant: {
        gateway: perTenant(after.heapUsed.gateway, before.heapUsed.gateway),
        bridge: perTenant(after.heapUsed.bridge, before.heapUsed.bridge),
      },
      cpuMsPerSecondPerTenant: {
        gateway: round((after.cpuMsPerSecond.gateway - before.cpuMsPerSecond.gateway) / TENANTS, 3),
        bridge: round((after.cpuMsPerSecond.bridge - before.cpuMsPerSecond.bridge) / TENANTS, 3),
      },
      // The anchor: a deployment of its own per site (its gateway and bridge, before tenants).
      rssBytesPerDeployment: before.rss.gateway + before.rss.bridge,
    };

    const tenants = created.map((c) => c.tenant);
    const flooding = tenants.find((t) => t.n === 1)!;
    const normal = tenants.filter((t) => t.n !== 1);
    const flooders = await inBatches(
      Array.from({ length: FLOOD_CONVERSATIONS }, (_, i) => i),
      10,
      () => startConversation(cluster.gateways[0]!.url, { siteKey: flooding.siteKey }),
    );
    // The default tenant again, now warm (the first reading is of a fresh bridge).
    const anchorWarm = await firstMessageAnchor(cluster, arrivals);
    const pairs: Array<{ unflooded: WindowResult; flooded: WindowResult }> = [];
    for (let r = 1; r <= PAIRS; r++) {
      const unflooded = await sendWindow(cluster, arrivals, normal, undefined, `calm${r}`);
      await sleep(SETTLE_MS);
      const flooded = await sendWindow(cluster, arrivals, normal, flooders, `flood${r}`);
      await sleep(SETTLE_MS);
      pairs.push({ unflooded, flooded });
    }
    const pooled = (which: 'unflooded' | 'flooded') =>
      stats(pairs.flatMap((p) => p[which].latencies));
    const calm = pooled('unflooded');
    const flood = pooled('flooded');
    const ratio = round(flood.p99Ms / calm.p99Ms, 2);
    const without = ({ latencies: _, ...rest }: WindowResult) => rest;

    report('tenants', {
      tenants: TENANTS,
      telegram429: tooMany,
      windowSeconds: WINDOW_SECONDS,
      normalIntervalMs: NORMAL_INTERVAL_MS,
      floodConversations: FLOOD_CONVERSATIONS,
      floodMode: FLOOD_MODE,
      floodMessagesPerHour: FLOOD_MESSAGES_PER_HOUR,
      wsRate: { perSecond: WS_RATE_PER_SEC, burst: WS_RATE_BURST },
      telegramLimits: 'real windows: 20/min per group, 1/s per chat (bursts of 3), 30/s per bot',
      anchorDefaultTenantFirstMessage: anchorFirst,
      anchorDefaultTenantFirstMessageWarm: anchorWarm,
      creation,
      idle: {
        ...idle,
        perTenantOverDeployment: round(
          (idle.rssBytesPerTenant.gateway + idle.rssBytesPerTenant.bridge) /
            idle.rssBytesPerDeployment,
          4,
        ),
      },
      pairs: pairs.map((p) => ({
        unflooded: without(p.unflooded),
        flooded: without(p.flooded),
        othersP99Ratio: round(p.flooded.others.p99Ms / p.unflooded.others.p99Ms, 2),
      })),
      othersUnflooded: calm,
      othersFlooded: flood,
      othersP50FloodedOverUnflooded: round(flood.p50Ms / calm.p50Ms, 2),
      othersP99FloodedOverUnflooded: ratio,
      goals: { othersP99FloodedOverUnflooded: '≤ 1.5' },
    });
  } finally {
    await cluster.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await benchTenants();
