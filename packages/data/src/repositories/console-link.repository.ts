import type { Kysely } from 'kysely';
import type { ConsoleLink, DB } from '../schema';

export interface NewConsoleLinkInput {
  tenantId: string;
  /** SHA-256 (hex) of the token; the token itself is never stored. */
  tokenHash: string;
  agentId: number;
  expiresAt: Date;
}

/** One-time sign-in links to the console, found by their token's hash. */
export class ConsoleLinkRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async add(input: NewConsoleLinkInput): Promise<void> {
    await this.db
      .insertInto('console_links')
      .values({
        tenant_id: input.tenantId,
        token_hash: input.tokenHash,
        agent_id: input.agentId,
        expires_at: input.expiresAt,
      })
      .execute();
  }

  /**
   * Records a link spent at its creation (a Mini App's signed data): false when its hash is on
   * record already, i.e. the same data signed someone in before.
   */
  async addSpent(input: NewConsoleLinkInput & { usedAt: Date }): Promise<boolean> {
    const row = await this.db
      .insertInto('console_links')
      .values({
        tenant_id: input.tenantId,
        token_hash: input.tokenHash,
        agent_id: input.agentId,
        expires_at: input.expiresAt,
        used_at: input.usedAt,
      })
      .onConflict((conflict) => conflict.columns(['tenant_id', 'token_hash']).doNothing())
      .returning('id')
      .executeTakeFirst();
    return row !== undefined;
  }

  /**
   * The tenant of the link whose token hashes to `tokenHash` (a platform-level read: a sign-in
   * link names no tenant); undefined when none, or (never for random tokens) more than one
   * tenant holds that hash. Then consume the link scoped by that tenant.
   */
  async tenantOfToken(tokenHash: string): Promise<string | undefined> {
    const rows = await this.db
      .selectFrom('console_links')
      .select('tenant_id')
      .where('token_hash', '=', tokenHash)
      .limit(2)
      .execute();
    return rows.length === 1 ? rows[0]?.tenant_id : undefined;
  }

  /**
   * Marks the link used if it is unused and unexpired at `now`, in one statement: of two
   * sign-ins with the same link, exactly one gets the row back.
   */
  consume(tenantId: string, tokenHash: string, now: Date): Promise<ConsoleLink | undefined> {
    return this.db
      .updateTable('console_links')
      .set({ used_at: now })
      .where('tenant_id', '=', tenantId)
      .where('token_hash', '=', tokenHash)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .returningAll()
      .executeTakeFirst();
  }

  find(tenantId: string, tokenHash: string): Promise<ConsoleLink | undefined> {
    return this.db
      .selectFrom('console_links')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('token_hash', '=', tokenHash)
      .executeTakeFirst();
  }

  /** Forgets links that expired before `before` (a refused replay needs them only a while). */
  async deleteExpired(tenantId: string, before: Date): Promise<void> {
    await this.db
      .deleteFrom('console_links')
      .where('tenant_id', '=', tenantId)
      .where('expires_at', '<', before)
      .execute();
  }
}
