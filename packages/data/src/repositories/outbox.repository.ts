import { sql, type Kysely } from 'kysely';
import type { DB, OutboxDestination, OutboxRow } from '../schema';

export interface OutboxInput {
  tenantId: string;
  destination: OutboxDestination;
  topic: string;
  payload: Record<string, unknown>;
}

/**
 * The transactional outbox: rows written in the same transaction as the change they announce,
 * published after commit, deleted once published.
 */
export class OutboxRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async add(rows: readonly OutboxInput[]): Promise<OutboxRow[]> {
    if (rows.length === 0) return [];
    const now = new Date();
    return this.db
      .insertInto('outbox')
      .values(
        rows.map((row) => ({
          tenant_id: row.tenantId,
          destination: row.destination,
          topic: row.topic,
          payload: JSON.stringify(row.payload),
          last_error: null,
          created_at: now,
        })),
      )
      .returningAll()
      .execute();
  }

  /** Rows left behind (their writer died or could not publish), locked for this transaction only. */
  /** Whether any row is older than `olderThan` (no lock: a look before claimStale). */
  async hasStale(olderThan: Date): Promise<boolean> {
    const row = await this.db
      .selectFrom('outbox')
      .select('id')
      .where('created_at', '<', olderThan)
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }

  claimStale(olderThan: Date, limit: number): Promise<OutboxRow[]> {
    return this.db
      .selectFrom('outbox')
      .selectAll()
      .where('created_at', '<', olderThan)
      .orderBy('id')
      .limit(limit)
      .forUpdate()
      .skipLocked()
      .execute();
  }

  async delete(ids: readonly number[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db.deleteFrom('outbox').where('id', 'in', ids).execute();
  }

  /**
   * Deletes those of `ids` no one holds: a row a sweep has claimed (locked) is left to that
   * sweep, which deletes it itself once it has published it, instead of waiting for its
   * transaction (seconds, while it publishes a batch).
   */
  async deleteUnclaimed(ids: readonly number[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db
      .deleteFrom('outbox')
      .where('id', 'in', (db) =>
        db.selectFrom('outbox').select('id').where('id', 'in', ids).forUpdate().skipLocked(),
      )
      .execute();
  }

  async recordFailure(id: number, error: string): Promise<void> {
    await this.db
      .updateTable('outbox')
      .set({ attempts: sql`attempts + 1`, last_error: error.slice(0, 1000) })
      .where('id', '=', id)
      .execute();
  }

  /** Backlog size and age of the oldest row, for metrics and alerts. */
  async stats(): Promise<{ pending: number; oldestAgeMs: number }> {
    const row = await this.db
      .selectFrom('outbox')
      .select([
        sql<number>`count(*)::int`.as('pending'),
        sql<number>`coalesce(extract(epoch from now() - min(created_at)) * 1000, 0)::float8`.as(
          'age',
        ),
      ])
      .executeTakeFirstOrThrow();
    return { pending: Number(row.pending), oldestAgeMs: Number(row.age) };
  }
}
