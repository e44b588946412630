import {
  channelScope,
  type Attachment,
  type AttachmentService,
  type Conversation,
  type Message,
  type PrivateChatDeliveries,
  type PrivateChatStep,
  type TelegramUser,
} from '@topicdesk/core';
import type { Logger } from '@topicdesk/telemetry';
import { InputFile } from 'grammy';
import { asPhoto } from '../../sync/topic-messages';
import { splitUtf16, TELEGRAM_TEXT_LIMIT, type SyncContext } from '../../sync/topic-sync';
import { UserKeyError, type UserKeyring } from '../../user-crypto';
import { buttonKeyboard, ratingKeyboard } from './buttons';
import type { ChannelBots } from '../../sender/channel-bots';
import { describe, type ChatUser, type PrivateChatCalls, type PrivateFailure } from './calls';

const UNKNOWN_AGENT_NAME = 'Support';
/** Telegram's limit of a caption, in characters. */
const CAPTION_LIMIT = 1024;

/** An agent's message as the user sees it: signed with the agent's display name. */
export function signed(message: Pick<Message, 'kind' | 'author_name' | 'text'>): string {
  if (message.kind !== 'agent') return message.text;
  return `${message.author_name ?? UNKNOWN_AGENT_NAME}: ${message.text}`;
}

export interface PrivateChatDelivererOptions {
  /** Core's books of what each private chat was sent. */
  deliveries: PrivateChatDeliveries;
  /** Agents' files: which a message carries, and their bytes. */
  attachments: Pick<AttachmentService, 'filesOf' | 'open'>;
  calls: PrivateChatCalls;
  keyring: UserKeyring;
  logger: Logger;
  /** Bot channels' bots (issue 19): a channel's user is reached with the owner's bot. */
  channelBots?: ChannelBots | undefined;
}

type Step<K extends PrivateChatStep['kind']> = Extract<PrivateChatStep, { kind: K }>;

/**
 * The private-chat step of TopicSync.reconcile: agents' and system messages reach the user
 * under Telegram's budgets, in seq order, once; edits and retractions follow; the rating
 * prompt comes after a close. One call per round; core records each.
 */
export class PrivateChatDeliverer {
  constructor(private readonly options: PrivateChatDelivererOptions) {}

  /**
   * One Bot API call toward the user of a `telegram` conversation, if anything is due.
   * Returns false when the private chat is up to date. Throws (the sync retries) only on
   * transient failures; a user who blocked the bot is skipped.
   */
  async deliver(conversation: Conversation, context: SyncContext): Promise<boolean> {
    const { deliveries } = this.options;
    const pending = await deliveries.next(conversation);
    if (!pending?.step) return false;
    const { step } = pending;
    if (step.kind === 'skip') {
      await deliveries.delivered(conversation, step.message, null);
      return true;
    }
    const user = await this.#chatUser(conversation, pending.user);
    if (!user) return false;
    switch (step.kind) {
      case 'copy':
        await this.#updateCopy(conversation, user, step, context);
        return true;
      case 'message':
        await this.#send(conversation, user, step, context);
        return true;
      case 'rating':
        await this.#askRating(conversation, user, step, context);
        return true;
      default: {
        const never: never = step;
        throw new Error(`unhandled private chat step ${JSON.stringify(never)}`);
      }
    }
  }

