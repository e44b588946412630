import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { ConversationRepository, DEFAULT_TENANT_ID } from '../src/index';
import { backends, useDatabase } from './backends';

// Issue 13: parsing and planning every statement of every message cost the Postgres backends
// about as much CPU as running them. Parameterised statements are prepared once per connection.
const postgres = backends.find((b) => b.name === 'postgres')!;

describe('prepared statements on Postgres', () => {
  // One connection: what one statement prepared is seen by the next.
  const database = useDatabase(postgres, { poolSize: 1 });

  it('parses a repeated statement once per connection and reuses its plan', async () => {
    const conversations = new ConversationRepository(database.db);
    const { id } = await conversations.create({ tenantId: DEFAULT_TENANT_ID, channel: 'web' });
    for (let i = 0; i < 8; i++) await conversations.get(DEFAULT_TENANT_ID, id);
    const { rows } = await sql<{ generic_plans: number; custom_plans: number }>`
      select generic_plans::int, custom_plans::int from pg_prepared_statements
      where statement like 'select * from "conversations" where "tenant_id" = $1 and "id" = $2'`.execute(
      database.db,
    );
    expect(rows).toHaveLength(1);
    // Postgres plans the first five runs for their values, then settles on one plan.
    expect(rows[0]!.custom_plans + rows[0]!.generic_plans).toBe(8);
    expect(rows[0]!.generic_plans).toBeGreaterThan(0);
  });

  it('sees a column a migration added under a prepared select *, outside a transaction at once', async () => {
    const conversations = new ConversationRepository(database.db);
    const { id } = await conversations.create({ tenantId: DEFAULT_TENANT_ID, channel: 'web' });
    await conversations.get(DEFAULT_TENANT_ID, id);
    await sql`alter table conversations add column prepared_probe text default 'added'`.execute(
      database.db,
    );
    const row = (await conversations.get(DEFAULT_TENANT_ID, id)) as unknown as Record<
      string,
      unknown
    >;
    expect(row['prepared_probe']).toBe('added');

    // Inside a transaction the refused statement fails it once (like any error of a
    // transaction); the connection's next transaction runs.
    await sql`alter table conversations drop column prepared_probe`.execute(database.db);
    const inTransaction = () =>
      database.db
        .transaction()
        .execute((trx) => new ConversationRepository(trx).lock(DEFAULT_TENANT_ID, id));
    await inTransaction();
    await sql`alter table conversations add column prepared_probe text default 'again'`.execute(
      database.db,
    );
    await expect(inTransaction()).rejects.toThrow(/must not change result type/);
    const locked = (await inTransaction()) as unknown as Record<string, unknown>;
    expect(locked['prepared_probe']).toBe('again');
  });
});
