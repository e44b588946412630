import { sql, type Kysely } from 'kysely';
import {
  ConversationStatus,
  type Attachment,
  type AuditEntry,
  type Conversation,
  type ConversationEscalation,
  type ConversationRating,
  type ConversationTombstone,
  type DB,
  type Message,
  type Note,
  type SlaEvent,
  type TelegramUser,
} from '../schema';
import { TelegramUserRepository } from './telegram-user.repository';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Everything stored about one conversation, as rows (what an export shows). */
export interface ConversationRecord {
  conversation: Conversation;
  messages: Message[];
  edits: Array<{ message_id: number; previous_text: string; edited_at: Date }>;
  notes: Note[];
  attachments: Attachment[];
  rating: ConversationRating | undefined;
  escalations: ConversationEscalation[];
  slaEvents: SlaEvent[];
  audit: AuditEntry[];
  /** The private-chat user of a `telegram` conversation (their id stays encrypted). */
  telegramUser: TelegramUser | undefined;
}

export interface TombstoneInput {
  tenantId: string;
  conversation: Pick<Conversation, 'id' | 'ticket'>;
  at: Date;
  byType: string;
  byId: string | null;
  topicPolicy: 'delete' | 'keep';
}

/**
 * Data-subject requests over a conversation: finding it by id or ticket, reading everything
 * stored about it, erasing its personal data and keeping its tombstone (migration 0019).
 */
export class DataRequestRepository {
  constructor(private readonly db: Kysely<DB>) {}

  /** A conversation by its id (a uuid) or its ticket (`SUPP-…`, any case). */
  find(tenantId: string, idOrTicket: string): Promise<Conversation | undefined> {
    let query = this.db.selectFrom('conversations').selectAll().where('tenant_id', '=', tenantId);
    query = UUID.test(idOrTicket)
      ? query.where('id', '=', idOrTicket.toLowerCase())
      : query.where('ticket', '=', idOrTicket.toUpperCase());
    return query.executeTakeFirst();
  }

  /** Locks a conversation found by id for the rest of the transaction. */
  lock(tenantId: string, id: string): Promise<Conversation | undefined> {
    return this.db
      .selectFrom('conversations')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .forUpdate()
      .executeTakeFirst();
  }

  /** The tombstone of an erased conversation, by its id or ticket. */
  tombstone(tenantId: string, idOrTicket: string): Promise<ConversationTombstone | undefined> {
    let query = this.db
      .selectFrom('conversation_tombstones')
      .selectAll()
      .where('tenant_id', '=', tenantId);
    query = UUID.test(idOrTicket)
      ? query.where('conversation_id', '=', idOrTicket.toLowerCase())
      : query.where('ticket', '=', idOrTicket.toUpperCase());
    return query.executeTakeFirst();
  }

  async record(tenantId: string, conversation: Conversation): Promise<ConversationRecord> {
    const id = conversation.id;
    const [messages, edits, notes, attachments, rating, escalations, slaEvents, audit, user] =
      await Promise.all([
        this.db
          .selectFrom('messages')
          .selectAll()
          .where('tenant_id', '=', tenantId)
          .where('conversation_id', '=', id)
          .orderBy('seq')
          .execute(),
        this.db
          .selectFrom('message_edits as e')
          .innerJoin('messages as m', 'm.id', 'e.message_id')
          .select(['e.message_id', 'e.previous_text', 'e.edited_at'])
          .where('e.tenant_id', '=', tenantId)
          .where('m.tenant_id', '=', tenantId)
          .where('m.conversation_id', '=', id)
          .orderBy('e.id')
          .execute(),
        this.db
          .selectFrom('notes')
          .selectAll()
          .where('tenant_id', '=', tenantId)
          .where('conversation_id', '=', id)
          .orderBy('id')
          .execute(),
        this.db
          .selectFrom('attachments')
          .selectAll()
          .where('tenant_id', '=', tenantId)
          .where('conversation_id', '=', id)
          .orderBy('created_at')
          .execute(),
        this.db
          .selectFrom('conversation_ratings')
          .selectAll()
          .where('tenant_id', '=', tenantId)
          .where('conversation_id', '=', id)
          .executeTakeFirst(),
        this.db
          .selectFrom('conversation_escalations')
          .selectAll()
          .where('tenant_id', '=', tenantId)
          .where('conversation_id', '=', id)
          .orderBy('id')
          .execute(),
        this.db
          .selectFrom('sla_events')
          .selectAll()
          .where('tenant_id', '=', tenantId)
          .where('conversation_id', '=', id)
          .orderBy('created_at')
          .execute(),
        this.db
          .selectFrom('audit_log')
          .selectAll()
          .where('tenant_id', '=', tenantId)
          .where('conversation_id', '=', id)
          .orderBy('id')
          .execute(),
        this.db
          .selectFrom('telegram_conversations as tc')
          .innerJoin('telegram_users as u', 'u.id', 'tc.telegram_user_id')
          .selectAll('u')
          .where('tc.tenant_id', '=', tenantId)
          .where('u.tenant_id', '=', tenantId)
          .where('tc.conversation_id', '=', id)
          .executeTakeFirst(),
      ]);
    return {
      conversation,
      messages,
      edits: edits.map((e) => ({ ...e, message_id: Number(e.message_id) })),
      notes,
      attachments,
      rating,
      escalations,
      slaEvents,
      audit,
      telegramUser: user,
    };
  }

