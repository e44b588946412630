import {
  ConversationRepository,
  MessageRepository,
  pendingInTopic,
  readAgentMessageToMark,
  TelegramPostRepository,
  type Conversation,
  type Message,
  type TelegramPost,
  type TopicState,
} from '@topicdesk/data';
import { TopicStateReads } from './topic-state-reads';
import type { UnitOfWork } from './unit-of-work';

/** Where Telegram put something: the chat, its message id, the bot that sent it. */
export interface TelegramPlacement {
  chatId: number;
  messageId: number;
  botId: string;
}

/**
 * The bookkeeping of a conversation's Telegram side (the bridge's sync makes the calls): what
 * the topic must show next, and each call that went through, recorded in a unit of work. The
 * records hand back the conversation as it now is, so the sync plans its next step from the
 * value it holds instead of reading back what it just wrote.
 */
export class TopicDeliveryService {
  readonly #states: TopicStateReads;

  constructor(private readonly uow: UnitOfWork) {
    this.#states = new TopicStateReads(() => uow.db);
  }

  // ---- reads ----------------------------------------------------------------------------

  find(tenantId: string, conversationId: string): Promise<Conversation | undefined> {
    return new ConversationRepository(this.uow.db).find(tenantId, conversationId);
  }

  /**
   * The conversation with its waiting posts and texts, in one statement — shared with the other
   * reads asked for in the same turn (`TopicStateReads`).
   */
  state(tenantId: string, conversationId: string): Promise<TopicState | undefined> {
    return this.#states.read(tenantId, conversationId);
  }

  /** The texts a header goes out with: those waiting now, while the topic is still this one. */
  textsForHeader(conversation: Conversation, topicId: number): Promise<Message[]> {
    return pendingInTopic(this.uow.db, conversation.tenant_id, conversation.id, topicId);
  }

  /** The visitor texts a header carries (shown under it again when it is edited). */
  carriedBy(conversation: Conversation, chatId: number, messageId: number): Promise<Message[]> {
    return new MessageRepository(this.uow.db).carriedBy(
      conversation.tenant_id,
      conversation.id,
      chatId,
      messageId,
    );
  }

  /** The agent message to mark as seen, read again when the reaction's turn comes. */
  agentMessageToMark(conversation: Conversation): Promise<Message | undefined> {
    return readAgentMessageToMark(this.uow.db, conversation.tenant_id, conversation.id);
  }

  /** Conversations whose Telegram side lags since before `olderThan` (the sweep's list). */
  needingSync(olderThan: Date, limit: number): Promise<Array<{ tenant_id: string; id: string }>> {
    return new ConversationRepository(this.uow.db).needingSync(olderThan, limit);
  }

  // ---- the topic ------------------------------------------------------------------------

  /** Its topic was created under `name` (a new topic: no header yet, open). */
  async topicCreated(c: Conversation, topicId: number, name: string): Promise<Conversation> {
    await this.#conversation((r) => r.setTopic(c.tenant_id, c.id, topicId, name));
    return { ...c, ...newTopic(topicId, name) };
  }

  /** Its topic is gone (deleted in Telegram): the next round creates a new one. */
  async topicGone(c: Conversation): Promise<Conversation> {
    await this.#conversation((r) => r.setTopic(c.tenant_id, c.id, null));
    return { ...c, ...newTopic(null, null) };
  }

  async topicClosed(c: Conversation, closed: boolean): Promise<Conversation> {
    await this.#conversation((r) => r.setTopicClosed(c.tenant_id, c.id, closed));
    return { ...c, topic_closed: closed, updated_at: new Date() };
  }

  async topicRenamed(c: Conversation, name: string): Promise<Conversation> {
    await this.#conversation((r) => r.setTopicName(c.tenant_id, c.id, name));
    return { ...c, topic_name: name };
  }

  // ---- the header -----------------------------------------------------------------------

  /**
   * The header went out as `text` (its signature), carrying the first visitor texts under it:
   * both are recorded together, so a text is never shown twice nor lost between the two.
   */
  async headerPosted(
    c: Conversation,
    header: TelegramPlacement & { text: string },
    carried: readonly Message[],
  ): Promise<Conversation> {
    await this.uow.run(async ({ trx }) => {
      await new ConversationRepository(trx).setHeader(
        c.tenant_id,
        c.id,
        header.messageId,
        header.text,
        {
          botId: header.botId,
        },
      );
      await new MessageRepository(trx).markDelivered(
        c.tenant_id,
        carried.map((m) => m.id),
        header.chatId,
        header.messageId,
        header.botId,
      );
    });
    return {
      ...c,
      header_message_id: header.messageId,
      header_text: header.text,
      header_bot_id: header.botId,
      header_pinned: false,
    };
  }

