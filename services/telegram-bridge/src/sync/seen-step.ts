import type { Message, TopicState } from '@topicdesk/core';
import { SendPriority } from '../sender/telegram-sender';
import { COSMETIC_WAIT_MS, type Outcome, type SyncContext, type TopicCalls } from './topic-calls';

/** The reaction that tells the agents the visitor has read their reply. */
export const SEEN_REACTION = '👀';

/**
 * The agents see what the visitor read: a 👀 reaction on the newest agent message the visitor
 * has seen, set once per message (the seq that got it is recorded). A newer read moves it to
 * the newer message; the older reaction stays, since taking it off would cost a second call.
 */
export class SeenStep {
  constructor(private readonly calls: TopicCalls) {}

  async mark(state: TopicState, planned: Message, context: SyncContext): Promise<Outcome> {
    const { conversation } = state;
    const { parts } = this.calls;
    const groupId = this.calls.groupOf(conversation);
    let target = planned;
    const result = await this.calls.call(conversation, 'seen', context, {
      method: 'setMessageReaction',
      // Cosmetic: behind every text and post, and put off when the group has no room.
      priority: SendPriority.cosmetic,
      since: Date.now(),
      maxWaitMs: COSMETIC_WAIT_MS,
      call: async (api) => {
        // Read when its turn comes: a visitor who read on while it waited has the newer reply
        // marked instead, one call rather than two.
        target = (await parts.delivery.agentMessageToMark(conversation)) ?? planned;
        return api.setMessageReaction(groupId, target.telegram_message_id as number, [
          { type: 'emoji', emoji: SEEN_REACTION },
        ]);
      },
    });
    if (!result.ok) {
      const failure = result.failure;
      if (failure.kind === 'deferred') return { deferred: true };
      if (failure.kind !== 'rejected' && failure.kind !== 'topic_not_modified')
        return this.calls.onFailure(conversation, failure, 'seen reaction');
      // A refusal is final (the message was deleted, the group allows no such reaction): it
      // is recorded like a reaction that went through, so it is not tried again.
      parts.logger.warn(
        { conversationId: conversation.id, seq: target.seq, failure },
        'seen reaction refused; left out',
      );
    }
    const marked = await parts.delivery.seenMarked(conversation, target.seq);
    return { state: { ...state, conversation: marked, seen: undefined } };
  }
}
