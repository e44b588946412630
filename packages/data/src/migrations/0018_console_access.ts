import { sql, type Kysely } from 'kysely';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations see the database as it was then */

/**
 * Console access (issue 15, first slice).
 *
 * - `agents.role` is one of owner, admin, supervisor, agent, viewer (packages/core's access
 *   table says what each may do). The admin API used to take `agent`, `lead` and `admin`;
 *   `lead` becomes `supervisor`, anything else unknown becomes `agent` (the least that still
 *   answers visitors), and a check keeps it so.
 * - `console_links`: the one-time sign-in links the bot hands an agent on `/console`. Only the
 *   SHA-256 of the link's token is kept; `used_at` is set by the one update that consumes it.
 * - `console_sessions`: a signed-in browser. `id` is public (lists, revocation); only the
 *   SHA-256 of the cookie's secret is kept. The agent's role at sign-in is kept for the record;
 *   requests use the agent's role as it is now.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`update agents set role = 'supervisor' where role = 'lead'`.execute(db);
  await sql`update agents set role = 'agent'
    where role not in ('owner', 'admin', 'supervisor', 'agent', 'viewer')`.execute(db);
  await sql`alter table agents add constraint agents_role_check
    check (role in ('owner', 'admin', 'supervisor', 'agent', 'viewer'))`.execute(db);

  await db.schema
    .createTable('console_links')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('agent_id', 'bigint', (c) => c.notNull().references('agents.id').onDelete('cascade'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('used_at', 'timestamptz')
    .execute();
  await db.schema
    .createIndex('console_links_expires_idx')
    .on('console_links')
    .column('expires_at')
    .execute();

  await db.schema
    .createTable('console_sessions')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('secret_hash', 'text', (c) => c.notNull().unique())
    .addColumn('agent_id', 'bigint', (c) => c.notNull().references('agents.id').onDelete('cascade'))
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('user_agent', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('last_seen_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('revoked_at', 'timestamptz')
    .execute();
  await db.schema
    .createIndex('console_sessions_agent_idx')
    .on('console_sessions')
    .columns(['tenant_id', 'agent_id'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('console_sessions').execute();
  await db.schema.dropTable('console_links').execute();
  await sql`alter table agents drop constraint agents_role_check`.execute(db);
  await sql`update agents set role = 'lead' where role = 'supervisor'`.execute(db);
}
