import { sql, type Kysely } from 'kysely';
import {
  ConversationStatus,
  MessageKind,
  type Conversation,
  type DB,
  type Message,
  type TelegramConversation,
  type TelegramPrivateMessage,
  type TelegramUser,
} from '../schema';

export interface TelegramConversationLink {
  tenantId: string;
  conversationId: string;
  telegramUserId: string;
  endButtonSeq?: number | null | undefined;
  at: Date;
}

/**
 * Conversations of the `telegram` channel: which private-chat user each belongs to, how far
 * the agents' side of it was sent to that chat (a seq cursor), the copies sent there (for
 * edits and retractions) and when the user was asked for a rating (`conversation_ratings`).
 */
export class TelegramConversationRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async link(input: TelegramConversationLink): Promise<void> {
    await this.db
      .insertInto('telegram_conversations')
      .values({
        conversation_id: input.conversationId,
        tenant_id: input.tenantId,
        telegram_user_id: input.telegramUserId,
        end_button_seq: input.endButtonSeq ?? null,
        created_at: input.at,
      })
      .execute();
  }

  async setEndButtonSeq(conversationId: string, seq: number): Promise<void> {
    await this.db
      .updateTable('telegram_conversations')
      .set({ end_button_seq: seq })
      .where('conversation_id', '=', conversationId)
      .execute();
  }

  /** The link of a conversation with its user's row. */
  async find(
    conversationId: string,
  ): Promise<{ link: TelegramConversation; user: TelegramUser } | undefined> {
    const link = await this.db
      .selectFrom('telegram_conversations')
      .selectAll()
      .where('conversation_id', '=', conversationId)
      .executeTakeFirst();
    if (!link) return undefined;
    const user = await this.db
      .selectFrom('telegram_users')
      .selectAll()
      .where('id', '=', link.telegram_user_id)
      .executeTakeFirst();
    return user ? { link, user } : undefined;
  }

  /** The user's open conversation (the latest, should there be several). */
  openOf(tenantId: string, telegramUserId: string): Promise<Conversation | undefined> {
    return this.db
      .selectFrom('telegram_conversations as t')
      .innerJoin('conversations as c', 'c.id', 't.conversation_id')
      .selectAll('c')
      .where('t.tenant_id', '=', tenantId)
      .where('t.telegram_user_id', '=', telegramUserId)
      .where('c.status', '=', ConversationStatus.open)
      .orderBy('c.created_at', 'desc')
      .executeTakeFirst();
  }

  /** The next agent or system message not yet sent to the private chat. */
  nextUndelivered(conversationId: string, afterSeq: number): Promise<Message | undefined> {
    return this.db
      .selectFrom('messages')
      .selectAll()
      .where('conversation_id', '=', conversationId)
      .where('seq', '>', afterSeq)
      .where('kind', 'in', [MessageKind.agent, MessageKind.system])
      .orderBy('seq')
      .limit(1)
      .executeTakeFirst();
  }

  /**
   * Moves the cursor past `seq` and, when a copy was sent, records it. Call in a transaction;
   * the cursor only moves forward.
   */
  async markDelivered(
    tenantId: string,
    conversationId: string,
    message: Pick<Message, 'id' | 'seq' | 'edited_at'>,
    telegramMessageId: number | null,
  ): Promise<void> {
    if (telegramMessageId !== null) {
      await this.db
        .insertInto('telegram_private_messages')
        .values({
          message_id: message.id,
          tenant_id: tenantId,
          conversation_id: conversationId,
          telegram_message_id: telegramMessageId,
          synced_edit_at: message.edited_at,
        })
        .onConflict((oc) => oc.column('message_id').doNothing())
        .execute();
    }
    await this.db
      .updateTable('telegram_conversations')
      .set({ delivered_seq: message.seq })
      .where('conversation_id', '=', conversationId)
      .where('delivered_seq', '<', message.seq)
      .execute();
  }

  /** A sent copy that no longer shows its message: edited or retracted since it was sent. */
  async staleCopy(
    conversationId: string,
  ): Promise<{ message: Message; copy: TelegramPrivateMessage } | undefined> {
    const row = await this.db
      .selectFrom('telegram_private_messages as p')
      .innerJoin('messages as m', 'm.id', 'p.message_id')
      .selectAll('m')
      .select([
        'p.telegram_message_id as copy_telegram_message_id',
        'p.synced_edit_at as copy_synced_edit_at',
        'p.retracted as copy_retracted',
        'p.tenant_id as copy_tenant_id',
      ])
      .where('p.conversation_id', '=', conversationId)
      .where('p.retracted', '=', false)
      .where((eb) =>
        eb.or([
          eb('m.deleted_at', 'is not', null),
          eb.and([
            eb('m.edited_at', 'is not', null),
            eb.or([
              eb('p.synced_edit_at', 'is', null),
              eb('m.edited_at', '>', eb.ref('p.synced_edit_at')),
            ]),
          ]),
        ]),
      )
      .orderBy('m.seq')
      .limit(1)
      .executeTakeFirst();
    if (!row) return undefined;
    const {
      copy_telegram_message_id,
      copy_synced_edit_at,
      copy_retracted,
      copy_tenant_id,
      ...message
    } = row;
    return {
      message,
      copy: {
        message_id: message.id,
        tenant_id: copy_tenant_id,
        conversation_id: conversationId,
        telegram_message_id: copy_telegram_message_id,
        synced_edit_at: copy_synced_edit_at,
        retracted: copy_retracted,
      },
    };
  }

  async markCopySynced(
    messageId: number,
    editedAt: Date | null,
    retracted: boolean,
  ): Promise<void> {
    await this.db
      .updateTable('telegram_private_messages')
      .set({ synced_edit_at: editedAt, retracted })
      .where('message_id', '=', messageId)
      .execute();
  }

  async markRatingPrompted(conversationId: string, at: Date): Promise<void> {
    await this.db
      .updateTable('telegram_conversations')
      .set({ rating_prompted_at: at })
      .where('conversation_id', '=', conversationId)
      .execute();
  }

  /**
   * Telegram conversations whose private chat lags by more than `olderThan`: a message not
   * sent, a copy not edited, or a closed conversation, not rated yet, whose rating was not
   * asked for since its latest close.
   */
  lagging(olderThan: Date, limit: number): Promise<Array<{ tenant_id: string; id: string }>> {
    return this.db
      .selectFrom('telegram_conversations as t')
      .innerJoin('conversations as c', 'c.id', 't.conversation_id')
      .select(['c.tenant_id', 'c.id'])
      .where((eb) =>
        eb.or([
          eb.exists(
            eb
              .selectFrom('messages as m')
              .select(sql`1`.as('one'))
              .whereRef('m.conversation_id', '=', 't.conversation_id')
              .whereRef('m.seq', '>', 't.delivered_seq')
              .where('m.kind', 'in', [MessageKind.agent, MessageKind.system])
              .where('m.created_at', '<', olderThan),
          ),
          eb.exists(
            eb
              .selectFrom('telegram_private_messages as p')
              .innerJoin('messages as m', 'm.id', 'p.message_id')
              .select(sql`1`.as('one'))
              .whereRef('p.conversation_id', '=', 't.conversation_id')
              .where('p.retracted', '=', false)
              .where('m.edited_at', '<', olderThan)
              .where((inner) =>
                inner.or([
                  inner('m.deleted_at', 'is not', null),
                  inner('p.synced_edit_at', 'is', null),
                  inner('m.edited_at', '>', inner.ref('p.synced_edit_at')),
                ]),
              ),
          ),
          eb.and([
            eb('c.status', '=', ConversationStatus.closed),
            eb('c.closed_at', '<', olderThan),
            eb.or([
              eb('t.rating_prompted_at', 'is', null),
              eb('t.rating_prompted_at', '<', eb.ref('c.closed_at')),
            ]),
            // Rated already (once per conversation): no prompt is due.
            eb.not(
              eb.exists(
                eb
                  .selectFrom('conversation_ratings as r')
                  .select(sql`1`.as('one'))
                  .whereRef('r.conversation_id', '=', 't.conversation_id'),
              ),
            ),
          ]),
        ]),
      )
      .limit(limit)
      .execute();
  }
}
