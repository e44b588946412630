import { Migrator, type Kysely, type MigrationProvider } from 'kysely';
import { MigrationFailedError } from './errors';
import { migrations } from './migrations/index';

const provider: MigrationProvider = { getMigrations: () => Promise.resolve(migrations) };

function migrator(db: Kysely<unknown>): Migrator {
  return new Migrator({ db, provider, migrationTableName: 'topicdesk_migrations', migrationLockTableName: 'topicdesk_migrations_lock' });
}

/**
 * Applies every pending migration. Safe when several processes run it at once: Kysely's
 * Postgres adapter holds an advisory lock for the duration.
 */
export async function migrateToLatest(db: Kysely<unknown>): Promise<string[]> {
  const { error, results } = await migrator(db).migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    throw new MigrationFailedError(failed?.migrationName, error);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Names of migrations not yet applied (empty when the schema is up to date). */
export async function pendingMigrations(db: Kysely<unknown>): Promise<string[]> {
  const all = await migrator(db).getMigrations();
  return all.filter((m) => m.executedAt === undefined).map((m) => m.name);
}
