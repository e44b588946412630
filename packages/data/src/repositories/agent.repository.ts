import type { Kysely } from 'kysely';
import type { Agent, DB } from '../schema';

export interface AgentInput {
  tenantId: string;
  telegramUserId: number;
  displayName: string;
  role?: string | undefined;
  active?: boolean | undefined;
  /** Most open conversations at once (null: AGENT_CAPACITY_DEFAULT); unchanged when absent. */
  capacity?: number | null | undefined;
  /** The support group they serve (null: all); unchanged when absent. */
  groupChatId?: number | null | undefined;
  /** The escalation level they serve (null: all); unchanged when absent. */
  level?: number | null | undefined;
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

  findById(tenantId: string, id: number): Promise<Agent | undefined> {
    return this.db
      .selectFrom('agents')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .executeTakeFirst();
  }

  upsert(input: AgentInput): Promise<Agent> {
    const now = new Date();
    // The team settings change only when given, so a rename keeps them.
    const team = {
      ...(input.capacity !== undefined ? { capacity: input.capacity } : {}),
      ...(input.groupChatId !== undefined ? { group_chat_id: input.groupChatId } : {}),
      ...(input.level !== undefined ? { level: input.level } : {}),
    };
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
        ...team,
      })
      .onConflict((oc) =>
        oc.constraint('agents_telegram_user_unique').doUpdateSet({
          display_name: input.displayName,
          role: input.role ?? 'agent',
          active: input.active ?? true,
          updated_at: now,
          ...team,
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
