import { sql, type Kysely } from 'kysely';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations see the database as it was then */

/**
 * The console's conversation list pages newest first by creation (`created_at`, `id`): a column
 * no message changes, so the index keeps the conversations' row updates HOT (see 0014), and a
 * page's cursor stays where it is while conversations are added. Its text search finds words of
 * messages through a GIN index over their `simple` text vector (ticket, name and e-mail are
 * matched on the conversation's own row); the audit trail of one conversation is read by
 * `conversation_id`.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex('conversations_console_list_idx')
    .on('conversations')
    .expression(sql`tenant_id, created_at desc, id desc`)
    .execute();
  await sql`create index messages_text_search_idx on messages using gin (to_tsvector('simple', text))`.execute(
    db,
  );
  await db.schema
    .createIndex('audit_log_conversation_idx')
    .on('audit_log')
    .columns(['conversation_id', 'id'])
    .where(sql.ref('conversation_id'), 'is not', null)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('audit_log_conversation_idx').execute();
  await db.schema.dropIndex('messages_text_search_idx').execute();
  await db.schema.dropIndex('conversations_console_list_idx').execute();
}
