import {
  ConversationService,
  startServiceRuntime,
  UnitOfWork,
  type DB,
  type Kysely,
  type ServiceRuntime,
} from '@topicdesk/core';
import { startSandbox, type RunningSandbox } from '@topicdesk/telegram-sandbox';
import { createLogger, type Logger } from '@topicdesk/telemetry';
import {
  cleanupNats,
  cleanupRedis,
  createTestDatabase,
  testInfra,
  uniqueName,
  type TestDatabase,
} from '@topicdesk/testkit';
import { createBridge, loadBridgeConfig, type Bridge, type BridgeConfig } from '../src/index';

export const GROUP = -1001000000001;
export const TENANT = 'default';

export interface BridgeUnderTest {
  runtime: ServiceRuntime;
  sandbox: RunningSandbox;
  bridge: Bridge;
  uow: UnitOfWork;
  service: ConversationService;
  config: BridgeConfig;
  logger: Logger;
  /** What another runtime needs to join this one (the visitors' side in a test). */
  shared: { DATABASE_URL: string; NAMESPACE: string; NATS_URL?: string; REDIS_URL?: string };
  close(): Promise<void>;
}

/**
 * The bridge in this process against a test database of its own on the real Postgres, the bus
 * and fanout of one-process mode, and a sandbox Telegram with one support group; polling, no
 * pinned header, no safety margin. `env` adds to (or overrides) that configuration; `db` wraps
 * the bridge's database handle (a statement counter); `distributed` puts it on the real NATS and
 * Redis instead, as in production.
 */
export async function startBridgeUnderTest(options: {
  name: string;
  token: string;
  env?: Record<string, string>;
  dataDir?: string;
  logLevel?: 'error' | 'warn';
  db?: (db: Kysely<DB>) => Kysely<DB>;
  distributed?: boolean;
  /** Another sandbox than a plain one with GROUP (e.g. a paced one). */
  sandbox?: () => Promise<RunningSandbox>;
}): Promise<BridgeUnderTest> {
  const testDb: TestDatabase = await createTestDatabase(`bridge_${options.name}`);
  const logger = createLogger({ service: 'bridge-test', level: options.logLevel ?? 'error' });
  const dataDir = options.dataDir ?? '.';
  const shared = {
    DATABASE_URL: testDb.url,
    NAMESPACE: uniqueName(options.name),
    ...(options.distributed ? { NATS_URL: testInfra.natsUrl, REDIS_URL: testInfra.redisUrl } : {}),
  };
  const runtime = await startServiceRuntime({
    service: 'bridge-test',
    config: { ...shared, DATA_DIR: dataDir },
    logger,
    migrate: true,
    coalesceRedisWrites: true,
  });
  const { infra, relay } = runtime;
  const uow = new UnitOfWork(infra.database.db, relay);
  const sandbox = await (options.sandbox?.() ?? startSandbox({ supergroupId: GROUP }));
  const config = loadBridgeConfig({
    BOT_TOKEN: options.token,
    SUPPORT_GROUP_ID: String(GROUP),
    TELEGRAM_API_ROOT: sandbox.url,
    TELEGRAM_UPDATES: 'polling',
    TELEGRAM_PIN_HEADER: 'never',
    TELEGRAM_LIMIT_SAFETY: '0ms',
    ...(options.dataDir ? { DATA_DIR: options.dataDir } : {}),
    ...options.env,
  });
  const bridge = createBridge({
    config,
    db: options.db ? options.db(infra.database.db) : infra.database.db,
    bus: infra.bus,
    coordination: infra.coordination,
    relay,
    logger,
  });
  await bridge.start();
  return {
    runtime,
    sandbox,
    bridge,
    uow,
    service: new ConversationService(uow),
    config,
    logger,
    shared,
    async close() {
      await bridge.stop();
      await sandbox.close();
      await runtime.close();
      await testDb.drop();
      if (options.distributed)
        await Promise.all([cleanupNats(shared.NAMESPACE), cleanupRedis(shared.NAMESPACE)]);
    },
  };
}

/**
 * The visitors' side beside a distributed bridge under test, as a gateway would be: a runtime
 * of its own (pool, NATS and Redis connections) on the same database and namespace, and the
 * conversation use cases over it.
 */
export async function startVisitorSide(
  under: BridgeUnderTest,
): Promise<{ service: ConversationService; close(): Promise<void> }> {
  const runtime = await startServiceRuntime({
    service: 'visitors-test',
    config: { ...under.shared, DATA_DIR: '.' },
    logger: under.logger,
  });
  return {
    service: new ConversationService(new UnitOfWork(runtime.infra.database.db, runtime.relay)),
    close: () => runtime.close(),
  };
}
