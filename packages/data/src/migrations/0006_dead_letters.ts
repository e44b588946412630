import { sql, type Kysely } from 'kysely';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations see the database as it was then */

/**
 * Bus messages that ran out of deliveries (or never decoded): kept for an operator to see and
 * replay (admin API), instead of retrying forever and spending Telegram's budget on each try.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('dead_letters')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    // The bus topic (catalogue name, e.g. conversationSync) and the consumer that gave up.
    .addColumn('topic', 'text', (c) => c.notNull())
    .addColumn('durable', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('deliveries', 'integer', (c) => c.notNull())
    // The last error, as data (code and description; never a payload).
    .addColumn('error_code', 'text', (c) => c.notNull())
    .addColumn('error', 'text', (c) => c.notNull())
    // The raw protobuf payload (base64): what a replay publishes again.
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('conversation_id', 'uuid')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('replayed_at', 'timestamptz')
    .addColumn('replays', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  // A conversation whose sync was given up: the sweep leaves it alone until new work or a
  // replay brings it back (else the sweep would retry a poisoned conversation forever).
  await db.schema
    .alterTable('conversations')
    .addColumn('sync_given_up_at', 'timestamptz')
    .execute();
  await db.schema
    .createIndex('dead_letters_tenant_idx')
    .on('dead_letters')
    .columns(['tenant_id', 'id'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('dead_letters').execute();
  await db.schema.alterTable('conversations').dropColumn('sync_given_up_at').execute();
}
