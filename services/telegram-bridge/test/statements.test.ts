import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConversationService,
  createInfrastructure,
  OutboxRelay,
  UnitOfWork,
  type Infrastructure,
} from '@topicdesk/core';
import { startSandbox, type RunningSandbox } from '@topicdesk/telegram-sandbox';
import { createLogger } from '@topicdesk/telemetry';
import { createTestDatabase, uniqueName, type TestDatabase } from '@topicdesk/testkit';
import { createBridge, loadBridgeConfig, type Bridge } from '../src/index';

const GROUP = -1001000000001;
const TENANT = 'default';

type Db = Infrastructure['database']['db'];

/**
 * The bridge's Postgres statements, counted: every statement its handle compiles (a plugin
 * sees each one), and a BEGIN and COMMIT per transaction it opens.
 */
function countingDb(db: Db): { db: Db; statements: () => number; reset: () => void } {
  let queries = 0;
  let transactions = 0;
  const counted = db.withPlugin({
    transformQuery: (args) => {
      queries += 1;
      return args.node;
    },
    transformResult: (args) => Promise.resolve(args.result),
  });
  const transaction = counted.transaction.bind(counted);
  counted.transaction = () => {
    transactions += 1;
    return transaction();
  };
  return {
    db: counted,
    statements: () => queries + 2 * transactions,
    reset: () => {
      queries = 0;
      transactions = 0;
    },
  };
}

/** Resolves once `count` has not moved for `quietMs` (the bridge's rounds are over). */
async function settled(count: () => number, quietMs = 400): Promise<number> {
  let last = count();
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, quietMs));
    const now = count();
    if (now === last) return now;
    last = now;
  }
}

// A measurement more than a test (issue 13, "the bridge stops reading back what it just
// wrote"): the bridge in process against the real Postgres and the sandbox, one visitor
// message at a time, its statements counted until it is idle again. The bounds keep it there.
describe('Postgres statements of the bridge per visitor message', () => {
  let testDb: TestDatabase;
  let infra: Infrastructure;
  let relay: OutboxRelay;
  let sandbox: RunningSandbox;
  let bridge: Bridge;
  let service: ConversationService;
  let counter: ReturnType<typeof countingDb>;

  beforeAll(async () => {
    testDb = await createTestDatabase('bridge');
    const logger = createLogger({ service: 'bridge-test', level: 'warn' });
    infra = await createInfrastructure({
      service: 'bridge-test',
      databaseUrl: testDb.url,
      namespace: uniqueName('bridge'),
      logger,
      migrate: true,
    });
    relay = new OutboxRelay({
      db: infra.database.db,
      bus: infra.bus,
      fanout: infra.coordination.fanout,
      logger,
    });
    service = new ConversationService(new UnitOfWork(infra.database.db, relay));
    sandbox = await startSandbox({ supergroupId: GROUP });
    counter = countingDb(infra.database.db);
    bridge = createBridge({
      config: loadBridgeConfig({
        BOT_TOKEN: '200000001:bridge-test',
        SUPPORT_GROUP_ID: String(GROUP),
        TELEGRAM_API_ROOT: sandbox.url,
        TELEGRAM_UPDATES: 'polling',
        TELEGRAM_PIN_HEADER: 'never',
        TELEGRAM_LIMIT_GROUP_PER_MINUTE: '6000',
        TELEGRAM_LIMIT_CHAT_PER_SECOND: '100',
        TELEGRAM_LIMIT_SAFETY: '0ms',
      }),
      db: counter.db,
      bus: infra.bus,
      coordination: infra.coordination,
      relay,
      logger,
    });
    await bridge.start();
  });

  afterAll(async () => {
    await bridge.stop();
    await sandbox.close();
    await relay.stop();
    await infra.close();
    await testDb.drop();
  });

  const texts = () =>
    sandbox.state.messages({ fromBot: true }).map((m) => m.text ?? '');
  const shown = (text: string) =>
    sandbox.state.waitFor(() => texts().some((t) => t.includes(text)), 10_000);

  it('counts the statements of a new conversation and of each further message', async () => {
    counter.reset();
    const conversation = await service.start({ tenantId: TENANT, channel: 'web' });
    await service.postVisitorMessage({
      tenantId: TENANT,
      conversationId: conversation.id,
      clientId: 'c0',
      text: 'first text',
    });
    await shown('first text');
    const first = await settled(counter.statements);

    const rounds = 10;
    counter.reset();
    for (let i = 1; i <= rounds; i++) {
      await service.postVisitorMessage({
        tenantId: TENANT,
        conversationId: conversation.id,
        clientId: `c${i}`,
        text: `text number ${i}`,
      });
      await shown(`text number ${i}`);
      await settled(counter.statements);
    }
    const perMessage = counter.statements() / rounds;
    // Read by the lead in the report; the bounds only catch a slide back.
    process.stdout.write(
      `bridge statements: a new conversation and its first message (topic, header, welcome) ${first}; each further message ${perMessage}\n`,
    );
    expect(perMessage).toBeLessThanOrEqual(10);
  });
});
