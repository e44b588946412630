import { randomBytes } from 'node:crypto';
import { join, relative } from 'node:path';
import { createDatabase, migrateToLatest } from '@topicdesk/data';
import { startSandbox, type Limits, type RunningSandbox } from '@topicdesk/telegram-sandbox';
import {
  cleanupNats,
  cleanupRedis,
  createTestDatabase,
  freePort,
  repoRoot,
  ServiceProcess,
  TcpProxy,
  testInfra,
  uniqueName,
  type TestDatabase,
} from '@topicdesk/testkit';
import { RoundRobinProxy } from './proxy';

export const GROUP_ID = -1001000000001;
export const BOT_TOKEN = '200000001:e2e-sandbox-token';

/**
 * The token of send-only pool bot `n` (1-based): `2000000{NN}:e2e-sender-{NN}` with NN = n + 1,
 * so its bot id never equals the main bot's (200000001).
 */
export function senderToken(n: number): string {
  const nn = String(n + 1).padStart(2, '0');
  return `2000000${nn}:e2e-sender-${nn}`;
}

export interface ClusterOptions {
  gateways?: number;
  schedulers?: number;
  sandboxLimits?: Partial<Limits>;
  schedulerEnv?: Record<string, string>;
  gatewayEnv?: Record<string, string>;
  bridgeEnv?: Record<string, string>;
  /**
   * Connect every service to Postgres, NATS and Redis through TCP proxies of this cluster's own
   * (`cluster.dependencies`), so a test can cut or stall a dependency for this cluster only,
   * without stopping the shared servers other test files use.
   */
  dependencyProxies?: boolean;
  /** Put a round-robin TCP proxy (the load balancer) in front of the gateways. */
  proxy?: boolean;
  /**
   * Bridge replicas (default 1). All register the first one's webhook URL, as replicas behind
   * one public URL do: the sandbox delivers there, and a test may post to the others directly.
   */
  bridges?: number;
  /** NATS of the test's own (e.g. a `LocalServer` it restarts) instead of the shared one. */
  natsUrl?: string;
  /** Redis of the test's own instead of the shared one. */
  redisUrl?: string;
  /**
   * Run the services from another checkout of the repository (absolute path, dependencies
   * installed): a benchmark's old code against the same harness. Default: this checkout.
   */
  servicesRoot?: string;
  /**
   * Send-only pool bots (default 0, at most 98): their tokens go to every bridge as
   * TELEGRAM_SENDER_BOT_TOKENS and are `cluster.senderTokens`. In the sandbox each is an
   * administrator of the group with every right until the test says otherwise
   * (`cluster.sandbox.state.setMember`).
   */
  senderBots?: number;
}

export interface Cluster {
  readonly sandbox: RunningSandbox;
  readonly gateways: ServiceProcess[];
  readonly bridge: ServiceProcess;
  /** Every bridge replica; `bridge` is the first. */
  readonly bridges: ServiceProcess[];
  /** TELEGRAM_USER_KEY of the bridges (private-chat users' ids, updates on the bus). */
  readonly userKey: string;
  /** Tokens of the send-only pool bots (`senderBots`), in order; empty without them. */
  readonly senderTokens: readonly string[];
  readonly schedulers: ServiceProcess[];
  readonly database: TestDatabase;
  readonly namespace: string;
  readonly jwtSecret: string;
  readonly webhookSecret: string;
  readonly headerSecret: string;
  /** The proxies in front of Postgres, NATS and Redis, with `dependencyProxies: true`. */
  readonly dependencies: DependencyProxies | undefined;
  /** The load balancer in front of the gateways, with `proxy: true`. */
  readonly proxy: RoundRobinProxy | undefined;
  stop(): Promise<void>;
}

/**
 * Every service as its own process against the real Postgres, Redis and NATS, with the
 * Telegram sandbox (in the test process) standing in for Telegram and delivering by webhook.
 */