  /** The header shows `text` (its signature) now. */
  async headerEdited(c: Conversation, text: string): Promise<Conversation> {
    await this.#conversation((r) => r.setHeader(c.tenant_id, c.id, c.header_message_id, text));
    return { ...c, header_text: text };
  }

  /** The header can no longer be edited (deleted, or its bot gone): a new one is posted. */
  async headerDropped(c: Conversation): Promise<Conversation> {
    await this.#conversation((r) => r.setHeader(c.tenant_id, c.id, null, null));
    return { ...c, ...NO_HEADER };
  }

  /** Pinned, or given up on pinning: either way it is not tried again. */
  async headerPinned(c: Conversation): Promise<Conversation> {
    await this.#conversation((r) => r.setHeaderPinned(c.tenant_id, c.id));
    return { ...c, header_pinned: true };
  }

  // ---- posts and texts ------------------------------------------------------------------

  /** A bot post went out (`at`), or was dropped for good (null: Telegram refused it). */
  async postSent(post: TelegramPost, at: TelegramPlacement | null): Promise<void> {
    await this.uow.one((db) =>
      new TelegramPostRepository(db).markSent(
        post.tenant_id,
        post.id,
        at?.messageId ?? null,
        at?.botId ?? null,
      ),
    );
  }

  /** Telegram accepted these visitor texts as one message. */
  async textsDelivered(messages: readonly Message[], at: TelegramPlacement): Promise<void> {
    const tenantId = messages[0]?.tenant_id;
    if (tenantId === undefined) return;
    await this.uow.one((db) =>
      new MessageRepository(db).markDelivered(
        tenantId,
        messages.map((m) => m.id),
        at.chatId,
        at.messageId,
        at.botId,
      ),
    );
  }

  /**
   * Telegram will never take these texts: they are failed for good, and the first time in a
   * conversation the agents get a post in the topic saying so.
   */
  async textsRefused(c: Conversation, messages: readonly Message[], reason: string): Promise<void> {
    await this.uow.run(async ({ trx }) => {
      const repository = new MessageRepository(trx);
      const first = !(await repository.anyFailed(c.tenant_id, c.id));
      await repository.markFailed(
        c.tenant_id,
        messages.map((m) => m.id),
        reason,
      );
      if (first)
        await new TelegramPostRepository(trx).add([
          {
            tenantId: c.tenant_id,
            conversationId: c.id,
            text: `⚠️ A visitor message could not be shown here: Telegram refused it (${reason.slice(0, 200)}). The visitor was told it was not delivered.`,
          },
        ]);
    });
  }

  /**
   * The topic marks the agent message of `seq` as seen (or Telegram refused the reaction for
   * good): either way it is not sent again.
   */
  async seenMarked(c: Conversation, seq: number): Promise<Conversation> {
    await this.#conversation((r) => r.setSeenReaction(c.tenant_id, c.id, seq));
    return { ...c, seen_reaction_seq: Math.max(c.seen_reaction_seq, seq) };
  }

  // ---- the sync itself ------------------------------------------------------------------

  /** Cosmetic work put off under load is due at `at` (the sweep brings it back); null: done. */
  async cosmeticDue(c: Conversation, at: Date | null): Promise<void> {
    await this.#conversation((r) => r.setCosmeticDue(c.tenant_id, c.id, at));
  }

  /**
   * The sync was given up (a dead letter), so the sweep leaves the conversation until new work
   * comes. Hands back the conversation, if it still exists.
   */
  async syncGivenUp(tenantId: string, conversationId: string): Promise<Conversation | undefined> {
    return this.uow.run(async ({ trx }) => {
      const conversations = new ConversationRepository(trx);
      const conversation = await conversations.find(tenantId, conversationId);
      if (!conversation) return undefined;
      const at = new Date();
      await conversations.setSyncGivenUp(tenantId, conversationId, at);
      return { ...conversation, sync_given_up_at: at };
    });
  }

  /** In sync again after a dead letter: the sweep looks after it again. */
  async syncResumed(c: Conversation): Promise<void> {
    await this.#conversation((r) => r.setSyncGivenUp(c.tenant_id, c.id, null));
  }

  /** One change of the conversation's row (one statement), committed on its own. */
  #conversation(change: (repository: ConversationRepository) => Promise<void>): Promise<void> {
    return this.uow.one((db) => change(new ConversationRepository(db)));
  }
}

/** A header not posted yet (or to be posted again). */
const NO_HEADER = {
  header_message_id: null,
  header_text: null,
  header_bot_id: null,
  header_pinned: false,
} as const;

/** A topic as `setTopic` leaves it: open, named, without a header yet. */
function newTopic(topicId: number | null, name: string | null): Partial<Conversation> {
  return {
    ...NO_HEADER,
    topic_id: topicId,
    topic_name: name,
    topic_closed: false,
    updated_at: new Date(),
  };
}
