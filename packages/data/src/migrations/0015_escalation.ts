import { sql, type Kysely } from 'kysely';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations see the database as it was then */

/**
 * Escalation (issue 14, part 2): each conversation's level (1–3; a conversation in a level-2 or
 * level-3 group starts at that group's level) and since when it waits for an agent (the queue's
 * wait: reset by an unclaim or an escalation); bot posts that go to a topic other than the
 * conversation's current one (the old topic's "moved" note after an escalation); and every
 * escalation, with the topic it left (an agent writing there is told where it went).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('conversations')
    .addColumn('level', 'smallint', (c) =>
      c
        .notNull()
        .defaultTo(1)
        .check(sql`level between 1 and 3`),
    )
    .addColumn('waiting_since', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`update conversations c set level = g.level from support_groups g
    where g.tenant_id = c.tenant_id and g.chat_id = c.group_chat_id and g.level <> 1`.execute(db);
  await sql`update conversations set waiting_since = coalesce(claimed_at, created_at)`.execute(db);
  await db.schema
    .alterTable('telegram_posts')
    .addColumn('chat_id', 'bigint')
    .addColumn('thread_id', 'bigint')
    .execute();
  await db.schema
    .createTable('conversation_escalations')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('conversation_id', 'uuid', (c) =>
      c.notNull().references('conversations.id').onDelete('cascade'),
    )
    .addColumn('from_level', 'smallint', (c) => c.notNull())
    .addColumn('to_level', 'smallint', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('by_type', 'text', (c) => c.notNull().check(sql`by_type in ('agent', 'sla')`))
    .addColumn('by_id', 'text')
    .addColumn('from_group_chat_id', 'bigint')
    .addColumn('from_topic_id', 'bigint')
    .addColumn('to_group_chat_id', 'bigint')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('conversation_escalations_conversation')
    .on('conversation_escalations')
    .columns(['conversation_id', 'id'])
    .execute();
  await db.schema
    .createIndex('conversation_escalations_old_topic')
    .on('conversation_escalations')
    .columns(['tenant_id', 'from_group_chat_id', 'from_topic_id'])
    .where(sql.ref('from_topic_id'), 'is not', null)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('conversation_escalations').ifExists().execute();
  await db.schema
    .alterTable('telegram_posts')
    .dropColumn('thread_id')
    .dropColumn('chat_id')
    .execute();
  await db.schema
    .alterTable('conversations')
    .dropColumn('waiting_since')
    .dropColumn('level')
    .execute();
}
