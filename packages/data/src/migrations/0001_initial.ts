import { sql, type Kysely } from 'kysely';

// Migrations take `Kysely<any>`: they describe the database as it was at that point in time,
// not as the current schema types say.
/* eslint-disable @typescript-eslint/no-explicit-any */

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('tenants')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db
    .insertInto('tenants')
    .values({ id: 'default', name: 'Default' })
    .onConflict((oc) => oc.doNothing())
    .execute();

  await db.schema
    .createTable('conversations')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('ticket', 'text', (c) => c.notNull())
    .addColumn('channel', 'text', (c) => c.notNull().check(sql`channel in ('web', 'telegram')`))
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('open', 'closed')`))
    .addColumn('visitor_name', 'text')
    .addColumn('locale', 'text')
    .addColumn('page_url', 'text')
    .addColumn('page_title', 'text')
    .addColumn('topic_id', 'bigint')
    .addColumn('topic_closed', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('last_seq', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('last_activity_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('closed_at', 'timestamptz')
    .addUniqueConstraint('conversations_ticket_unique', ['tenant_id', 'ticket'])
    .execute();
  await db.schema
    .createIndex('conversations_topic_idx')
    .on('conversations')
    .columns(['tenant_id', 'topic_id'])
    .execute();
  await db.schema
    .createIndex('conversations_open_activity_idx')
    .on('conversations')
    .columns(['status', 'last_activity_at'])
    .execute();

  await db.schema
    .createTable('messages')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('conversation_id', 'uuid', (c) =>
      c.notNull().references('conversations.id').onDelete('cascade'),
    )
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('kind', 'text', (c) =>
      c.notNull().check(sql`kind in ('visitor', 'agent', 'system')`),
    )
    .addColumn('text', 'text', (c) => c.notNull())
    .addColumn('author_name', 'text')
    .addColumn('agent_id', 'bigint')
    .addColumn('client_id', 'text')
    .addColumn('telegram_chat_id', 'bigint')
    .addColumn('telegram_message_id', 'bigint')
    .addColumn('delivery', 'text', (c) =>
      c.notNull().check(sql`delivery in ('pending', 'delivered', 'failed', 'none')`),
    )
    .addColumn('delivery_error', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('edited_at', 'timestamptz')
    .addUniqueConstraint('messages_seq_unique', ['conversation_id', 'seq'])
    .addUniqueConstraint('messages_client_id_unique', ['conversation_id', 'client_id'])
    .execute();
  // An agent's Telegram message is stored once, however often its update arrives.
  await db.schema
    .createIndex('messages_agent_telegram_unique')
    .on('messages')
    .columns(['tenant_id', 'telegram_chat_id', 'telegram_message_id'])
    .unique()
    .where(sql.ref('kind'), '=', 'agent')
    .execute();
  await db.schema
    .createIndex('messages_pending_idx')
    .on('messages')
    .columns(['conversation_id', 'seq'])
    .where(sql.ref('delivery'), '=', 'pending')
    .execute();

  await db.schema
    .createTable('message_edits')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('message_id', 'bigint', (c) =>
      c.notNull().references('messages.id').onDelete('cascade'),
    )
    .addColumn('previous_text', 'text', (c) => c.notNull())
    .addColumn('edited_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('agents')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('telegram_user_id', 'bigint', (c) => c.notNull())
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull().defaultTo('agent'))
    .addColumn('active', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('agents_telegram_user_unique', ['tenant_id', 'telegram_user_id'])
    .execute();

  await db.schema
    .createTable('audit_log')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('actor_type', 'text', (c) => c.notNull())
    .addColumn('actor_id', 'text')
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('conversation_id', 'uuid')
    .addColumn('details', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('audit_log_tenant_created_idx')
    .on('audit_log')
    .columns(['tenant_id', 'created_at'])
    .execute();

  await db.schema
    .createTable('outbox')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('destination', 'text', (c) =>
      c.notNull().check(sql`destination in ('bus', 'fanout')`),
    )
    .addColumn('topic', 'text', (c) => c.notNull())
    .addColumn('payload', 'jsonb', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('telegram_updates')
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('bot_id', 'text', (c) => c.notNull())
    .addColumn('update_id', 'bigint', (c) => c.notNull())
    .addColumn('processed_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('telegram_updates_pk', ['tenant_id', 'bot_id', 'update_id'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'telegram_updates',
    'outbox',
    'audit_log',
    'agents',
    'message_edits',
    'messages',
    'conversations',
    'tenants',
  ]) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