export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const senderBots = options.senderBots ?? 0;
  if (!Number.isInteger(senderBots) || senderBots < 0 || senderBots > 98) {
    throw new Error(`senderBots must be an integer from 0 to 98, got ${senderBots}`);
  }
  const senderTokens = Array.from({ length: senderBots }, (_, i) => senderToken(i + 1));
  const database = await createTestDatabase('e2e');
  const migrator = await createDatabase({ url: database.url });
  await migrateToLatest(migrator.db);
  await migrator.close();

  const namespace = uniqueName('e2e');
  const sandbox = await startSandbox({
    supergroupId: GROUP_ID,
    ...(options.sandboxLimits ? { limits: options.sandboxLimits } : {}),
  });
  const jwtSecret = randomBytes(32).toString('hex');
  const webhookSecret = `hook-${randomBytes(8).toString('hex')}`;
  const headerSecret = `hdr_${randomBytes(8).toString('hex')}`;
  const natsUrl = options.natsUrl ?? testInfra.natsUrl;
  const redisUrl = options.redisUrl ?? testInfra.redisUrl;
  const dependencies = options.dependencyProxies
    ? await startDependencyProxies(database.url, natsUrl, redisUrl)
    : undefined;
  const common = {
    DATABASE_URL: dependencies ? viaProxy(database.url, dependencies.postgres) : database.url,
    NATS_URL: dependencies ? viaProxy(natsUrl, dependencies.nats) : natsUrl,
    REDIS_URL: dependencies ? viaProxy(redisUrl, dependencies.redis) : redisUrl,
    NAMESPACE: namespace,
    HOST: '127.0.0.1',
  };

  const root = options.servicesRoot;
  // ServiceProcess joins scripts to this checkout's root; a relative path reaches the other one.
  const script = (path: string) => (root ? join(relative(repoRoot, root), path) : path);
  const where = root ? { cwd: root } : {};

  const userKey = randomBytes(32).toString('base64');
  const bridgePorts: number[] = [];
  for (let i = 0; i < (options.bridges ?? 1); i++) bridgePorts.push(await freePort());
  const bridgePort = bridgePorts[0] as number;
  const bridgeEnv = {
    ...common,
    BOT_TOKEN,
    SUPPORT_GROUP_ID: String(GROUP_ID),
    TELEGRAM_API_ROOT: sandbox.url,
    TELEGRAM_WEBHOOK_URL: `http://127.0.0.1:${bridgePort}/v1/telegram/webhook/${webhookSecret}`,
    TELEGRAM_WEBHOOK_SECRET: webhookSecret,
    TELEGRAM_HEADER_SECRET: headerSecret,
    TELEGRAM_USER_KEY: userKey,
    ...(senderTokens.length > 0 ? { TELEGRAM_SENDER_BOT_TOKENS: senderTokens.join(',') } : {}),
    // Private-chat users' limits stay out of the way of suites that do not test them.
    LIMIT_CONVERSATIONS_PER_DAY: '1000',
    LIMIT_MESSAGES_PER_HOUR: '1000',
    // With the sandbox's limits off, the bridge's own budgets need not pace the suite at
    // Telegram's 20 per minute; the limits suite turns both on.
    ...(options.sandboxLimits?.enabled
      ? {}
      : {
          TELEGRAM_LIMIT_GROUP_PER_MINUTE: '6000',
          TELEGRAM_LIMIT_CHAT_PER_SECOND: '100',
          TELEGRAM_LIMIT_SAFETY: '0ms',
        }),
    ...options.bridgeEnv,
  };
  const bridges = bridgePorts.map(
    (port, i) =>
      new ServiceProcess({
        name: i === 0 ? `${namespace}-bridge` : `${namespace}-bridge-${i + 1}`,
        script: script('services/telegram-bridge/src/main.ts'),
        ...where,
        url: `http://127.0.0.1:${port}`,
        env: { ...bridgeEnv, PORT: String(port) },
      }),
  );
  const bridge = bridges[0] as ServiceProcess;
  const gateways: ServiceProcess[] = [];
  for (let i = 0; i < (options.gateways ?? 2); i++) {
    const port = await freePort();
    gateways.push(
      new ServiceProcess({
        name: `${namespace}-gateway-${String.fromCharCode(97 + i)}`,
        script: script('services/gateway/src/main.ts'),
        ...where,
        url: `http://127.0.0.1:${port}`,
        env: {
          ...common,
          PORT: String(port),
          CONVERSATION_JWT_SECRET: jwtSecret,
          // Bot channels (issue 19) seal tokens and users with the bridges' key.
          TELEGRAM_USER_KEY: userKey,
          LIMIT_CONVERSATIONS_PER_DAY: '1000',
          LIMIT_MESSAGES_PER_HOUR: '1000',
          WS_RATE_BURST: '200',
          WS_RATE_PER_SEC: '100',
          // Every answer is checked against its /openapi.json schema (500 RESPONSE_SCHEMA_MISMATCH).
          CHECK_RESPONSE_SCHEMAS: 'true',
          ...options.gatewayEnv,
        },
      }),
    );
  }
  const schedulers: ServiceProcess[] = [];
  for (let i = 0; i < (options.schedulers ?? 1); i++) {
    const port = await freePort();
    schedulers.push(
      new ServiceProcess({
        name: `${namespace}-scheduler-${i}`,
        script: script('services/scheduler/src/main.ts'),
        ...where,
        url: `http://127.0.0.1:${port}`,
        env: { ...common, PORT: String(port), ...options.schedulerEnv },
      }),
    );
  }

  const all = [...bridges, ...gateways, ...schedulers];
  let proxy: RoundRobinProxy | undefined;
  const stop = async () => {
    await proxy?.close();
    await Promise.allSettled(all.map((p) => p.stop()));
    await sandbox.close();
    if (dependencies) {
      const { postgres, nats, redis } = dependencies;
      await Promise.allSettled([postgres.close(), nats.close(), redis.close()]);
    }
    // A NATS or Redis of the test's own goes away with the test.
    await Promise.allSettled([
      options.natsUrl ? undefined : cleanupNats(namespace),
      options.redisUrl ? undefined : cleanupRedis(namespace),
    ]);
    await database.drop();
  };
  try {
    await Promise.all(all.map((p) => p.start(60_000)));
    if (options.proxy)
      proxy = await RoundRobinProxy.start(gateways.map((g) => Number(new URL(g.url).port)));
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    sandbox,
    gateways,
    bridge,
    bridges,
    userKey,
    senderTokens,
    schedulers,
    database,
    namespace,
    jwtSecret,
    webhookSecret,
    headerSecret,
    proxy,
    dependencies,
    stop,
  };
}

