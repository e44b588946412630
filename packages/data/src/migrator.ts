import { Migrator, type Kysely, type MigrationProvider } from 'kysely';

// The migrator works on any schema: it only sees its own bookkeeping tables.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDb = Kysely<any>;
import { MigrationFailedError } from './errors';
import { migrations } from './migrations/index';

const provider: MigrationProvider = { getMigrations: () => Promise.resolve(migrations) };

function migrator(db: AnyDb): Migrator {
  return new Migrator({
    db,
    provider,
    migrationTableName: 'topicdesk_migrations',
    migrationLockTableName: 'topicdesk_migrations_lock',
  });
}

/**
 * Applies every pending migration. Safe when several processes run it at once: Kysely's
 * Postgres adapter holds an advisory lock for the duration.
 */
export async function migrateToLatest(db: AnyDb): Promise<string[]> {
  const { error, results } = await migrator(db).migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    throw new MigrationFailedError(failed?.migrationName, error);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Names of migrations not yet applied (empty when the schema is up to date). */
export async function pendingMigrations(db: AnyDb): Promise<string[]> {
  const all = await migrator(db).getMigrations();
  return all.filter((m) => m.executedAt === undefined).map((m) => m.name);
}
