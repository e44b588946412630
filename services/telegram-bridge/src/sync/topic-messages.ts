import type { Attachment, Conversation, Message, TelegramPost, TopicState } from '@topicdesk/core';
import { InputFile } from 'grammy';
import { BridgeErrorCode } from '../errors';
import { BotRight } from '../sender/bot-pool';
import { SendPriority, type SendFailure } from '../sender/telegram-sender';
import { announceDelivered, receiptsFor, type Receipt } from './receipts';
import {
  COSMETIC_WAIT_MS,
  failed,
  type Outcome,
  type SyncContext,
  type TopicCalls,
} from './topic-calls';
import {
  MERGE_SEPARATOR,
  splitUtf16,
  TELEGRAM_TEXT_LIMIT,
  withoutPost,
  withoutTexts,
} from './topic-plan';

/** What goes into the topic: the visitor's texts (with their receipts) and the bot's posts. */
export class TopicMessages {
  constructor(private readonly calls: TopicCalls) {}

  /** Sends a batch of visitor texts as one message (in parts when it is too long for one). */
  async texts(
    state: TopicState,
    batch: readonly Message[],
    context: SyncContext,
  ): Promise<Outcome> {
    const { conversation } = state;
    const { parts } = this.calls;
    const { groupId, topicId } = this.calls.where(conversation);
    const since = Math.min(...batch.map((m) => m.created_at.getTime()));
    const receipt = receiptsFor(parts, conversation, batch);
    const sendText = (text: string, onLongWait?: () => void) =>
      this.calls.call(conversation, 'text', context, {
        method: 'sendMessage',
        priority: SendPriority.normal,
        since,
        onLongWait,
        call: (api) =>
          api.sendMessage(groupId, text, {
            message_thread_id: topicId,
            link_preview_options: { is_disabled: true },
          }),
      });
    // A visitor may write 4,000 characters that take more than Telegram's 4,096 UTF-16 units
    // (emoji): such a text goes out in parts, the last one recording the delivery.
    const pieces = splitUtf16(batch.map((m) => m.text).join(MERGE_SEPARATOR), TELEGRAM_TEXT_LIMIT);
    for (const piece of pieces.slice(0, -1)) {
      const sent = await sendText(piece);
      if (!sent.ok) return this.calls.onFailure(conversation, sent.failure, 'send part');
    }
    const result = await sendText(pieces[pieces.length - 1] ?? '', () => void receipt('retrying'));
    if (result.ok) {
      await parts.delivery.textsDelivered(batch, {
        chatId: groupId,
        messageId: result.value.message_id,
        botId: result.bot.id,
      });
      announceDelivered(parts, conversation, batch, receipt);
      return { state: withoutTexts(state, batch) };
    }
    return this.#notSent(conversation, batch, result.failure, receipt);
  }

  /**
   * A visitor message with files: each file as a photo (JPEG, PNG, WebP up to Telegram's 10 MB)
   * or a document, uploaded from storage, the message's text as the first one's caption. The
   * delivery is recorded with the last one; a retry after a failure part-way sends the message
   * from its first file again.
   */
  async files(state: TopicState, message: Message, context: SyncContext): Promise<Outcome> {
    const { conversation } = state;
    const { parts } = this.calls;
    const { groupId, topicId } = this.calls.where(conversation);
    const files = await parts.attachments.filesOf(message);
    const receipt = receiptsFor(parts, conversation, [message]);
    const caption = message.text.trim() === '' ? {} : { caption: message.text };
    let last: { messageId: number; botId: string } | undefined;
    for (const [index, file] of files.entries()) {
      const photo = asPhoto(file);
      const options = { message_thread_id: topicId, ...(index === 0 ? caption : {}) };
      const sent = await this.calls.call(conversation, 'file', context, {
        method: photo ? 'sendPhoto' : 'sendDocument',
        priority: SendPriority.normal,
        since: message.created_at.getTime(),
        onLongWait: () => void receipt('retrying'),
        // A fresh stream for every try: a retried call cannot reuse a consumed one.
        call: async (api) => {
          const input = new InputFile(await parts.attachments.open(file), file.name);
          return photo
            ? api.sendPhoto(groupId, input, options)
            : api.sendDocument(groupId, input, options);
        },
      });
      if (!sent.ok) return this.#notSent(conversation, [message], sent.failure, receipt);
      last = { messageId: sent.value.message_id, botId: sent.bot.id };
    }
    if (!last) {
      // Its files are gone (erased meanwhile): nothing to post; the caption goes as a text.
      return this.texts(state, [message], context);
    }
    await parts.delivery.textsDelivered([message], { chatId: groupId, ...last });
    announceDelivered(parts, conversation, [message], receipt);
    return { state: withoutTexts(state, [message]) };
  }

