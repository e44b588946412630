import type {
  AttachmentService,
  Conversation,
  TopicDeliveryService,
  TopicState,
} from '@topicdesk/core';
import type { Coordination } from '@topicdesk/fanout';
import type { Logger } from '@topicdesk/telemetry';
import type { BridgeMetrics } from '../metrics';
import type { TelegramFailure } from '../sender/telegram-api';
import {
  SendPriority,
  type SendFailure,
  type SendRequest,
  type SendResult,
  type TelegramSender,
} from '../sender/telegram-sender';
import type { PinHeader } from './topic-plan';

/** How long a cosmetic call waits for room before the conversation looks for busier work. */
export const COSMETIC_WAIT_MS = 4_000;

export interface SyncContext {
  signal: AbortSignal;
  /** Keeps the bus delivery alive while we wait for budget. */
  working: () => void;
}

/** What the steps of the sync share: the sender, core's bookkeeping, and where topics live. */
export interface SyncParts {
  sender: TelegramSender;
  delivery: TopicDeliveryService;
  /** Visitors' files: which a message carries, and their bytes. */
  attachments: Pick<AttachmentService, 'filesOf' | 'open'>;
  coordination: Coordination;
  logger: Logger;
  metrics: BridgeMetrics;
  /** SUPPORT_GROUP_ID: where conversations routed to no other group live. */
  defaultGroupId: number;
  pinHeader: PinHeader;
}

/**
 * What a step leaves behind: the state the topic is now known to be in (absent: read it
 * again), and whether a cosmetic call was put off for lack of room (then it is read again too:
 * texts that came while it waited go before another try).
 */
export interface Outcome {
  state?: TopicState | undefined;
  deferred?: boolean;
}

type GroupRequest<T> = Omit<
  SendRequest<T>,
  'chatId' | 'conversationId' | 'signal' | 'working' | 'method'
> & {
  method: string;
  /** Another group than the conversation's (a post into the topic it was moved out of). */
  chatId?: number | undefined;
};

/** Calls into a conversation's support group, and what a failed one means for its topic. */
export class TopicCalls {
  constructor(readonly parts: SyncParts) {}

  /** The support group a conversation's topic lives in. */
  groupOf(conversation: Conversation): number {
    return conversation.group_chat_id ?? this.parts.defaultGroupId;
  }

  /** Where a conversation's topic is: its group, and the topic in it (once created). */
  where(conversation: Conversation): { groupId: number; topicId: number } {
    return { groupId: this.groupOf(conversation), topicId: conversation.topic_id as number };
  }

  /** One call into the conversation's group through the sender. */
  call<T>(
    conversation: Conversation,
    purpose: string,
    context: SyncContext,
    request: GroupRequest<T>,
  ): Promise<SendResult<T>> {
    this.parts.metrics.groupCalls.add(1, { purpose });
    return this.parts.sender.send({
      ...request,
      chatId: request.chatId ?? this.groupOf(conversation),
      conversationId: conversation.id,
      signal: context.signal,
      working: context.working,
    });
  }

  /** Cosmetic work goes in line behind everything else; closing makes it part of the turn. */
  cosmetic(
    conversation: Conversation,
  ): Pick<SendRequest<unknown>, 'priority' | 'since' | 'maxWaitMs'> {
    const closing = conversation.status === 'closed' && !conversation.topic_closed;
    return closing
      ? { priority: SendPriority.normal, since: (conversation.closed_at ?? new Date()).getTime() }
      : { priority: SendPriority.cosmetic, since: Date.now(), maxWaitMs: COSMETIC_WAIT_MS };
  }

  /**
   * Shared handling of a failed topic call: a topic found gone or closed is recorded (the next
   * round reads the conversation again); throws when only a later retry can help.
   */
  async onFailure(
    conversation: Conversation,
    failure: SendFailure,
    what: string,
  ): Promise<Outcome> {
    switch (failure.kind) {
      case 'rate_limited':
      case 'topic_not_modified':
        return {};
      case 'topic_missing':
        await this.topicMissing(conversation);
        return {};
      case 'topic_closed':
        await this.parts.delivery.topicClosed(conversation, true);
        return {};
      case 'rejected':
      case 'transient':
      case 'deferred':
      case 'no_bot':
        throw failed(what, failure);
      default: {
        const never: never = failure;
        throw new Error(`unhandled failure ${JSON.stringify(never)}`);
      }
    }
  }

  /** The topic was deleted in Telegram: the next round makes a new one. */
  async topicMissing(conversation: Conversation): Promise<void> {
    this.parts.logger.warn(
      { conversationId: conversation.id, topicId: conversation.topic_id },
      'topic is gone; creating a new one',
    );
    await this.parts.delivery.topicGone(conversation);
  }
}

/** The error a round throws so the bus retries it later (never the GrammyError: it holds ids). */
export function failed(what: string, failure: SendFailure | TelegramFailure): Error {
  return new Error(
    `${what} failed: ${'description' in failure ? failure.description : failure.kind}`,
  );
}