  /**
   * Erases the personal data of a locked conversation: its messages (with their edits, private
   * copies and files' rows), notes, bot posts, marks, the rating's comment, the visitor's name,
   * email and page, its link to a private-chat user (and that user, once they have no other
   * conversation), and closes it with its visitor tokens retired. `forgetTopic` also forgets the
   * topic (it is being deleted).
   */
  async erase(
    tenantId: string,
    conversation: Conversation,
    at: Date,
    forgetTopic: boolean,
  ): Promise<void> {
    const id = conversation.id;
    const link = await this.db
      .deleteFrom('telegram_conversations')
      .where('tenant_id', '=', tenantId)
      .where('conversation_id', '=', id)
      .returning('telegram_user_id')
      .executeTakeFirst();
    if (link)
      await new TelegramUserRepository(this.db).deleteIfOrphan(tenantId, link.telegram_user_id);
    await this.db
      .deleteFrom('attachments')
      .where('tenant_id', '=', tenantId)
      .where('conversation_id', '=', id)
      .execute();
    await this.db
      .deleteFrom('messages')
      .where('tenant_id', '=', tenantId)
      .where('conversation_id', '=', id)
      .execute();
    await this.db
      .deleteFrom('notes')
      .where('tenant_id', '=', tenantId)
      .where('conversation_id', '=', id)
      .execute();
    await this.db
      .deleteFrom('telegram_posts')
      .where('tenant_id', '=', tenantId)
      .where('conversation_id', '=', id)
      .execute();
    await this.db
      .deleteFrom('system_message_marks')
      .where('tenant_id', '=', tenantId)
      .where('conversation_id', '=', id)
      .execute();
    await this.db
      .updateTable('conversation_ratings')
      .set({ comment: null })
      .where('tenant_id', '=', tenantId)
      .where('conversation_id', '=', id)
      .execute();
    await this.db
      .updateTable('conversations')
      .set({
        status: ConversationStatus.closed,
        closed_at: conversation.closed_at ?? at,
        erased_at: at,
        updated_at: at,
        visitor_name: null,
        visitor_email: null,
        page_url: null,
        page_title: null,
        // Forces the header and the name to be shown again (without what was erased).
        header_text: null,
        token_generation: sql<number>`token_generation + 1`,
        token_rotated_at: at,
        ...(forgetTopic ? { topic_id: null, header_message_id: null, topic_name: null } : {}),
      })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .execute();
  }

  async addTombstone(input: TombstoneInput): Promise<ConversationTombstone> {
    return this.db
      .insertInto('conversation_tombstones')
      .values({
        tenant_id: input.tenantId,
        conversation_id: input.conversation.id,
        ticket: input.conversation.ticket,
        erased_at: input.at,
        erased_by_type: input.byType,
        erased_by_id: input.byId,
        topic_policy: input.topicPolicy,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  /** Deletes a private-chat user's row (their encrypted id) once their conversations are erased. */
  async forgetTelegramUser(tenantId: string, telegramUserId: string): Promise<void> {
    await this.db
      .deleteFrom('telegram_users')
      .where('tenant_id', '=', tenantId)
      .where('id', '=', telegramUserId)
      .execute();
  }

  /** The conversations of a private-chat user, oldest first. */
  async ofTelegramUser(tenantId: string, telegramUserId: string): Promise<Conversation[]> {
    return this.db
      .selectFrom('conversations as c')
      .innerJoin('telegram_conversations as tc', 'tc.conversation_id', 'c.id')
      .selectAll('c')
      .where('c.tenant_id', '=', tenantId)
      .where('tc.telegram_user_id', '=', telegramUserId)
      .orderBy('c.created_at')
      .execute();
  }
}
