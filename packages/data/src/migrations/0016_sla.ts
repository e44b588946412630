import { sql, type Kysely } from 'kysely';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations see the database as it was then */

/**
 * SLAs (issue 14): targets per priority, and what the scheduler posted about each conversation.
 *
 * - `sla_policies`: a tenant's targets (no row: no SLA, the fixed unclaimed reminders apply).
 *   `targets` is keyed by priority: `{ "high": { "first_response": 900, "resolution": 14400,
 *   "business_hours": true } }` (seconds; a priority left out has no targets).
 *   `remind_at_percent`: the reminder goes out at this share of a target (NULL: no reminders).
 * - `sla_events`: one row per conversation, target and kind (`reminder`, `breach`), written in
 *   the transaction that posts it to the topic. The primary key is what makes each post happen
 *   once across scheduler replicas and restarts: a second insert conflicts and posts nothing.
 *   A breach may carry the automatic escalation's bookkeeping (SLA_AUTO_ESCALATE).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('sla_policies')
    .addColumn('tenant_id', 'text', (c) => c.primaryKey().references('tenants.id'))
    .addColumn('targets', 'jsonb', (c) => c.notNull())
    .addColumn('remind_at_percent', 'smallint', (c) =>
      c.check(sql`remind_at_percent between 1 and 99`),
    )
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createTable('sla_events')
    .addColumn('conversation_id', 'uuid', (c) =>
      c.notNull().references('conversations.id').onDelete('cascade'),
    )
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('target', 'text', (c) =>
      c.notNull().check(sql`target in ('first_response', 'resolution')`),
    )
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('reminder', 'breach')`))
    // The conversation's priority and the target as they were when it was posted.
    .addColumn('priority', 'text', (c) => c.notNull())
    .addColumn('target_seconds', 'integer', (c) => c.notNull())
    .addColumn('business_hours', 'boolean', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    // A breach to escalate: `pending` until the escalator ran, then `done` or `failed`.
    .addColumn('escalation', 'text', (c) =>
      c.check(sql`escalation in ('pending', 'done', 'failed')`),
    )
    .addColumn('escalation_attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('escalation_error', 'text')
    .addPrimaryKeyConstraint('sla_events_pk', ['conversation_id', 'target', 'kind'])
    .execute();
  await db.schema
    .createIndex('sla_events_escalation_pending')
    .on('sla_events')
    .columns(['created_at'])
    .where(sql.ref('escalation'), '=', 'pending')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('sla_events').ifExists().execute();
  await db.schema.dropTable('sla_policies').ifExists().execute();
}
