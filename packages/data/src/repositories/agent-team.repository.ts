import { sql, type Kysely } from 'kysely';
import {
  AgentPresence,
  ConversationStatus,
  type Agent,
  type Conversation,
  type ConversationPriority,
  type DB,
} from '../schema';

/** An agent with what assignment weighs: their open conversations and their last one. */
export interface AgentLoad {
  agent: Agent;
  /** Open conversations they hold (assigned or claimed). */
  load: number;
  /** When they last took a conversation (assigned or claimed); null: never. */
  lastAssignedAt: Date | null;
}

/** A conversation waiting for an agent, with its level: its own (escalated) or its group's, the higher. */
export interface QueuedConversation {
  conversation: Conversation;
  level: number;
}

/** Activity within this long of the recorded one is not written again (fewer row writes). */
const ACTIVITY_RESOLUTION = '30 seconds';

/**
 * Agents as a team: presence, activity, load, and the queue of conversations nobody holds.
 * Assignment itself is a conditional update of the conversation (`assign`), so however many
 * replicas try, a conversation is given to one agent once.
 */
export class AgentTeamRepository {
  constructor(private readonly db: Kysely<DB>) {}

  /** Sets an active agent's presence; undefined when there is no such active agent. */
  setPresence(
    tenantId: string,
    telegramUserId: number,
    presence: AgentPresence,
    at: Date,
  ): Promise<Agent | undefined> {
    return this.db
      .updateTable('agents')
      .set({ presence, presence_changed_at: at, last_active_at: at, updated_at: at })
      .where('tenant_id', '=', tenantId)
      .where('telegram_user_id', '=', telegramUserId)
      .where('active', '=', true)
      .returningAll()
      .executeTakeFirst();
  }

  /** The agent wrote in a support group: the idle clock starts again. */
  async touch(tenantId: string, telegramUserId: number, at: Date): Promise<void> {
    await this.db
      .updateTable('agents')
      .set({ last_active_at: at })
      .where('tenant_id', '=', tenantId)
      .where('telegram_user_id', '=', telegramUserId)
      .where((eb) =>
        eb.or([
          eb('last_active_at', 'is', null),
          eb(
            'last_active_at',
            '<',
            sql<Date>`${at}::timestamptz - ${ACTIVITY_RESOLUTION}::interval`,
          ),
        ]),
      )
      .execute();
  }

  /**
   * Online agents (of every tenant) silent since before `idleSince` go away; one statement, so
   * replicas running it at once each move a different agent, never one twice.
   */
  awayWhenIdle(idleSince: Date, at: Date): Promise<Agent[]> {
    return this.db
      .updateTable('agents')
      .set({ presence: AgentPresence.away, presence_changed_at: at, updated_at: at })
      .where('presence', '=', AgentPresence.online)
      .where(sql<Date>`coalesce(last_active_at, presence_changed_at, updated_at)`, '<', idleSince)
      .returningAll()
      .execute();
  }

  /**
   * Active agents with their load and last assignment: only online ones with `onlineOnly`,
   * only one with `telegramUserId`.
   */
  async loads(
    tenantId: string,
    options: { onlineOnly?: boolean; telegramUserId?: number },
  ): Promise<AgentLoad[]> {
    let query = this.db
      .selectFrom('agents as a')
      .selectAll('a')
      .select([
        sql<number>`(select count(*) from conversations c where c.tenant_id = a.tenant_id
          and c.claimed_by_agent_id = a.id and c.status = ${ConversationStatus.open})::int`.as(
          'open_load',
        ),
        sql<Date | null>`(select max(c.claimed_at) from conversations c
          where c.tenant_id = a.tenant_id and c.claimed_by_agent_id = a.id)`.as('last_claimed_at'),
      ])
      .where('a.tenant_id', '=', tenantId)
      .where('a.active', '=', true);
    if (options.onlineOnly) query = query.where('a.presence', '=', AgentPresence.online);
    if (options.telegramUserId !== undefined)
      query = query.where('a.telegram_user_id', '=', options.telegramUserId);
    const rows = await query.orderBy('a.id').execute();
    return rows.map(({ open_load, last_claimed_at, ...agent }) => ({
      agent,
      load: Number(open_load),
      lastAssignedAt: last_claimed_at === null ? null : new Date(last_claimed_at),
    }));
  }

  /**
   * Serialises assignment passes of one tenant until the transaction ends: two passes never
   * read the same free capacity. Queued conversations are locked with SKIP LOCKED besides.
   */
  async serializeAssignment(tenantId: string): Promise<void> {
    await sql`select pg_advisory_xact_lock(hashtext(${`topicdesk:assignment:${tenantId}`}))`.execute(
      this.db,
    );
  }

  /** `serializeAssignment` without waiting: false when another pass of the tenant holds it. */
  async trySerializeAssignment(tenantId: string): Promise<boolean> {
    const { rows } = await sql<{
      locked: boolean;
    }>`select pg_try_advisory_xact_lock(hashtext(${`topicdesk:assignment:${tenantId}`})) as locked`.execute(
      this.db,
    );
    return rows[0]?.locked === true;
  }

  /**
   * Open conversations nobody holds, by priority (high first) then age, with their level (their
   * own or their group's, the higher); locked for this transaction, skipping those another transaction holds.
   */
  async lockQueue(tenantId: string, limit: number): Promise<QueuedConversation[]> {
    const rows = await this.db
      .selectFrom('conversations as c')
      .leftJoin('support_groups as g', (join) =>
        join.onRef('g.tenant_id', '=', 'c.tenant_id').onRef('g.chat_id', '=', 'c.group_chat_id'),
      )
      .selectAll('c')
      // Escalated, or in a group of a higher level: the higher of the two.
      .select(sql<number>`greatest(c.level, coalesce(g.level, 1))`.as('queue_level'))
      .where('c.tenant_id', '=', tenantId)
      .where('c.status', '=', ConversationStatus.open)
      .where('c.claimed_at', 'is', null)
      .orderBy(sql`case c.priority when 'high' then 0 when 'normal' then 1 else 2 end`)
      .orderBy('c.created_at')
      .orderBy('c.id')
      .limit(limit)
      .forUpdate('c')
      .skipLocked()
      .execute();
    return rows.map(({ queue_level, ...conversation }) => ({
      conversation,
      level: Number(queue_level),
    }));
  }

  /** Tenants with at least one conversation waiting for an agent. */
  async queuedTenants(): Promise<string[]> {
    const rows = await this.db
      .selectFrom('conversations')
      .select('tenant_id')
      .distinct()
      .where('status', '=', ConversationStatus.open)
      .where('claimed_at', 'is', null)
      .execute();
    return rows.map((r) => r.tenant_id);
  }

  async setPriority(
    tenantId: string,
    conversationId: string,
    priority: ConversationPriority,
    at: Date,
  ): Promise<void> {
    await this.db
      .updateTable('conversations')
      .set({ priority, updated_at: at })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', conversationId)
      .execute();
  }
}
