import type { Conversation, TopicState } from '@topicdesk/core';
import { BotRight } from '../sender/bot-pool';
import { SendPriority } from '../sender/telegram-sender';
import { failed, type Outcome, type SyncContext, type TopicCalls } from './topic-calls';
import { topicName } from './topic-presentation';

/** The topic itself: created, closed and reopened with the conversation, renamed with it. */
export class TopicLifecycle {
  constructor(private readonly calls: TopicCalls) {}

  async create(state: TopicState, context: SyncContext): Promise<Outcome> {
    const { conversation } = state;
    const { logger, delivery } = this.calls.parts;
    let name = topicName(conversation);
    let result = await this.#create(conversation, name, context);
    if (!result.ok && result.failure.kind === 'rejected') {
      // A name Telegram refuses must not keep the conversation from its topic: the ticket alone.
      logger.warn(
        { conversationId: conversation.id, failure: result.failure },
        'topic name refused; creating the topic with the ticket only',
      );
      name = topicName({ ...conversation, visitor_name: null, page_title: null, page_url: null });
      result = await this.#create(conversation, name, context);
    }
    if (!result.ok) throw failed('createForumTopic', result.failure);
    const topicId = result.value.message_thread_id;
    const created = await delivery.topicCreated(conversation, topicId, name);
    logger.info(
      {
        conversationId: conversation.id,
        topicId,
        groupId: this.calls.groupOf(conversation),
        botId: result.bot.id,
      },
      'topic created',
    );
    return { state: { ...state, conversation: created } };
  }

  #create(conversation: Conversation, name: string, context: SyncContext) {
    const groupId = this.calls.groupOf(conversation);
    return this.calls.call(conversation, 'topic', context, {
      method: 'createForumTopic',
      priority: SendPriority.normal,
      // A new conversation is visible once its header is: that comes right after, not behind
      // everyone's next turn.
      since: conversation.created_at.getTime(),
      endsTurn: false,
      needs: BotRight.topics,
      call: (api) => api.createForumTopic(groupId, name),
    });
  }

  /** Closes the topic (the conversation is closed) or reopens it (something is to be posted). */
  async setClosed(state: TopicState, closed: boolean, context: SyncContext): Promise<Outcome> {
    const { conversation } = state;
    const { groupId, topicId } = this.calls.where(conversation);
    const result = await this.calls.call(conversation, closed ? 'close' : 'reopen', context, {
      method: closed ? 'closeForumTopic' : 'reopenForumTopic',
      priority: SendPriority.normal,
      since: (closed
        ? (conversation.closed_at ?? conversation.updated_at)
        : conversation.updated_at
      ).getTime(),
      needs: BotRight.topics,
      call: (api) =>
        closed ? api.closeForumTopic(groupId, topicId) : api.reopenForumTopic(groupId, topicId),
    });
    if (!result.ok && result.failure.kind !== 'topic_not_modified') {
      const failure = result.failure;
      if (failure.kind === 'rate_limited') return {};
      if (failure.kind === 'topic_missing') {
        await this.calls.topicMissing(conversation);
        return {};
      }
      throw failed(closed ? 'closeForumTopic' : 'reopenForumTopic', failure);
    }
    const changed = await this.calls.parts.delivery.topicClosed(conversation, closed);
    return { state: { ...state, conversation: changed } };
  }

  async rename(state: TopicState, context: SyncContext): Promise<Outcome> {
    const { conversation } = state;
    const { logger, delivery } = this.calls.parts;
    const { groupId, topicId } = this.calls.where(conversation);
    // The name is the latest at the time of asking; a newer one is a new round (superseded).
    const name = topicName(conversation);
    const result = await this.calls.call(conversation, 'rename', context, {
      method: 'editForumTopic',
      ...this.calls.cosmetic(conversation),
      needs: BotRight.topics,
      call: (api) => api.editForumTopic(groupId, topicId, { name }),
    });
    if (!result.ok && result.failure.kind === 'deferred') return { deferred: true };
    if (!result.ok && result.failure.kind !== 'topic_not_modified') {
      if (result.failure.kind !== 'rejected')
        return this.calls.onFailure(conversation, result.failure, 'rename');
      // Cosmetic: a name Telegram refuses must not hold the conversation's messages back.
      logger.warn(
        { conversationId: conversation.id, failure: result.failure },
        'topic rename refused; left as is',
      );
    }
    const renamed = await delivery.topicRenamed(conversation, name);
    return { state: { ...state, conversation: renamed } };
  }
}
