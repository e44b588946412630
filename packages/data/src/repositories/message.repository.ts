import type { Kysely, RawBuilder } from 'kysely';
import { MessageNotFoundError } from '../errors';
import { precompiled } from '../precompiled';
import {
  DeliveryState,
  MessageKind,
  type DB,
  type Message,
  type MessageKind as MessageKindType,
} from '../schema';

type Delivered = { chatId: number; telegramMessageId: number; botId: string | null };

const deliveredColumns = (at: {
  [K in keyof Delivered]: Delivered[K] | RawBuilder<Delivered[K]>;
}) => ({
  delivery: DeliveryState.delivered,
  delivery_error: null,
  telegram_chat_id: at.chatId,
  telegram_message_id: at.telegramMessageId,
  telegram_bot_id: at.botId,
});

/** markDelivered of one message, built and compiled once. */
const markOneDelivered = precompiled<Delivered & { tenantId: string; id: number }, unknown>(
  (db, value) =>
    db
      .updateTable('messages')
      .set(
        deliveredColumns({
          chatId: value('chatId'),
          telegramMessageId: value('telegramMessageId'),
          botId: value('botId'),
        }),
      )
      .where('tenant_id', '=', value('tenantId'))
      .where('id', '=', value('id')),
);

export interface NewMessageInput {
  tenantId: string;
  conversationId: string;
  seq: number;
  kind: MessageKindType;
  text: string;
  at: Date;
  authorName?: string | null | undefined;
  agentId?: number | null | undefined;
  clientId?: string | null | undefined;
  telegramChatId?: number | null | undefined;
  telegramMessageId?: number | null | undefined;
  delivery: DeliveryState;
}

/** Messages of conversations, with their edit history. */
export class MessageRepository {
  constructor(private readonly db: Kysely<DB>) {}

