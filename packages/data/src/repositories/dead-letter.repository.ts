import type { Insertable, Kysely } from 'kysely';
import type { DB, DeadLetterRow, DeadLetterTable } from '../schema';

/** Bus messages a consumer gave up on, for an operator to see and replay. */
export class DeadLetterRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async add(row: Insertable<DeadLetterTable>): Promise<DeadLetterRow> {
    return this.db.insertInto('dead_letters').values(row).returningAll().executeTakeFirstOrThrow();
  }

  /** Newest first; `before` pages by id; `pending` only those not replayed yet. */
  list(
    tenantId: string,
    options: { limit: number; before?: number | undefined; pending?: boolean | undefined },
  ): Promise<DeadLetterRow[]> {
    let query = this.db
      .selectFrom('dead_letters')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .orderBy('id', 'desc')
      .limit(options.limit);
    if (options.before !== undefined) query = query.where('id', '<', options.before);
    if (options.pending) query = query.where('replayed_at', 'is', null);
    return query.execute();
  }

  find(tenantId: string, id: number): Promise<DeadLetterRow | undefined> {
    return this.db
      .selectFrom('dead_letters')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .executeTakeFirst();
  }

  async markReplayed(tenantId: string, id: number, at: Date): Promise<DeadLetterRow | undefined> {
    return this.db
      .updateTable('dead_letters')
      .set((eb) => ({ replayed_at: at, replays: eb('replays', '+', 1) }))
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
  }
}