  /** The user's chat, opened with the key that sealed it; undefined when that key is gone. */
  async #chatUser(conversation: Conversation, user: TelegramUser): Promise<ChatUser | undefined> {
    const { keyring, logger, channelBots } = this.options;
    let telegramUserId: number;
    try {
      telegramUserId = keyring.openUserId(user);
    } catch (error) {
      if (!(error instanceof UserKeyError)) throw error;
      // The key that sealed this user is gone (a rotation finished too early): the user cannot
      // be reached, but the agents' side of the conversation must go on.
      logger.error(
        { conversationId: conversation.id, keyId: user.key_id, reason: error.message },
        'private chat user cannot be decrypted; nothing is sent to them',
      );
      return undefined;
    }
    if (user.bot_channel_id === null)
      return { telegramUserId, pseudonym: keyring.pseudonym(user.tenant_id, telegramUserId) };
    const bot = await channelBots?.botOf(user.tenant_id, user.bot_channel_id);
    if (bot === undefined) {
      logger.error(
        { conversationId: conversation.id, channelId: user.bot_channel_id },
        "bot channel's bot unknown; nothing is sent to its user",
      );
      return undefined;
    }
    const scope = channelScope(user.tenant_id, user.bot_channel_id);
    return { telegramUserId, pseudonym: keyring.pseudonym(scope, telegramUserId), bot };
  }

  /** A sent copy follows its message: edited, or deleted once retracted. */
  async #updateCopy(
    conversation: Conversation,
    user: ChatUser,
    { message, copy }: Step<'copy'>,
    context: SyncContext,
  ): Promise<void> {
    const { calls } = this.options;
    const chatId = user.telegramUserId;
    const result = message.deleted_at
      ? await calls.call(user, context, (api) =>
          api.deleteMessage(chatId, copy.telegram_message_id),
        )
      : await calls.call(user, context, (api) =>
          api.editMessageText(
            chatId,
            copy.telegram_message_id,
            splitUtf16(signed(message), TELEGRAM_TEXT_LIMIT)[0] ?? '',
            { link_preview_options: { is_disabled: true } },
          ),
        );
    if (!result.ok && !this.#skippable(result.failure, conversation, 'copy not updated')) return;
    await this.options.deliveries.copySynced(message);
  }

  /** The next message, in parts of Telegram's size; the End button under the last part. */
  async #send(
    conversation: Conversation,
    user: ChatUser,
    { message, button }: Step<'message'>,
    context: SyncContext,
  ): Promise<void> {
    const { calls } = this.options;
    const keyboard = button ? buttonKeyboard(button) : undefined;
    const files =
      (message.attachment_count ?? 0) > 0 ? await this.options.attachments.filesOf(message) : [];
    if (files.length > 0) {
      await this.#sendFiles(conversation, user, message, files, context);
      return;
    }
    const parts = splitUtf16(signed(message), TELEGRAM_TEXT_LIMIT);
    let first: number | null = null;
    for (const [index, part] of parts.entries()) {
      const last = index === parts.length - 1;
      const sent = await calls.call(user, context, (api) =>
        api.sendMessage(user.telegramUserId, part, {
          link_preview_options: { is_disabled: true },
          ...(last && keyboard ? { reply_markup: keyboard } : {}),
        }),
      );
      if (!sent.ok) {
        if (!this.#skippable(sent.failure, conversation, 'message not sent')) return;
        if (
          first === null &&
          (await this.#undeliverable(conversation, user, message, sent.failure))
        )
          return;
        break;
      }
      first ??= sent.value.message_id;
    }
    await this.options.deliveries.delivered(conversation, message, first);
  }

  /**
   * An agent's message with files: each as a photo or a document, the signed text as the first
   * one's caption (Telegram's 1,024 characters). Recorded with the first one sent.
   */
  async #sendFiles(
    conversation: Conversation,
    user: ChatUser,
    message: Message,
    files: readonly Attachment[],
    context: SyncContext,
  ): Promise<void> {
    const { calls, attachments } = this.options;
    const caption = splitUtf16(signed(message), CAPTION_LIMIT)[0] ?? '';
    let first: number | null = null;
    for (const [index, file] of files.entries()) {
      const options = index === 0 && caption !== '' ? { caption } : {};
      const sent = await calls.call(user, context, async (api) => {
        // A fresh stream for every try: a retried call cannot reuse a consumed one.
        const input = new InputFile(await attachments.open(file), file.name);
        return asPhoto(file)
          ? api.sendPhoto(user.telegramUserId, input, options)
          : api.sendDocument(user.telegramUserId, input, options);
      });
      if (!sent.ok) {
        if (!this.#skippable(sent.failure, conversation, 'file not sent')) return;
        if (
          first === null &&
          (await this.#undeliverable(conversation, user, message, sent.failure))
        )
          return;
        break;
      }
      first ??= sent.value.message_id;
    }
    await this.options.deliveries.delivered(conversation, message, first);
  }

  /** After a close and once everything was sent: the rating prompt with five buttons. */
  async #askRating(
    conversation: Conversation,
    user: ChatUser,
    { text }: Step<'rating'>,
    context: SyncContext,
  ): Promise<void> {
    const sent = await this.options.calls.call(user, context, (api) =>
      api.sendMessage(user.telegramUserId, text, {
        reply_markup: ratingKeyboard(conversation.id),
      }),
    );
    if (!sent.ok && !this.#skippable(sent.failure, conversation, 'rating prompt not sent')) return;
    await this.options.deliveries.ratingPrompted(conversation);
  }

  /**
   * A bot channel's user who blocked the owner's bot (issue 19): the message is recorded as not
   * delivered and the agents are told in the topic. True when it was recorded so.
   */
  async #undeliverable(
    conversation: Conversation,
    user: ChatUser,
    message: Message,
    failure: PrivateFailure,
  ): Promise<boolean> {
    if (user.bot === undefined || failure.kind !== 'unreachable') return false;
    const reason = /blocked/i.test(failure.description)
      ? 'the user blocked the bot'
      : 'the user cannot be reached';
    await this.options.deliveries.undeliverable(conversation, message, reason);
    return true;
  }

  /**
   * Whether a failed call toward the user is final (skip it and go on: blocked bot, refused
   * text); false to try again in this round (rate limited). Throws on transient failures.
   */
  #skippable(failure: PrivateFailure, conversation: Conversation, what: string): boolean {
    const { logger } = this.options;
    switch (failure.kind) {
      case 'rate_limited':
        return false;
      case 'unreachable':
        logger.info(
          { conversationId: conversation.id, failure: describe(failure) },
          `private chat unreachable; ${what}`,
        );
        return true;
      case 'rejected':
      case 'topic_missing':
      case 'topic_closed':
      case 'topic_not_modified':
        logger.warn(
          { conversationId: conversation.id, failure: describe(failure) },
          `Telegram refused a private chat call; ${what}`,
        );
        return true;
      case 'transient':
        // A plain Error: the GrammyError would carry the chat id into the bus's logs.
        throw new Error(`private chat call failed: ${failure.description}`);
      default: {
        const never: never = failure;
        throw new Error(`unhandled failure ${JSON.stringify(never)}`);
      }
    }
  }
}
