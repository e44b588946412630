import type { Kysely } from 'kysely';
import type { AuditEntry, DB } from '../schema';

export interface AuditInput {
  tenantId: string;
  actorType: 'agent' | 'admin' | 'system' | 'visitor' | 'platform';
  actorId?: string | null | undefined;
  action: string;
  conversationId?: string | null | undefined;
  details?: Record<string, unknown> | undefined;
}

/** Append-only record of every agent and admin action. */
export class AuditRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async record(input: AuditInput): Promise<void> {
    await this.db
      .insertInto('audit_log')
      .values({
        tenant_id: input.tenantId,
        actor_type: input.actorType,
        actor_id: input.actorId ?? null,
        action: input.action,
        conversation_id: input.conversationId ?? null,
        details: JSON.stringify(input.details ?? {}),
        created_at: new Date(),
      })
      .execute();
  }

  list(
    tenantId: string,
    options: { limit: number; beforeId?: number | undefined },
  ): Promise<AuditEntry[]> {
    let query = this.db.selectFrom('audit_log').selectAll().where('tenant_id', '=', tenantId);
    if (options.beforeId !== undefined) query = query.where('id', '<', options.beforeId);
    return query.orderBy('id', 'desc').limit(options.limit).execute();
  }
}
