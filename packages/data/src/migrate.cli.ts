// `pnpm migrate`: applies pending migrations to DATABASE_URL (or the embedded database).
import { z } from 'zod';
import { createDatabase } from './database';
import { migrateToLatest } from './migrator';

const env = z
  .object({
    /** Postgres URL; unset means the embedded PGlite database under DATA_DIR. */
    DATABASE_URL: z.string().url().optional(),
    /** Directory of the embedded database (one-process mode). */
    DATA_DIR: z.string().default('./data'),
  })
  .parse(process.env);

const database = await createDatabase({ url: env.DATABASE_URL, dataDir: `${env.DATA_DIR}/pg` });
try {
  const applied = await migrateToLatest(database.db);
  console.log(applied.length > 0 ? `applied: ${applied.join(', ')}` : 'schema is up to date');
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  await database.close();
}
