import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConversationRepository, DEFAULT_TENANT_ID } from '@topicdesk/data';
import type { Fanout } from '@topicdesk/fanout';
import { createLogger } from '@topicdesk/telemetry';
import { createTestDatabase, type TestDatabase } from '@topicdesk/testkit';
import {
  activityChannel,
  ConversationService,
  createInfrastructure,
  OutboxRelay,
  UnitOfWork,
  type Infrastructure,
} from '../src/index';
import { countedQueries } from './support/counted-queries';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// Issue 13, idle commits: the outbox sweeper looks every second only while it has reason to (a
// start, a publish that failed here, rows found); otherwise every idleSweepIntervalMs, with one
// statement. Scaled down here: 50 ms and 400 ms, rows stale after 100 ms.
describe('the outbox sweeper', () => {
  let testDb: TestDatabase;
  let infra: Infrastructure;
  const logger = createLogger({ service: 'core-test', level: 'error' });
  const intervals = { staleAfterMs: 100, sweepIntervalMs: 50, idleSweepIntervalMs: 400 };

  beforeAll(async () => {
    testDb = await createTestDatabase('core');
    const where = { service: 'core-sweep', namespace: 'core-sweep', databaseUrl: testDb.url };
    infra = await createInfrastructure({ ...where, logger, migrate: true });
  });

  afterAll(async () => {
    await infra.close();
    await testDb.drop();
  });

  it('sweeps at the idle interval, one statement each, while nothing is left behind', async () => {
    const statements = countedQueries(infra.database.db);
    const relay = new OutboxRelay({
      db: statements.db,
      bus: infra.bus,
      fanout: infra.coordination.fanout,
      logger,
      ...intervals,
    });
    relay.start();
    // The first sweeps come at the short interval (rows a dead predecessor left behind).
    await sleep(300);
    expect(statements.queries.length).toBeGreaterThanOrEqual(2);
    await sleep(200);
    statements.queries.length = 0;
    await sleep(1_250);
    await relay.stop();
    // 1,250 ms at 400 ms: three or four looks (at 50 ms: 25 looks, 25 transactions).
    expect(statements.queries.length).toBeGreaterThanOrEqual(2);
    expect(statements.queries.length).toBeLessThanOrEqual(4);
  });

  it('looks again soon after a publish failed here, and publishes what was left', async () => {
    const inner = infra.coordination.fanout;
    let failures = 1;
    const fanout: Fanout = {
      publish: (conversationId, event) => {
        // The row's publish fails; the console's activity signal (another channel) is not counted.
        if (conversationId !== activityChannel(DEFAULT_TENANT_ID) && failures-- > 0)
          return Promise.reject(new Error('redis away'));
        return inner.publish(conversationId, event);
      },
      subscribe: (conversationId, listener) => inner.subscribe(conversationId, listener),
      onRecovered: (listener) => inner.onRecovered(listener),
      health: () => inner.health(),
      close: () => inner.close(),
    };
    // Idle for long: a sweep due to the idle interval would come after the test's wait.
    const relay = new OutboxRelay({
      db: infra.database.db,
      bus: infra.bus,
      fanout,
      logger,
      ...intervals,
      idleSweepIntervalMs: 60_000,
    });
    relay.start();
    await sleep(500); // calm: the next look is a minute away
    const conversationId = (
      await new ConversationRepository(infra.database.db).create({
        tenantId: DEFAULT_TENANT_ID,
        channel: 'web',
      })
    ).id;
    const heard: unknown[] = [];
    const leave = await inner.subscribe(conversationId, (event) => heard.push(event));
    const service = new ConversationService(new UnitOfWork(infra.database.db, relay));
    await service.postVisitorMessage({
      tenantId: DEFAULT_TENANT_ID,
      conversationId,
      clientId: 'c1',
      text: 'left behind',
    });
    expect(failures).toBe(0);
    const left = () =>
      infra.database.db
        .selectFrom('outbox')
        .select('id')
        .where('topic', '=', conversationId)
        .execute();
    await vi.waitFor(async () => expect(await left()).toEqual([]), {
      timeout: 2_000,
      interval: 50,
    });
    expect(heard.length).toBeGreaterThan(0);
    await leave();
    await relay.stop();
  });
});
