import { sql, type Kysely } from 'kysely';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations see the database as it was then */

/**
 * Agents as a team (issue 14, part 1): each agent's presence (`online`, `away`, `offline`, set
 * from Telegram or by the idle job), when they were last active in a support group, their
 * capacity (NULL: AGENT_CAPACITY_DEFAULT) and the group / escalation level they serve (NULL:
 * all); each conversation's priority, which orders the assignment queue, and rules that set it by page
 * URL and locale; mentions in bot posts.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('agents')
    .addColumn('presence', 'text', (c) =>
      c
        .notNull()
        .defaultTo('offline')
        .check(sql`presence in ('online', 'away', 'offline')`),
    )
    .addColumn('presence_changed_at', 'timestamptz')
    .addColumn('last_active_at', 'timestamptz')
    .addColumn('capacity', 'integer', (c) => c.check(sql`capacity >= 0`))
    .addColumn('group_chat_id', 'bigint')
    .addColumn('level', 'smallint', (c) => c.check(sql`level between 1 and 3`))
    .execute();
  await db.schema
    .alterTable('conversations')
    .addColumn('priority', 'text', (c) =>
      c
        .notNull()
        .defaultTo('normal')
        .check(sql`priority in ('high', 'normal', 'low')`),
    )
    .execute();
  // A bot post may mention someone (the agent a conversation was assigned to).
  await db.schema.alterTable('telegram_posts').addColumn('entities', 'jsonb').execute();
  // Priority by page URL and locale (admin API): the first matching rule, in position order,
  // sets a new conversation's priority.
  await db.schema
    .createTable('priority_rules')
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('page_url_prefix', 'text')
    .addColumn('locale', 'text')
    .addColumn('priority', 'text', (c) =>
      c.notNull().check(sql`priority in ('high', 'normal', 'low')`),
    )
    .addPrimaryKeyConstraint('priority_rules_pk', ['tenant_id', 'position'])
    .execute();
  // The queue: open conversations nobody holds, by priority then age.
  await db.schema
    .createIndex('conversations_unclaimed_queue')
    .on('conversations')
    .columns(['tenant_id', 'created_at'])
    .where(sql.ref('claimed_at'), 'is', null)
    .where(sql.ref('status'), '=', 'open')
    .execute();
  // Load (open conversations an agent holds) and when they were last given one.
  await db.schema
    .createIndex('conversations_claimed_by_agent')
    .on('conversations')
    .columns(['tenant_id', 'claimed_by_agent_id', 'claimed_at'])
    .where(sql.ref('claimed_by_agent_id'), 'is not', null)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('conversations_claimed_by_agent').ifExists().execute();
  await db.schema.dropIndex('conversations_unclaimed_queue').ifExists().execute();
  await db.schema.dropTable('priority_rules').ifExists().execute();
  await db.schema.alterTable('telegram_posts').dropColumn('entities').execute();
  await db.schema.alterTable('conversations').dropColumn('priority').execute();
  await db.schema
    .alterTable('agents')
    .dropColumn('level')
    .dropColumn('group_chat_id')
    .dropColumn('capacity')
    .dropColumn('last_active_at')
    .dropColumn('presence_changed_at')
    .dropColumn('presence')
    .execute();
}
