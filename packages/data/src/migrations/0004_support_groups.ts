import { sql, type Kysely } from 'kysely';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations see the database as it was then */

/**
 * More support groups than SUPPORT_GROUP_ID: a registry of forum supergroups (each with a level
 * for escalation and the locales it serves), and the group each conversation's topic lives in.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('support_groups')
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    // The supergroup's Telegram chat id (-100…).
    .addColumn('chat_id', 'bigint', (c) => c.notNull())
    .addColumn('title', 'text')
    // 1 takes new conversations; 2 and 3 are for escalation.
    .addColumn('level', 'smallint', (c) =>
      c
        .notNull()
        .defaultTo(1)
        .check(sql`level between 1 and 3`),
    )
    // BCP 47 tags of the conversations routed here (matched case-insensitively); may be empty.
    .addColumn('locales', 'jsonb', (c) =>
      c
        .notNull()
        .defaultTo(sql`'[]'::jsonb`)
        .check(sql`jsonb_typeof(locales) = 'array'`),
    )
    // An inactive group takes no new conversations; those it has stay there.
    .addColumn('active', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('support_groups_pk', ['tenant_id', 'chat_id'])
    .execute();

  // The group whose topic the conversation lives in; NULL is the default group
  // (SUPPORT_GROUP_ID), so the conversations from before this migration stay where they are.
  await db.schema.alterTable('conversations').addColumn('group_chat_id', 'bigint').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('conversations').dropColumn('group_chat_id').execute();
  await db.schema.dropTable('support_groups').ifExists().execute();
}
