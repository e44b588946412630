import type { Kysely } from 'kysely';
import type { Agent, DB } from '../schema';

export interface AgentInput {
  tenantId: string;
  telegramUserId: number;
  displayName: string;
  role?: string | undefined;
  active?: boolean | undefined;
}

/** Registered agents: the Telegram user behind a display name the visitor may see. */
export class AgentRepository {
  constructor(private readonly db: Kysely<DB>) {}

  findByTelegramUser(tenantId: string, telegramUserId: number): Promise<Agent | undefined> {
    return this.db
      .selectFrom('agents')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('telegram_user_id', '=', telegramUserId)
      .executeTakeFirst();
  }

  upsert(input: AgentInput): Promise<Agent> {
    const now = new Date();
    return this.db
      .insertInto('agents')
      .values({
        tenant_id: input.tenantId,
        telegram_user_id: input.telegramUserId,
        display_name: input.displayName,
        role: input.role ?? 'agent',
        active: input.active ?? true,
        created_at: now,
        updated_at: now,
      })
      .onConflict((oc) =>
        oc.constraint('agents_telegram_user_unique').doUpdateSet({
          display_name: input.displayName,
          role: input.role ?? 'agent',
          active: input.active ?? true,
          updated_at: now,
        }),
      )
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  list(tenantId: string): Promise<Agent[]> {
    return this.db
      .selectFrom('agents')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .orderBy('id')
      .execute();
  }
}
