import { sql, type Kysely } from 'kysely';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations see the database as it was then */

/**
 * Every stored message updates its conversation's row (`last_seq`, `last_activity_at`,
 * `updated_at`). With `last_activity_at` in an index, none of those updates could be HOT: each
 * one added an entry to every index of the table. The idle conversations' index now names only
 * columns a message never changes (the open ones, by creation), and the table's pages keep a
 * fifth free so that the new row version fits beside the old one. The idle query reads the open
 * conversations' rows instead of a range of the index: a few thousand at most, twice a minute.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('conversations_open_activity_idx').execute();
  await db.schema
    .createIndex('conversations_open_idx')
    .on('conversations')
    .column('created_at')
    .where(sql.ref('status'), '=', 'open')
    .execute();
  await sql`alter table conversations set (fillfactor = 80)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table conversations reset (fillfactor)`.execute(db);
  await db.schema.dropIndex('conversations_open_idx').execute();
  await db.schema
    .createIndex('conversations_open_activity_idx')
    .on('conversations')
    .columns(['status', 'last_activity_at'])
    .execute();
}
