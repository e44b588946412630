import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConversationRepository, DEFAULT_TENANT_ID, type OutboxRow } from '@topicdesk/data';
import { createLogger } from '@topicdesk/telemetry';
import { createTestDatabase, type TestDatabase } from '@topicdesk/testkit';
import {
  ConversationService,
  createInfrastructure,
  messageEvent,
  OutboxRelay,
  UnitOfWork,
  type Infrastructure,
} from '../src/index';
import { countedQueries } from './support/counted-queries';

// Issue 13, "fewer round trips per message": the visitor's text is stored in one statement
// with its outbox rows (migration 0021; the first, with the welcome, in one transaction of
// three statements: the row lock, the append, the outbox rows), its outbox rows are deleted in
// batches, and the checks folded into the append hold under concurrent writers.
describe('a visitor message', () => {
  let testDb: TestDatabase;
  let infra: Infrastructure;
  const logger = createLogger({ service: 'core-test', level: 'warn' });

  beforeAll(async () => {
    testDb = await createTestDatabase('core');
    // Real Postgres; the bus and fanout of one-process mode.
    const where = { service: 'core-perf', namespace: 'core-perf', databaseUrl: testDb.url };
    infra = await createInfrastructure({ ...where, logger, migrate: true });
  });

  afterAll(async () => {
    await infra.close();
    await testDb.drop();
  });

  const start = async () =>
    (
      await new ConversationRepository(infra.database.db).create({
        tenantId: DEFAULT_TENANT_ID,
        channel: 'web',
      })
    ).id;
  const post = (service: ConversationService, conversationId: string, clientId: string) =>
    service.postVisitorMessage({
      tenantId: DEFAULT_TENANT_ID,
      conversationId,
      clientId,
      text: `text ${clientId}`,
    });

  /** The service over a publisher that keeps what it is given. */
  const recording = () => {
    const published: OutboxRow[] = [];
    const publisher = {
      publish: async (rows: readonly OutboxRow[]) => void published.push(...rows),
    };
    return {
      service: new ConversationService(new UnitOfWork(infra.database.db, publisher)),
      published,
    };
  };

  it('is stored in one statement with its outbox rows; they are deleted in batches', async () => {
    const writes = countedQueries(infra.database.db);
    const relayDb = countedQueries(infra.database.db);
    const relay = new OutboxRelay({
      db: relayDb.db,
      bus: infra.bus,
      fanout: infra.coordination.fanout,
      logger,
      // Longer than the test: every row published is deleted by the one flush of stop().
      flushDelayMs: 60_000,
    });
    const service = new ConversationService(new UnitOfWork(writes.db, relay));
    const conversationId = await start();
    await post(service, conversationId, 'first'); // the welcome's template reads come with it
    writes.queries.length = 0;
    for (let i = 0; i < 10; i++) await post(service, conversationId, `m${i}`);
    // Per message: one select of the function that locks, appends and writes the outbox rows.
    expect(writes.queries).toEqual(Array.from({ length: 10 }, () => 'SelectQueryNode'));
    await relay.stop();
    // 22 rows published (sync and fanout of each message, the welcome's banner, the first's),
    // nothing deleted until the flush: one statement for all of them.
    expect(relayDb.queries.filter((kind) => kind === 'DeleteQueryNode')).toHaveLength(1);
    const left = await infra.database.db
      .selectFrom('outbox')
      .select('id')
      .where('topic', 'in', [conversationId, 'conversationSync'])
      .execute();
    expect(left).toEqual([]);
  });

  it('sends one welcome and stores a clientId once when the same conversation is written at once', async () => {
    const { service, published } = recording();
    const conversationId = await start();
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => post(service, conversationId, `c${i % 4}`)),
    );
    expect(results.filter((r) => !r.duplicate)).toHaveLength(4);
    expect(new Set(results.map((r) => r.message.seq))).toEqual(new Set([1, 2, 3, 4]));
    const welcomes = published.filter(
      (row) => row.topic === conversationId && row.payload['key'] === 'welcome',
    );
    expect(welcomes).toHaveLength(1);
    const conversation = await new ConversationRepository(infra.database.db).get(
      DEFAULT_TENANT_ID,
      conversationId,
    );
    expect(conversation.last_seq).toBe(4);
  });

  it('announces a text stored in one statement with the event its stored row makes', async () => {
    const { service, published } = recording();
    const conversationId = await start();
    await post(service, conversationId, 'welcomed');
    published.length = 0;
    const { message, duplicate } = await service.postVisitorMessage({
      tenantId: DEFAULT_TENANT_ID,
      conversationId,
      clientId: 'second',
      text: 'a second text',
      origin: 'socket-1',
    });
    expect(duplicate).toBe(false);
    expect(published.map((row) => [row.destination, row.topic, row.payload])).toEqual([
      ['bus', 'conversationSync', { tenantId: DEFAULT_TENANT_ID, conversationId, reason: 2 }],
      ['fanout', conversationId, JSON.parse(JSON.stringify(messageEvent(message, 'socket-1')))],
    ]);
    // A resend is answered with the stored message and announces nothing.
    published.length = 0;
    const again = await post(service, conversationId, 'second');
    expect(again).toEqual({ message, duplicate: true });
    expect(published).toEqual([]);
  });

  it('does not resend in the sweep what the fast path published and has not deleted yet', async () => {
    const relay = new OutboxRelay({
      db: infra.database.db,
      bus: infra.bus,
      fanout: infra.coordination.fanout,
      logger,
      staleAfterMs: 0,
    });
    const service = new ConversationService(new UnitOfWork(infra.database.db, relay));
    const conversationId = await start();
    let heard = 0;
    const leave = await infra.coordination.fanout.subscribe(conversationId, () => {
      heard += 1;
    });
    await post(service, conversationId, 'swept');
    const settle = () => new Promise((resolve) => setTimeout(resolve, 200));
    await settle();
    const fast = heard;
    expect(fast).toBeGreaterThan(0);
    // The rows are stale at once (staleAfterMs 0); the sweep deletes them without resending.
    await relay.sweep();
    await settle();
    expect(heard).toBe(fast);
    await relay.stop();
    await leave();
    const left = await infra.database.db
      .selectFrom('outbox')
      .select('id')
      .where('topic', '=', conversationId)
      .execute();
    expect(left).toEqual([]);
  });
  it('leaves to the fast path, in the sweep, a row it is still publishing (no second publish)', async () => {
    // The fast path's publishes wait here, as they do behind a backlog under load.
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const held = <T extends object>(target: T): T =>
      new Proxy(target, {
        get(object, key) {
          const value: unknown = Reflect.get(object, key, object);
          if (key !== 'publish' || typeof value !== 'function') return value;
          return async (...args: unknown[]) => {
            await gate;
            return (value as (...a: unknown[]) => unknown).apply(object, args);
          };
        },
      });
    const relay = new OutboxRelay({
      db: infra.database.db,
      bus: held(infra.bus),
      fanout: held(infra.coordination.fanout),
      logger,
      staleAfterMs: 0,
    });
    const service = new ConversationService(new UnitOfWork(infra.database.db, relay));
    const conversationId = await start();
    const heard: string[] = [];
    const leave = await infra.coordination.fanout.subscribe(conversationId, (event) => {
      heard.push(JSON.stringify(event));
    });
    const posted = post(service, conversationId, 'late');
    const settle = () => new Promise((resolve) => setTimeout(resolve, 200));
    await settle();
    // Committed, stale at once (staleAfterMs 0), its publish not through: the sweep leaves it.
    const swept = relay.sweep();
    await settle();
    open();
    await posted;
    expect(await swept).toBe(0);
    await settle();
    // The message and the welcome, each heard once.
    expect(heard).toHaveLength(2);
    expect(new Set(heard).size).toBe(2);
    await relay.stop();
    await leave();
    const left = await infra.database.db
      .selectFrom('outbox')
      .select('id')
      .where('topic', '=', conversationId)
      .execute();
    expect(left).toEqual([]);
  });
});
