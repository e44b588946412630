import { sql, type Kysely } from 'kysely';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations see the database as it was then */

/**
 * A pool of sender bots: which bot sent each Telegram message (only that bot can edit it), the
 * header's pin as a step of its own (skipped while the group's queue is backed up), and when
 * cosmetic work (renames, header edits, pins) put off under load is due again.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('conversations')
    // The bot that posted the header (NULL: the main bot, as before this migration).
    .addColumn('header_bot_id', 'text')
    .addColumn('header_pinned', 'boolean', (c) => c.notNull().defaultTo(false))
    // Set when renames / header edits / pins were put off for busier work; the sweep retries.
    .addColumn('cosmetic_due_at', 'timestamptz')
    .execute();
  // Headers posted before this migration were pinned at once.
  await sql`update conversations set header_pinned = true where header_message_id is not null`.execute(
    db,
  );
  await db.schema.alterTable('messages').addColumn('telegram_bot_id', 'text').execute();
  await db.schema.alterTable('telegram_posts').addColumn('telegram_bot_id', 'text').execute();
  await db.schema
    .createIndex('conversations_cosmetic_due_idx')
    .on('conversations')
    .column('cosmetic_due_at')
    .where(sql.ref('cosmetic_due_at'), 'is not', null)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('conversations_cosmetic_due_idx').execute();
  await db.schema.alterTable('telegram_posts').dropColumn('telegram_bot_id').execute();
  await db.schema.alterTable('messages').dropColumn('telegram_bot_id').execute();
  await db.schema
    .alterTable('conversations')
    .dropColumn('cosmetic_due_at')
    .dropColumn('header_pinned')
    .dropColumn('header_bot_id')
    .execute();
}
