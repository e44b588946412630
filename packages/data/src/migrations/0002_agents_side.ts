import { sql, type Kysely } from 'kysely';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations see the database as it was then */

/** The agents' side: claims, topic header, reminders, notes, retraction, templates, bot posts. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('conversations')
    .addColumn('claimed_by_agent_id', 'bigint')
    .addColumn('claimed_by_telegram_user_id', 'bigint')
    .addColumn('claimed_by_name', 'text')
    .addColumn('claimed_at', 'timestamptz')
    .addColumn('first_response_at', 'timestamptz')
    .addColumn('header_message_id', 'bigint')
    .addColumn('header_text', 'text')
    .addColumn('topic_name', 'text')
    .addColumn('reminders_sent', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();

  await db.schema.alterTable('messages').addColumn('deleted_at', 'timestamptz').execute();

  await db.schema
    .createTable('notes')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('conversation_id', 'uuid', (c) =>
      c.notNull().references('conversations.id').onDelete('cascade'),
    )
    .addColumn('agent_id', 'bigint')
    .addColumn('author_name', 'text', (c) => c.notNull())
    .addColumn('text', 'text', (c) => c.notNull())
    .addColumn('telegram_message_id', 'bigint')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('system_templates')
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('key', 'text', (c) => c.notNull())
    // '' is the default locale, used when neither the exact nor the two-letter locale exists.
    .addColumn('locale', 'text', (c) => c.notNull())
    .addColumn('text', 'text', (c) => c.notNull())
    .addColumn('ws_banner', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('persist', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('telegram', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('pin', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('min_interval_ms', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('system_templates_pk', ['tenant_id', 'key', 'locale'])
    .execute();

  await db.schema
    .createTable('system_message_marks')
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('conversation_id', 'uuid', (c) =>
      c.notNull().references('conversations.id').onDelete('cascade'),
    )
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('last_at', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('system_message_marks_pk', ['conversation_id', 'key'])
    .execute();

  // What the bot must post or pin in a conversation's topic, in order, under Telegram's limits.
  await db.schema
    .createTable('telegram_posts')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('conversation_id', 'uuid', (c) =>
      c.notNull().references('conversations.id').onDelete('cascade'),
    )
    .addColumn('text', 'text', (c) => c.notNull())
    .addColumn('pin', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('reply_to_message_id', 'bigint')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('sent_at', 'timestamptz')
    .addColumn('telegram_message_id', 'bigint')
    .execute();
  await db.schema
    .createIndex('telegram_posts_pending_idx')
    .on('telegram_posts')
    .columns(['conversation_id', 'id'])
    .where(sql.ref('sent_at'), 'is', null)
    .execute();

  await db
    .insertInto('system_templates')
    .values(
      DEFAULT_TEMPLATES.map((t) => ({
        tenant_id: 'default',
        locale: '',
        key: t.key,
        text: t.text,
        ws_banner: t.wsBanner,
        persist: t.persist,
        telegram: t.telegram,
        pin: t.pin,
        min_interval_ms: t.minIntervalMs,
      })),
    )
    .onConflict((oc) => oc.doNothing())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['telegram_posts', 'system_message_marks', 'system_templates', 'notes']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
  await db.schema.alterTable('messages').dropColumn('deleted_at').execute();
  for (const column of [
    'claimed_by_agent_id',
    'claimed_by_telegram_user_id',
    'claimed_by_name',
    'claimed_at',
    'first_response_at',
    'header_message_id',
    'header_text',
    'topic_name',
    'reminders_sent',
  ]) {
    await db.schema.alterTable('conversations').dropColumn(column).execute();
  }
}

/** The seeded system messages (locale '' = default); editable through the admin API. */
const DEFAULT_TEMPLATES = [
  {
    key: 'welcome',
    text: 'Thanks for writing! An agent will answer here shortly. Your ticket: {ticket}.',
    wsBanner: true,
    persist: false,
    telegram: false,
    pin: false,
    minIntervalMs: 0,
  },
  {
    key: 'agent_joined',
    text: '{agent} joined the conversation.',
    wsBanner: true,
    persist: true,
    telegram: false,
    pin: false,
    minIntervalMs: 0,
  },
  {
    key: 'unclaimed_reminder',
    text: '⏰ {ticket} has waited {minutes} min without an agent. /claim it?',
    wsBanner: false,
    persist: false,
    telegram: true,
    pin: false,
    minIntervalMs: 0,
  },
  {
    key: 'closed_note',
    text: 'This conversation was closed. Write again any time to start a new one.',
    wsBanner: true,
    persist: true,
    telegram: false,
    pin: false,
    minIntervalMs: 0,
  },
  {
    key: 'reopened',
    text: 'The conversation was reopened.',
    wsBanner: true,
    persist: true,
    telegram: false,
    pin: false,
    minIntervalMs: 0,
  },
  {
    key: 'auto_closed',
    text: 'This conversation was closed after a period of inactivity. Write again any time to start a new one.',
    wsBanner: true,
    persist: true,
    telegram: true,
    pin: false,
    minIntervalMs: 0,
  },
] as const;
