import type { Kysely } from 'kysely';
import type { DB, PostEntity, TelegramPost } from '../schema';

export interface TelegramPostInput {
  tenantId: string;
  conversationId: string;
  text: string;
  pin?: boolean | undefined;
  replyToMessageId?: number | null | undefined;
  /** Entities of the text (a mention that notifies an agent). */
  entities?: readonly PostEntity[] | undefined;
  /** Another topic than the conversation's current one (the topic an escalation left). */
  topic?: { chatId: number; threadId: number } | undefined;
}

/** Bot posts waiting to go into a conversation's topic, oldest first. */
export class TelegramPostRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async add(rows: readonly TelegramPostInput[]): Promise<void> {
    if (rows.length === 0) return;
    const now = new Date();
    await this.db
      .insertInto('telegram_posts')
      .values(
        rows.map((r) => ({
          tenant_id: r.tenantId,
          conversation_id: r.conversationId,
          text: r.text,
          pin: r.pin ?? false,
          reply_to_message_id: r.replyToMessageId ?? null,
          entities: r.entities?.length ? JSON.stringify(r.entities) : null,
          chat_id: r.topic?.chatId ?? null,
          thread_id: r.topic?.threadId ?? null,
          created_at: now,
        })),
      )
      .execute();
  }

  pending(tenantId: string, conversationId: string, limit = 20): Promise<TelegramPost[]> {
    return this.db
      .selectFrom('telegram_posts')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('conversation_id', '=', conversationId)
      .where('sent_at', 'is', null)
      .orderBy('id')
      .limit(limit)
      .execute();
  }

  async markSent(
    tenantId: string,
    id: number,
    telegramMessageId: number | null,
    botId: string | null = null,
  ): Promise<void> {
    await this.db
      .updateTable('telegram_posts')
      .set({ sent_at: new Date(), telegram_message_id: telegramMessageId, telegram_bot_id: botId })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .execute();
  }
}
