import type { Kysely } from 'kysely';
import type { DB, SupportGroup } from '../schema';

export interface SupportGroupInput {
  tenantId: string;
  /** The forum supergroup's Telegram chat id (-100…). */
  chatId: number;
  title?: string | null | undefined;
  /** 1 (default) takes new conversations; 2 and 3 are escalation levels. */
  level?: number | undefined;
  /** BCP 47 tags of the conversations routed here (default: none). */
  locales?: readonly string[] | undefined;
  /** Bot channel segments of the conversations routed here first (default: none). */
  segments?: readonly string[] | undefined;
  active?: boolean | undefined;
}

/**
 * The support groups besides the default one (SUPPORT_GROUP_ID, which is configuration, not a
 * row): where new conversations may be routed, and at which escalation level.
 */
export class SupportGroupRepository {
  constructor(private readonly db: Kysely<DB>) {}

  /** Every registered group, active or not, by level, then in the order they were registered. */
  list(tenantId: string): Promise<SupportGroup[]> {
    return this.db
      .selectFrom('support_groups')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .orderBy('level')
      .orderBy('created_at')
      .orderBy('chat_id')
      .execute();
  }

  find(tenantId: string, chatId: number): Promise<SupportGroup | undefined> {
    return this.db
      .selectFrom('support_groups')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('chat_id', '=', chatId)
      .executeTakeFirst();
  }

  /** Registers a group or replaces what is known of it (its registration time stays). */
  upsert(input: SupportGroupInput): Promise<SupportGroup> {
    const now = new Date();
    const values = {
      title: input.title ?? null,
      level: input.level ?? 1,
      locales: JSON.stringify(input.locales ?? []),
      segments: [...(input.segments ?? [])],
      active: input.active ?? true,
      updated_at: now,
    };
    return this.db
      .insertInto('support_groups')
      .values({ tenant_id: input.tenantId, chat_id: input.chatId, ...values, created_at: now })
      .onConflict((oc) => oc.columns(['tenant_id', 'chat_id']).doUpdateSet(values))
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  /**
   * Stops routing new conversations to the group; its conversations stay in it. Returns the
   * group as it is now, or undefined if it was never registered.
   */
  deactivate(tenantId: string, chatId: number): Promise<SupportGroup | undefined> {
    return this.db
      .updateTable('support_groups')
      .set({ active: false, updated_at: new Date() })
      .where('tenant_id', '=', tenantId)
      .where('chat_id', '=', chatId)
      .returningAll()
      .executeTakeFirst();
  }

  /**
   * The groups that may take a new conversation: active and of level 1, in the order they were
   * registered (the first match wins, so the order must be stable).
   */
  activeForRouting(tenantId: string): Promise<SupportGroup[]> {
    return this.db
      .selectFrom('support_groups')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('active', '=', true)
      .where('level', '=', 1)
      .orderBy('created_at')
      .orderBy('chat_id')
      .execute();
  }
}
