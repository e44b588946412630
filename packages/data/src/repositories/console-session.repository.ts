import type { Kysely } from 'kysely';
import type { ConsoleSession, DB } from '../schema';

export interface NewConsoleSessionInput {
  id: string;
  tenantId: string;
  /** SHA-256 (hex) of the cookie's secret; the secret itself is never stored. */
  secretHash: string;
  agentId: number;
  role: string;
  userAgent: string | null;
  now: Date;
  expiresAt: Date;
}

/** A session with its agent as they are now (name, role, whether still active). */
export interface ConsoleSessionWithAgent extends ConsoleSession {
  telegram_user_id: number;
  display_name: string;
  agent_role: string;
  agent_active: boolean;
}

/** Signed-in console browsers. */
export class ConsoleSessionRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async add(input: NewConsoleSessionInput): Promise<void> {
    await this.db
      .insertInto('console_sessions')
      .values({
        id: input.id,
        tenant_id: input.tenantId,
        secret_hash: input.secretHash,
        agent_id: input.agentId,
        role: input.role,
        user_agent: input.userAgent,
        created_at: input.now,
        last_seen_at: input.now,
        expires_at: input.expiresAt,
      })
      .execute();
  }

  #withAgent() {
    return this.db
      .selectFrom('console_sessions as s')
      .innerJoin('agents as a', (join) =>
        join.onRef('a.id', '=', 's.agent_id').onRef('a.tenant_id', '=', 's.tenant_id'),
      )
      .selectAll('s')
      .select([
        'a.telegram_user_id',
        'a.display_name',
        'a.role as agent_role',
        'a.active as agent_active',
      ]);
  }

  /** The session whose cookie secret hashes to `secretHash`, revoked or not. */
  findBySecret(tenantId: string, secretHash: string): Promise<ConsoleSessionWithAgent | undefined> {
    return this.#withAgent()
      .where('s.tenant_id', '=', tenantId)
      .where('s.secret_hash', '=', secretHash)
      .executeTakeFirst();
  }

  /**
   * The tenant of the session whose cookie secret hashes to `secretHash` (a platform-level read:
   * a cookie names no tenant, and a secret's hash is unique across tenants); then read the
   * session itself scoped by that tenant (`findBySecret`).
   */
  async tenantOfSecret(secretHash: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('console_sessions')
      .select('tenant_id')
      .where('secret_hash', '=', secretHash)
      .executeTakeFirst();
    return row?.tenant_id;
  }

  /** Sessions neither revoked nor expired at `now`, newest first; `agentId`: only theirs. */
  listActive(tenantId: string, now: Date, agentId?: number): Promise<ConsoleSessionWithAgent[]> {
    let query = this.#withAgent()
      .where('s.tenant_id', '=', tenantId)
      .where('s.revoked_at', 'is', null)
      .where('s.expires_at', '>', now);
    if (agentId !== undefined) query = query.where('s.agent_id', '=', agentId);
    return query.orderBy('s.created_at', 'desc').execute();
  }

  /** Records that the session was used at `now` (callers do it at most once a minute). */
  async touch(tenantId: string, id: string, now: Date): Promise<void> {
    await this.db
      .updateTable('console_sessions')
      .set({ last_seen_at: now })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .execute();
  }

  /**
   * Revokes a session not revoked yet; undefined if there is none by that id (`agentId`: none
   * of theirs).
   */
  revoke(
    tenantId: string,
    id: string,
    now: Date,
    agentId?: number,
  ): Promise<ConsoleSession | undefined> {
    let query = this.db
      .updateTable('console_sessions')
      .set({ revoked_at: now })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .where('revoked_at', 'is', null);
    if (agentId !== undefined) query = query.where('agent_id', '=', agentId);
    return query.returningAll().executeTakeFirst();
  }
}
