import type { Message, TopicState } from '@topicdesk/core';
import { BotRight } from '../sender/bot-pool';
import { SendPriority } from '../sender/telegram-sender';
import { announceDelivered, receiptsFor } from './receipts';
import type { Outcome, SyncContext, TopicCalls } from './topic-calls';
import { leadingTexts, PinHeader, withoutTexts } from './topic-plan';
import {
  headerKeyboard,
  headerSignature,
  headerText,
  headerWithTexts,
  textsTheHeaderCarries,
} from './topic-presentation';

/** How long an `auto` pin waits for room before it is skipped (the group is backed up). */
const PIN_WAIT_MS = 1_000;

/** The topic's header: posted first (with the first texts under it), kept current, pinned. */
export class HeaderSteps {
  constructor(private readonly calls: TopicCalls) {}

  /**
   * Posts the header into a new topic, with the first visitor texts under it when they fit:
   * a new conversation costs two group calls (topic, header) instead of four. The texts are
   * read when the header's turn comes, not when it was queued: under load, everything the
   * visitor wrote while it waited goes with it.
   */
  async post(
    state: TopicState,
    waiting: readonly Message[],
    context: SyncContext,
  ): Promise<Outcome> {
    const { conversation } = state;
    const { parts } = this.calls;
    const { groupId, topicId } = this.calls.where(conversation);
    let carried: Message[] = [];
    const sent = await this.calls.call(conversation, 'header', context, {
      method: 'sendMessage',
      priority: SendPriority.normal,
      // The visitor waits from the conversation's start (their texts come after it).
      since: conversation.created_at.getTime(),
      onLongWait:
        waiting.length > 0
          ? () => void receiptsFor(parts, conversation, waiting)('retrying')
          : undefined,
      call: async (api) => {
        // Only while the topic is still the one this header goes to (a topic found deleted
        // meanwhile is made again, and the texts go with the new one's header).
        // Texts only: a message with files goes on its own, after the header (its caption is
        // its text), and so does everything after it.
        const pending = leadingTexts(await parts.delivery.textsForHeader(conversation, topicId));
        carried = pending.slice(0, textsTheHeaderCarries(pending.map((m) => m.text)));
        return api.sendMessage(
          groupId,
          headerWithTexts(
            headerText(conversation),
            carried.map((m) => m.text),
          ),
          {
            message_thread_id: topicId,
            reply_markup: headerKeyboard(conversation),
            link_preview_options: { is_disabled: true },
          },
        );
      },
    });
    if (!sent.ok) return this.calls.onFailure(conversation, sent.failure, 'header');
    const posted = await parts.delivery.headerPosted(
      conversation,
      {
        chatId: groupId,
        messageId: sent.value.message_id,
        botId: sent.bot.id,
        text: headerSignature(conversation),
      },
      carried,
    );
    if (carried.length > 0) announceDelivered(parts, conversation, carried);
    const next = { ...withoutTexts(state, carried), conversation: posted };
    // Pinned right away only when asked always; otherwise a later, cosmetic step.
    if (parts.pinHeader === PinHeader.always) return this.pin(next, context);
    return { state: next };
  }

  async pin(state: TopicState, context: SyncContext): Promise<Outcome> {
    const { conversation } = state;
    const { parts } = this.calls;
    const groupId = this.calls.groupOf(conversation);
    const messageId = conversation.header_message_id as number;
    const always = parts.pinHeader === PinHeader.always;
    const result = await this.calls.call(conversation, 'pin', context, {
      method: 'pinChatMessage',
      // `auto`: only when the group has room within a moment and nothing else waits for it —
      // while it is backed up the pin is skipped for good (the header is the topic's first
      // message anyway), so it never costs a visitor's text its turn.
      ...(always
        ? { priority: SendPriority.normal, since: Date.now() }
        : { priority: SendPriority.cosmetic, since: Date.now(), maxWaitMs: PIN_WAIT_MS }),
      needs: BotRight.pin,
      call: (api) => api.pinChatMessage(groupId, messageId, { disable_notification: true }),
    });
    if (!result.ok && result.failure.kind === 'deferred') {
      parts.logger.debug(
        { conversationId: conversation.id },
        'header not pinned: the group is busy',
      );
    } else if (!result.ok) {
      // Pinning is a nicety: a refusal, or no bot with the pin right in this group, must not
      // block the conversation nor come back forever: the header stays unpinned.
      parts.logger.warn(
        { conversationId: conversation.id, failure: result.failure },
        'could not pin the topic header',
      );
    }
    return { state: { ...state, conversation: await parts.delivery.headerPinned(conversation) } };
  }

  async edit(state: TopicState, context: SyncContext): Promise<Outcome> {
    const { conversation } = state;
    const { parts } = this.calls;
    const groupId = this.calls.groupOf(conversation);
    const messageId = conversation.header_message_id as number;
    const bot = conversation.header_bot_id ?? parts.sender.pool.main.id;
    // The bot that posted it is no longer configured: nobody can edit it; post a new one.
    if (!parts.sender.pool.bot(bot)) return this.#dropped(state);
    const carried = await parts.delivery.carriedBy(conversation, groupId, messageId);
    const text = headerWithTexts(
      headerText(conversation),
      carried.map((m) => m.text),
    );
    const result = await this.calls.call(conversation, 'header_edit', context, {
      method: 'editMessageText',
      ...this.calls.cosmetic(conversation),
      // Only the bot that sent a message can edit it.
      bot,
      call: (api) =>
        api.editMessageText(groupId, messageId, text, {
          reply_markup: headerKeyboard(conversation),
          link_preview_options: { is_disabled: true },
        }),
    });
    if (!result.ok) {
      const failure = result.failure;
      if (failure.kind === 'deferred') return { deferred: true };
      // The bot that posted the header may no longer post there: a new header, by another.
      if (failure.kind === 'no_bot') return this.#dropped(state);
      if (failure.kind === 'rejected' && /not modified/i.test(failure.description)) {
        // Already showing this: record it.
      } else if (failure.kind === 'rejected' && /not found/i.test(failure.description)) {
        // The header was deleted by someone: post a new one.
        return this.#dropped(state);
      } else if (failure.kind === 'rejected') {
        // Cosmetic: a header Telegram refuses must not hold the conversation's messages back.
        parts.logger.warn(
          { conversationId: conversation.id, failure },
          'header edit refused; left as is',
        );
      } else {
        return this.calls.onFailure(conversation, failure, 'header edit');
      }
    }
    const edited = await parts.delivery.headerEdited(conversation, headerSignature(conversation));
    return { state: { ...state, conversation: edited } };
  }

  async #dropped(state: TopicState): Promise<Outcome> {
    const dropped = await this.calls.parts.delivery.headerDropped(state.conversation);
    return { state: { ...state, conversation: dropped } };
  }
}
