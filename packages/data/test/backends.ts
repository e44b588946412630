import { afterAll, beforeAll } from 'vitest';
import { createTestDatabase } from '@topicdesk/testkit';
import { createDatabase, migrateToLatest, type Database, type DB, type Kysely } from '../src/index';

/** One of the two stores the data package runs on; every suite here runs against both. */
export interface Backend {
  name: 'postgres' | 'pglite';
  /** A database of the test's own (a fresh Postgres database, or PGlite in memory). */
  open(options?: {
    poolSize?: number | undefined;
  }): Promise<{ database: Database; drop(): Promise<void> }>;
}

export const backends: readonly Backend[] = [
  {
    name: 'postgres',
    async open(options = {}) {
      const testDb = await createTestDatabase('data');
      const database = await createDatabase({ url: testDb.url, ...options });
      return { database, drop: () => testDb.drop() };
    },
  },
  {
    name: 'pglite',
    async open() {
      return {
        database: await createDatabase({ dataDir: 'memory://' }),
        drop: () => Promise.resolve(),
      };
    },
  },
];

/**
 * Opens a database of `backend` before the enclosing describe block's tests and closes and
 * drops it after them; migrated to the latest schema unless `migrate` is false (a suite that
 * steps through migrations itself). Its `db` is there once the tests run.
 */
export function useDatabase(
  backend: Backend,
  options: { migrate?: boolean; poolSize?: number } = {},
): { readonly db: Kysely<DB> } {
  let opened: Awaited<ReturnType<Backend['open']>> | undefined;
  beforeAll(async () => {
    opened = await backend.open({ poolSize: options.poolSize });
    if (options.migrate !== false) await migrateToLatest(opened.database.db);
  });
  afterAll(async () => {
    await opened?.database.close();
    await opened?.drop();
  });
  return {
    get db() {
      if (!opened) throw new Error('the database is opened before the tests (beforeAll)');
      return opened.database.db;
    },
  };
}
