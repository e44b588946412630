import { sql, type Kysely } from 'kysely';
import {
  DeliveryState,
  MessageKind,
  type Agent,
  type Conversation,
  type ConversationEscalation,
  type DB,
  type EscalatedBy,
  type Message,
} from '../schema';

export interface EscalationInput {
  tenantId: string;
  conversationId: string;
  fromLevel: number;
  toLevel: number;
  reason: string | null;
  by: { type: EscalatedBy; id: string | null };
  /** The topic it left (moved to another group), else null. */
  from: { groupChatId: number; topicId: number } | null;
  /** The group it moved to, else null. */
  toGroupChatId: number | null;
  at: Date;
}

/** Where a topic's conversation went: the latest escalation that left that topic. */
export interface MovedTopic {
  escalation: ConversationEscalation;
  conversation: Conversation;
}

/**
 * Escalation: a conversation's move up a level (its row and the record of the move), the groups
 * and agents of a level, and the transcript that goes with a conversation to its new topic.
 */
export class EscalationRepository {
  constructor(private readonly db: Kysely<DB>) {}

  /**
   * Moves a conversation to `level`, nobody holding it (it waits for that level's agents from
   * `at`). With `groupChatId` it moves to that group too: no topic there yet (the sync creates
   * one, with a new header).
   */
  async move(
    tenantId: string,
    id: string,
    change: { level: number; groupChatId?: number | undefined; at: Date },
  ): Promise<void> {
    const { level, groupChatId, at } = change;
    await this.db
      .updateTable('conversations')
      .set({
        level,
        waiting_since: at,
        reminders_sent: 0,
        claimed_by_agent_id: null,
        claimed_by_telegram_user_id: null,
        claimed_by_name: null,
        claimed_at: null,
        updated_at: at,
        ...(groupChatId !== undefined
          ? {
              group_chat_id: groupChatId,
              topic_id: null,
              topic_name: null,
              topic_closed: false,
              header_message_id: null,
              header_text: null,
              header_bot_id: null,
              header_pinned: false,
            }
          : {}),
      })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .execute();
  }

  async record(input: EscalationInput): Promise<ConversationEscalation> {
    return this.db
      .insertInto('conversation_escalations')
      .values({
        tenant_id: input.tenantId,
        conversation_id: input.conversationId,
        from_level: input.fromLevel,
        to_level: input.toLevel,
        reason: input.reason,
        by_type: input.by.type,
        by_id: input.by.id,
        from_group_chat_id: input.from?.groupChatId ?? null,
        from_topic_id: input.from?.topicId ?? null,
        to_group_chat_id: input.toGroupChatId,
        created_at: input.at,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  /** A conversation's escalations, oldest first. */
  list(tenantId: string, conversationId: string): Promise<ConversationEscalation[]> {
    return this.db
      .selectFrom('conversation_escalations')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('conversation_id', '=', conversationId)
      .orderBy('id')
      .execute();
  }

  /** The conversation that left the topic `topicId` of group `chatId`, if one did. */
  async movedFrom(
    tenantId: string,
    chatId: number,
    topicId: number,
  ): Promise<MovedTopic | undefined> {
    const escalation = await this.db
      .selectFrom('conversation_escalations')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('from_group_chat_id', '=', chatId)
      .where('from_topic_id', '=', topicId)
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (!escalation) return undefined;
    const conversation = await this.db
      .selectFrom('conversations')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('id', '=', escalation.conversation_id)
      .executeTakeFirst();
    return conversation ? { escalation, conversation } : undefined;
  }

  /**
   * The active agents who serve `level` (theirs, not every level) in group `groupChatId` (or
   * every group), in the order they were registered.
   */
  agentsOfLevel(
    tenantId: string,
    level: number,
    groupChatId: number,
    limit: number,
  ): Promise<Agent[]> {
    return this.db
      .selectFrom('agents')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('active', '=', true)
      .where('level', '=', level)
      .where((eb) =>
        eb.or([eb('group_chat_id', 'is', null), eb('group_chat_id', '=', groupChatId)]),
      )
      .orderBy('id')
      .limit(limit)
      .execute();
  }

  /**
   * The last `limit` visitor and agent messages the topic has shown (not retracted; pending
   * visitor texts are left out: they go to the new topic themselves), oldest first.
   */
  async transcript(tenantId: string, conversationId: string, limit: number): Promise<Message[]> {
    const rows = await this.db
      .selectFrom('messages')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('conversation_id', '=', conversationId)
      .where('kind', 'in', [MessageKind.visitor, MessageKind.agent])
      .where('deleted_at', 'is', null)
      .where('delivery', '<>', DeliveryState.pending)
      .orderBy('seq', 'desc')
      .limit(limit)
      .execute();
    return rows.reverse();
  }

  /** Open conversations nobody holds and the longest wait among them (for /stats). */
  async queue(tenantId: string): Promise<{ waiting: number; oldest: Date | null }> {
    const row = await this.db
      .selectFrom('conversations')
      .select([
        sql<number>`count(*)::int`.as('waiting'),
        sql<Date | null>`min(waiting_since)`.as('oldest'),
      ])
      .where('tenant_id', '=', tenantId)
      .where('status', '=', 'open')
      .where('claimed_at', 'is', null)
      .executeTakeFirstOrThrow();
    return {
      waiting: Number(row.waiting),
      oldest: row.oldest === null ? null : new Date(row.oldest),
    };
  }
}