  /** A batch Telegram did not take: retried later, or failed for good when it never will. */
  async #notSent(
    conversation: Conversation,
    batch: readonly Message[],
    failure: SendFailure,
    receipt: Receipt,
  ): Promise<Outcome> {
    const { parts } = this.calls;
    switch (failure.kind) {
      case 'rate_limited':
        await receipt('retrying');
        return {};
      case 'deferred':
      case 'transient':
      case 'no_bot':
        // No bot may post there now (an operator fixes membership), or no room: the text waits.
        await receipt('retrying');
        throw failed('sendMessage', failure);
      case 'topic_missing':
      case 'topic_closed':
        return this.calls.onFailure(conversation, failure, 'sendMessage');
      case 'rejected':
      case 'topic_not_modified':
        parts.logger.error(
          { conversationId: conversation.id, failure },
          'Telegram refused a visitor message',
        );
        await this.#refused(conversation, batch, failure);
        await receipt('failed', BridgeErrorCode.BRIDGE_TELEGRAM_REJECTED);
        return {};
      default: {
        const never: never = failure;
        throw new Error(`unhandled failure ${JSON.stringify(never)}`);
      }
    }
  }

  /**
   * Telegram will never take these texts (a permanent 400): they are failed for good — the
   * visitor gets a `failed` receipt — and the agents are told once per conversation, in the
   * topic, that something the visitor wrote did not arrive. Nothing else waits on them.
   */
  #refused(conversation: Conversation, batch: readonly Message[], failure: SendFailure) {
    const reason = 'description' in failure ? failure.description : failure.kind;
    return this.calls.parts.delivery.textsRefused(conversation, batch, reason);
  }

  /**
   * A bot post (system message, command answer), pinned when asked — into the conversation's
   * topic, or into the topic it names (the one an escalation moved the conversation out of).
   */
  async post(state: TopicState, post: TelegramPost, context: SyncContext): Promise<Outcome> {
    const { conversation } = state;
    const { parts } = this.calls;
    const elsewhere = post.chat_id !== null && post.thread_id !== null;
    const groupId = elsewhere ? (post.chat_id as number) : this.calls.groupOf(conversation);
    const threadId = elsewhere ? (post.thread_id as number) : (conversation.topic_id as number);
    const sent = await this.calls.call(conversation, 'post', context, {
      chatId: groupId,
      method: 'sendMessage',
      priority: SendPriority.normal,
      since: post.created_at.getTime(),
      call: (api) =>
        api.sendMessage(groupId, post.text, {
          message_thread_id: threadId,
          link_preview_options: { is_disabled: true },
          // A mention (the agent a conversation was assigned to) notifies that agent.
          ...(post.entities?.length
            ? {
                entities: post.entities.map((e) => ({
                  ...e,
                  user: { ...e.user, is_bot: false },
                })),
              }
            : {}),
          ...(post.reply_to_message_id !== null
            ? {
                reply_parameters: {
                  message_id: post.reply_to_message_id,
                  allow_sending_without_reply: true,
                },
              }
            : {}),
        }),
    });
    if (!sent.ok) {
      const { kind } = sent.failure;
      // The old topic deleted or closed meanwhile: the note is for nobody; drop it.
      const gone = kind === 'topic_missing' || kind === 'topic_closed';
      if (elsewhere && gone) {
        parts.logger.warn(
          { conversationId: conversation.id, failure: sent.failure },
          'the topic of a post elsewhere is gone; post dropped',
        );
        await parts.delivery.postSent(post, null);
        return { state: withoutPost(state, post) };
      }
      if (kind !== 'rejected') return this.calls.onFailure(conversation, sent.failure, 'post');
      // Telegram will never take it: drop the post (it is not a visitor message) and say so.
      parts.logger.error(
        { conversationId: conversation.id, failure: sent.failure },
        'Telegram refused a bot post',
      );
      await parts.delivery.postSent(post, null);
      return { state: withoutPost(state, post) };
    }
    const messageId = sent.value.message_id;
    await parts.delivery.postSent(post, { chatId: groupId, messageId, botId: sent.bot.id });
    if (post.pin) {
      const pinned = await this.calls.call(conversation, 'pin', context, {
        chatId: groupId,
        method: 'pinChatMessage',
        priority: SendPriority.cosmetic,
        since: Date.now(),
        maxWaitMs: COSMETIC_WAIT_MS,
        needs: BotRight.pin,
        call: (api) => api.pinChatMessage(groupId, messageId, { disable_notification: true }),
      });
      if (!pinned.ok)
        parts.logger.warn(
          { conversationId: conversation.id, failure: pinned.failure },
          'could not pin a post',
        );
    }
    return { state: withoutPost(state, post) };
  }
}

/** Telegram shows these as photos (recompressed, at most 10 MB); other files go as documents. */
const PHOTO_TYPES: ReadonlySet<string> = new Set(['image/jpeg', 'image/png', 'image/webp']);
const MAX_PHOTO_BYTES = 10 * 1024 * 1024;

export function asPhoto(file: Pick<Attachment, 'type' | 'size'>): boolean {
  return PHOTO_TYPES.has(file.type ?? '') && (file.size ?? 0) <= MAX_PHOTO_BYTES;
}