  insert(input: NewMessageInput): Promise<Message> {
    return this.db
      .insertInto('messages')
      .values({
        tenant_id: input.tenantId,
        conversation_id: input.conversationId,
        seq: input.seq,
        kind: input.kind,
        text: input.text,
        author_name: input.authorName ?? null,
        agent_id: input.agentId ?? null,
        client_id: input.clientId ?? null,
        telegram_chat_id: input.telegramChatId ?? null,
        telegram_message_id: input.telegramMessageId ?? null,
        delivery: input.delivery,
        delivery_error: null,
        created_at: input.at,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  /** When the conversation's first visitor message was stored (where its figures start). */
  async firstVisitorMessageAt(tenantId: string, conversationId: string): Promise<Date | null> {
    const row = await this.db
      .selectFrom('messages')
      .select('created_at')
      .where('tenant_id', '=', tenantId)
      .where('conversation_id', '=', conversationId)
      .where('kind', '=', MessageKind.visitor)
      .orderBy('seq')
      .limit(1)
      .executeTakeFirst();
    return row?.created_at ?? null;
  }

  findByClientId(
    tenantId: string,
    conversationId: string,
    clientId: string,
  ): Promise<Message | undefined> {
    return this.db
      .selectFrom('messages')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('conversation_id', '=', conversationId)
      .where('client_id', '=', clientId)
      .executeTakeFirst();
  }

  findAgentMessage(
    tenantId: string,
    chatId: number,
    telegramMessageId: number,
  ): Promise<Message | undefined> {
    return this.db
      .selectFrom('messages')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('kind', '=', MessageKind.agent)
      .where('telegram_chat_id', '=', chatId)
      .where('telegram_message_id', '=', telegramMessageId)
      .executeTakeFirst();
  }

  /** History after a seq, oldest first. */
  listAfter(
    tenantId: string,
    conversationId: string,
    afterSeq: number,
    limit: number,
  ): Promise<Message[]> {
    return this.db
      .selectFrom('messages')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('conversation_id', '=', conversationId)
      .where('seq', '>', afterSeq)
      .orderBy('seq')
      .limit(limit)
      .execute();
  }

  /** Visitor messages not yet accepted by Telegram, oldest first. */
  pending(tenantId: string, conversationId: string, limit = 100): Promise<Message[]> {
    return this.db
      .selectFrom('messages')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('conversation_id', '=', conversationId)
      .where('delivery', '=', DeliveryState.pending)
      .orderBy('seq')
      .limit(limit)
      .execute();
  }

  async markDelivered(
    tenantId: string,
    ids: readonly number[],
    chatId: number,
    telegramMessageId: number,
    botId: string | null = null,
  ): Promise<void> {
    if (ids.length === 0) return;
    const at = { chatId, telegramMessageId, botId };
    const [id] = ids;
    // One text per delivery is the common case (the bridge's sync, one per visitor message):
    // that statement is built once; a batch of several is built for its count of ids.
    if (ids.length === 1 && id !== undefined) {
      await markOneDelivered(this.db, { tenantId, id, ...at });
      return;
    }
    await this.db
      .updateTable('messages')
      .set(deliveredColumns(at))
      .where('tenant_id', '=', tenantId)
      .where('id', 'in', ids)
      .execute();
  }

  /** Whether any message of the conversation failed toward the other side already. */
  async anyFailed(tenantId: string, conversationId: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('messages')
      .select('id')
      .where('tenant_id', '=', tenantId)
      .where('conversation_id', '=', conversationId)
      .where('delivery', '=', DeliveryState.failed)
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Visitor messages carried by one Telegram message (a topic header carries the first ones). */
  carriedBy(
    tenantId: string,
    conversationId: string,
    chatId: number,
    telegramMessageId: number,
  ): Promise<Message[]> {
    return this.db
      .selectFrom('messages')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('conversation_id', '=', conversationId)
      .where('telegram_chat_id', '=', chatId)
      .where('telegram_message_id', '=', telegramMessageId)
      .where('kind', '=', MessageKind.visitor)
      .orderBy('seq')
      .execute();
  }

  /** Visitor messages waiting for Telegram (every conversation): how many, and the oldest. */
  async pendingSummary(): Promise<{ count: number; oldest: Date | null }> {
    const row = await this.db
      .selectFrom('messages')
      .select((eb) => [eb.fn.countAll<string>().as('count'), eb.fn.min('created_at').as('oldest')])
      .where('delivery', '=', DeliveryState.pending)
      .executeTakeFirst();
    const oldest = row?.oldest ?? null;
    return {
      count: Number(row?.count ?? 0),
      oldest: oldest === null ? null : new Date(oldest),
    };
  }

  async markFailed(tenantId: string, ids: readonly number[], error: string): Promise<void> {
    if (ids.length === 0) return;
    await this.db
      .updateTable('messages')
      .set({ delivery: DeliveryState.failed, delivery_error: error })
      .where('tenant_id', '=', tenantId)
      .where('id', 'in', ids)
      .execute();
  }

  /** Replaces the text and keeps the previous one in the edit history. */
  edit(tenantId: string, message: Message, text: string, at: Date): Promise<Message> {
    return this.#rewrite(tenantId, message, { text, edited_at: at });
  }

  /** Retracts an agent message from the visitor (the text stays in the edit history). */
  retract(tenantId: string, message: Message, at: Date): Promise<Message> {
    return this.#rewrite(tenantId, message, { text: '', deleted_at: at, edited_at: at });
  }

  /** Applies a change to the text, keeping the text it replaces in the edit history. */
  async #rewrite(
    tenantId: string,
    message: Message,
    changes: { text: string; edited_at: Date; deleted_at?: Date },
  ): Promise<Message> {
    // The update first: a message of another tenant is not there, and no history row is written.
    const row = await this.db
      .updateTable('messages')
      .set(changes)
      .where('tenant_id', '=', tenantId)
      .where('id', '=', message.id)
      .returningAll()
      .executeTakeFirst();
    if (!row) throw new MessageNotFoundError(message.id);
    await this.db
      .insertInto('message_edits')
      .values({
        tenant_id: tenantId,
        message_id: message.id,
        previous_text: message.text,
        edited_at: changes.edited_at,
      })
      .execute();
    return row;
  }

  editHistory(
    tenantId: string,
    messageId: number,
  ): Promise<Array<{ previous_text: string; edited_at: Date }>> {
    return this.db
      .selectFrom('message_edits')
      .select(['previous_text', 'edited_at'])
      .where('tenant_id', '=', tenantId)
      .where('message_id', '=', messageId)
      .orderBy('id')
      .execute();
  }
}
