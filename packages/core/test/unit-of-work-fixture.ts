import { createDatabase, migrateToLatest, type Database, type OutboxRow } from '@topicdesk/data';
import { createTestDatabase } from '@topicdesk/testkit';
import { UnitOfWork } from '../src/index';

export interface UnitOfWorkFixture {
  database: Database;
  uow: UnitOfWork;
  /** Every outbox row published after a commit, in order. */
  published: OutboxRow[];
  close(): Promise<void>;
}

/** A migrated database of its own and a unit of work whose publisher records what it is given. */
export async function unitOfWorkFixture(prefix: string): Promise<UnitOfWorkFixture> {
  const testDb = await createTestDatabase(prefix);
  const database = await createDatabase({ url: testDb.url });
  await migrateToLatest(database.db);
  const published: OutboxRow[] = [];
  const uow = new UnitOfWork(database.db, {
    publish: async (rows) => void published.push(...rows),
  });
  return {
    database,
    uow,
    published,
    async close() {
      await database.close();
      await testDb.drop();
    },
  };
}
