import { sql, type Kysely } from 'kysely';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations see the database as it was then */

/**
 * Tenant isolation in the keys themselves (issue 16). A child row names its parent by id alone
 * (`messages.conversation_id`), so nothing but the repositories kept a row of one tenant from
 * pointing at another tenant's conversation, agent or Telegram user. Each such reference now
 * carries the tenant too: a foreign key over `(tenant_id, <parent>_id)` to the parent's
 * `(tenant_id, id)`, which the parents get as a unique key. The old single-column keys stay
 * (their cascades are unchanged); the new ones only add the tenant to the check.
 *
 * References to messages (`message_edits`, `telegram_private_messages`, `attachments.message_id`)
 * are left to the repositories: a `(tenant_id, id)` key on `messages` would be one more index
 * on every insert of the hottest table, and those rows are only ever written by statements
 * scoped to the tenant (packages/data/test/tenant-isolation.test.ts walks them).
 *
 * A console link's token hash is unique per tenant, not across tenants: a Mini App sign-in
 * records its data's hash as a spent link (insert or conflict), and a conflict with another
 * tenant's row would tell that tenant's data apart.
 *
 * The keys are added `not valid` and validated afterwards, so validating an existing install's
 * rows (all in the default tenant) does not block writers.
 */
const PARENT_KEYS = [
  ['conversations', 'conversations_tenant_key'],
  ['agents', 'agents_tenant_key'],
  ['telegram_users', 'telegram_users_tenant_key'],
  ['bot_channels', 'bot_channels_tenant_key'],
] as const;

/** [child table, its column, the parent table]. */
const REFERENCES = [
  ['messages', 'conversation_id', 'conversations'],
  ['notes', 'conversation_id', 'conversations'],
  ['system_message_marks', 'conversation_id', 'conversations'],
  ['telegram_posts', 'conversation_id', 'conversations'],
  ['telegram_conversations', 'conversation_id', 'conversations'],
  ['telegram_private_messages', 'conversation_id', 'conversations'],
  ['conversation_ratings', 'conversation_id', 'conversations'],
  ['attachments', 'conversation_id', 'conversations'],
  ['conversation_escalations', 'conversation_id', 'conversations'],
  ['sla_events', 'conversation_id', 'conversations'],
  ['telegram_conversations', 'telegram_user_id', 'telegram_users'],
  ['console_links', 'agent_id', 'agents'],
  ['console_sessions', 'agent_id', 'agents'],
  // A bot channel's user (issue 19): its channel is its tenant's.
  ['telegram_users', 'bot_channel_id', 'bot_channels'],
] as const;

function constraintName(table: string, column: string): string {
  return `${table}_${column.replace(/_id$/, '')}_tenant_fk`;
}

export async function up(db: Kysely<any>): Promise<void> {
  for (const [table, name] of PARENT_KEYS) {
    await sql`alter table ${sql.table(table)} add constraint ${sql.id(name)} unique (tenant_id, id)`.execute(
      db,
    );
  }
  for (const [table, column, parent] of REFERENCES) {
    await sql`alter table ${sql.table(table)} add constraint ${sql.id(constraintName(table, column))}
      foreign key (tenant_id, ${sql.ref(column)}) references ${sql.table(parent)} (tenant_id, id)
      on delete cascade not valid`.execute(db);
  }
  for (const [table, column] of REFERENCES) {
    await sql`alter table ${sql.table(table)} validate constraint ${sql.id(constraintName(table, column))}`.execute(
      db,
    );
  }
  await sql`alter table console_links add constraint console_links_tenant_token_key
    unique (tenant_id, token_hash)`.execute(db);
  await sql`alter table console_links drop constraint console_links_token_hash_key`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table console_links add constraint console_links_token_hash_key
    unique (token_hash)`.execute(db);
  await sql`alter table console_links drop constraint console_links_tenant_token_key`.execute(db);
  for (const [table, column] of REFERENCES) {
    await sql`alter table ${sql.table(table)} drop constraint ${sql.id(constraintName(table, column))}`.execute(
      db,
    );
  }
  for (const [table, name] of PARENT_KEYS) {
    await sql`alter table ${sql.table(table)} drop constraint ${sql.id(name)}`.execute(db);
  }
}
