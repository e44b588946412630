import { SyncReason } from '@topicdesk/contracts';
import {
  RatingRepository,
  TelegramConversationRepository,
  TelegramPostRepository,
  type Conversation,
  type Message,
  type TelegramConversation,
  type TelegramPrivateMessage,
  type TelegramUser,
} from '@topicdesk/data';
import { busOutbox } from '../outbox-relay';
import type { UnitOfWork } from '../unit-of-work';
import type { PrivateChatButton } from './intake.service';
import { privateChatText } from './texts';

/** The next call due toward a private-chat user, in the order the user must see them. */
export type PrivateChatStep =
  /** A copy sent earlier whose message was edited or retracted since: edit or delete it. */
  | { kind: 'copy'; message: Message; copy: TelegramPrivateMessage }
  /** The next agent or system message, with the End button under the welcome. */
  | {
      kind: 'message';
      message: Message;
      button: { label: string; press: PrivateChatButton } | undefined;
    }
  /** The next message was retracted (or is empty) before it was sent: nothing to send. */
  | { kind: 'skip'; message: Message }
  /** Closed and everything sent: ask once for a rating. */
  | { kind: 'rating'; text: string };

/**
 * After a close, the user is asked for a rating, once per close until they rated the
 * conversation (a conversation is rated once, whichever channel: `conversation_ratings`).
 */
async function ratingPromptDue(
  db: UnitOfWork['db'],
  conversation: Conversation,
  link: TelegramConversation,
): Promise<boolean> {
  return (
    conversation.status === 'closed' &&
    conversation.closed_at !== null &&
    (link.rating_prompted_at === null || link.rating_prompted_at < conversation.closed_at) &&
    !(await new RatingRepository(db).find(conversation.tenant_id, conversation.id))
  );
}

/**
 * What the agents' side of a `telegram` conversation owes the user's private chat, and the
 * record of what was sent there: `telegram_conversations.delivered_seq` is the cursor, the
 * copies (`telegram_private_messages`) follow edits and retractions, the rating prompt comes
 * once after each close. The bridge makes the calls; this keeps the books.
 */
export class PrivateChatDeliveries {
  constructor(private readonly uow: UnitOfWork) {}

  /**
   * The user of a conversation and the next step toward them (undefined: up to date);
   * undefined when the conversation has no private chat.
   */
  async next(
    conversation: Conversation,
  ): Promise<{ user: TelegramUser; step: PrivateChatStep | undefined } | undefined> {
    const links = new TelegramConversationRepository(this.uow.db);
    const found = await links.find(conversation.tenant_id, conversation.id);
    if (!found) return undefined;
    const { link, user } = found;
    const stale = await links.staleCopy(conversation.tenant_id, conversation.id);
    if (stale) return { user, step: { kind: 'copy', ...stale } };
    const next = await links.nextUndelivered(
      conversation.tenant_id,
      conversation.id,
      link.delivered_seq,
    );
    if (next) {
      if (next.deleted_at || next.text.length === 0)
        return { user, step: { kind: 'skip', message: next } };
      const endButton = next.seq === link.end_button_seq && conversation.status === 'open';
      const button = endButton
        ? {
            label: await this.#text(conversation, user, 'telegram.button_end'),
            press: { action: 'end' as const, conversationId: conversation.id },
          }
        : undefined;
      return { user, step: { kind: 'message', message: next, button } };
    }
    if (!(await ratingPromptDue(this.uow.db, conversation, link))) return { user, step: undefined };
    const text = await this.#text(conversation, user, 'telegram.rate_prompt', {
      ticket: conversation.ticket,
    });
    return { user, step: { kind: 'rating', text } };
  }

  /** Whether anything is due toward the user of this conversation (read only, no texts). */
  async due(conversation: Conversation): Promise<boolean> {
    const links = new TelegramConversationRepository(this.uow.db);
    const found = await links.find(conversation.tenant_id, conversation.id);
    if (!found) return false;
    if (await links.staleCopy(conversation.tenant_id, conversation.id)) return true;
    if (
      await links.nextUndelivered(conversation.tenant_id, conversation.id, found.link.delivered_seq)
    )
      return true;
    return ratingPromptDue(this.uow.db, conversation, found.link);
  }

  /** The copy now shows its message as it is (edited text, or deleted). */
  copySynced(message: Message): Promise<void> {
    return this.uow.run((work) =>
      new TelegramConversationRepository(work.trx).markCopySynced(
        message.tenant_id,
        message.id,
        message.edited_at,
        message.deleted_at !== null,
      ),
    );
  }

  /**
   * The cursor moves past `message`; `telegramMessageId` is its copy in the chat (null when
   * nothing was sent: skipped, or the user cannot be reached).
   */
  delivered(
    conversation: Conversation,
    message: Message,
    telegramMessageId: number | null,
  ): Promise<void> {
    return this.uow.run((work) =>
      new TelegramConversationRepository(work.trx).markDelivered(
        conversation.tenant_id,
        conversation.id,
        message,
        telegramMessageId,
      ),
    );
  }

  /**
   * A message the user's bot cannot deliver (they blocked it, or deleted their account): the
   * cursor moves past it with no copy, and the agents are told in the topic which message did
   * not arrive — a failure they see, never a silent drop.
   */
  undeliverable(conversation: Conversation, message: Message, reason: string): Promise<void> {
    const { tenant_id: tenantId, id: conversationId } = conversation;
    return this.uow.run(async (work) => {
      await new TelegramConversationRepository(work.trx).markDelivered(
        tenantId,
        conversationId,
        message,
        null,
      );
      await new TelegramPostRepository(work.trx).add([
        {
          tenantId,
          conversationId,
          text: `⚠️ Not delivered to the user (message #${message.seq}): ${reason}.`,
        },
      ]);
      work.emit(
        busOutbox(tenantId, 'conversationSync', {
          tenantId,
          conversationId,
          reason: SyncReason.STATUS_CHANGED,
        }),
      );
    });
  }

  /** The rating prompt of the latest close was sent (or cannot be). */
  ratingPrompted(conversation: Conversation): Promise<void> {
    return this.uow.run((work) =>
      new TelegramConversationRepository(work.trx).markRatingPrompted(
        conversation.tenant_id,
        conversation.id,
        new Date(),
      ),
    );
  }

  /** Conversations whose private chat lags by more than `olderThan` (for the bridge's sweep). */
  lagging(olderThan: Date, limit: number): Promise<Array<{ tenant_id: string; id: string }>> {
    return new TelegramConversationRepository(this.uow.db).lagging(olderThan, limit);
  }

  #text(
    conversation: Conversation,
    user: TelegramUser,
    key: string,
    vars?: Readonly<Record<string, string | number>>,
  ): Promise<string> {
    return privateChatText(this.uow.db, conversation.tenant_id, user.language_code, key, vars);
  }
}
