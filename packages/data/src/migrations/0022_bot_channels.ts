import { sql, type Kysely } from 'kysely';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations see the database as it was then */

/**
 * Bot channels (issue 19): bots that owners already run, with the `@topicdesk/grammy` plugin,
 * whose users reach the agents like users of Topicdesk's own private chat. A channel holds the
 * owner's bot token (AES-256-GCM under a key derived from TELEGRAM_USER_KEY, never returned)
 * and the hash of the secret the plugin calls the API with. Its users are `telegram_users`
 * rows of that channel (their lookup hashes are scoped to it); a conversation may carry the
 * role or segment the owner's bot passed (shown in the topic header, used by priority rules).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('bot_channels')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('name', 'text')
    // The bot's id (the token's prefix): budgets and logs name the bot by it.
    .addColumn('bot_id', 'text', (c) => c.notNull())
    .addColumn('token_key_id', 'text', (c) => c.notNull())
    .addColumn('token_nonce', 'text', (c) => c.notNull())
    .addColumn('token_ciphertext', 'text', (c) => c.notNull())
    // SHA-256 (hex) of the channel secret; the secret itself is shown once, at registration.
    .addColumn('secret_hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('deleted_at', 'timestamptz')
    .execute();
  await sql`create unique index bot_channels_bot_unique on bot_channels (tenant_id, bot_id)
    where deleted_at is null`.execute(db);

  await db.schema
    .alterTable('telegram_users')
    .addColumn('bot_channel_id', 'uuid', (c) => c.references('bot_channels.id'))
    .execute();
  await db.schema
    .createIndex('telegram_users_channel_idx')
    .on('telegram_users')
    .columns(['bot_channel_id'])
    .where(sql.ref('bot_channel_id'), 'is not', null)
    .execute();
  await db.schema.alterTable('conversations').addColumn('segment', 'text').execute();
  await db.schema.alterTable('priority_rules').addColumn('segment', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('priority_rules').dropColumn('segment').execute();
  await db.schema.alterTable('conversations').dropColumn('segment').execute();
  await db.schema.dropIndex('telegram_users_channel_idx').ifExists().execute();
  await db.schema.alterTable('telegram_users').dropColumn('bot_channel_id').execute();
  await db.schema.dropTable('bot_channels').ifExists().execute();
}