export interface DependencyProxies {
  readonly postgres: TcpProxy;
  readonly nats: TcpProxy;
  readonly redis: TcpProxy;
}

async function startDependencyProxies(
  databaseUrl: string,
  natsUrl: string,
  redisUrl: string,
): Promise<DependencyProxies> {
  const target = (url: string, defaultPort: number) => {
    const parsed = new URL(url);
    return { host: parsed.hostname, port: Number(parsed.port || defaultPort) };
  };
  const [postgres, nats, redis] = await Promise.all([
    TcpProxy.start({ target: target(databaseUrl, 5432) }),
    TcpProxy.start({ target: target(natsUrl, 4222) }),
    TcpProxy.start({ target: target(redisUrl, 6379) }),
  ]);
  return { postgres, nats, redis };
}

/** The URL with its host and port replaced by the proxy's. */
function viaProxy(url: string, proxy: TcpProxy): string {
  const parsed = new URL(url);
  parsed.hostname = '127.0.0.1';
  parsed.port = String(proxy.port);
  return parsed.toString();
}

/** Topic thread id of a conversation, once the bridge created it. */
export async function topicOf(
  sandbox: RunningSandbox,
  ticket: string,
  timeoutMs = 15_000,
): Promise<number> {
  const topic = await sandbox.state.waitFor(
    () => sandbox.state.topics(GROUP_ID).find((t) => t.name.includes(ticket)),
    timeoutMs,
  );
  return topic.threadId;
}

/**
 * Texts the bot relayed into a topic, in order. The header (it has buttons) is left out, but the
 * visitor's first texts it may carry (after its `💬` line) are taken, as agents see them there.
 */
export function botTexts(sandbox: RunningSandbox, threadId: number): string[] {
  return sandbox.state.messages({ chatId: GROUP_ID, threadId, fromBot: true }).flatMap((m) => {
    if (typeof m.text !== 'string' || m.text.length === 0 || m.service !== null) return [];
    if (m.replyMarkup === null) return [m.text];
    const carried = m.text.indexOf(HEADER_TEXTS);
    return carried === -1 ? [] : [m.text.slice(carried + HEADER_TEXTS.length)];
  });
}

/** The agent (AGENT) writes `text` into a topic of the support group. */
export function agentSays(sandbox: RunningSandbox, threadId: number, text: string) {
  return sandbox.state.injectMessage({
    chatId: GROUP_ID,
    messageThreadId: threadId,
    text,
    from: AGENT,
  });
}

/** Where a topic header's carried visitor texts start (services/telegram-bridge/src/sync). */
const HEADER_TEXTS = '\n\n💬 ';

export const AGENT = {
  id: 7001,
  first_name: 'Alice',
  last_name: 'Agentova',
  username: 'alice_agent',
};
