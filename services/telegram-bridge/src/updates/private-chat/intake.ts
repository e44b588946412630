import {
  AttachmentErrorCode,
  type PrivateChatAnswer,
  type PrivateChatIntake,
  type PrivateChatOutcome,
  type PrivateChatRequest,
  type PrivateChatResult,
  type PrivateChatVisitor,
} from '@topicdesk/core';
import type { CallbackQuery, Message } from 'grammy/types';
import type { UserKeyring } from '../../user-crypto';
import { buttonKeyboard, buttonRequest, parsePrivateCallbackData } from './buttons';
import { answerContext, type PrivateChatCalls } from './calls';
import { dataCommand, parseForgetCallback, type PrivateDataRequests } from './data-requests';
import { messageRequest, normalizeLanguage } from './parse';
import { fileOf, type TelegramFileRef, type TelegramFiles } from '../telegram-files';

export interface PrivateChatUpdatesOptions {
  tenantId: string;
  intake: PrivateChatIntake;
  calls: PrivateChatCalls;
  keyring: UserKeyring;
  /** The main bot: updates are deduplicated per receiving bot. */
  botId: string;
  /** Downloads and checks the photos and documents users send. */
  files: TelegramFiles;
  /** ATTACHMENTS_ALLOWED_TYPES: a document declared otherwise is refused before its download. */
  allowedTypes: readonly string[];
  /** `/mydata` and `/forget`: the user's own data-subject requests. */
  dataRequests: PrivateDataRequests;
}

/**
 * Updates from the bot's private chat (called by the UpdateProcessor, one at a time): parsed
 * into what the user asks for, applied by core with the update's dedupe mark, then answered
 * (toast, direct answers) after the commit.
 */
export class PrivateChatUpdates {
  constructor(private readonly options: PrivateChatUpdatesOptions) {}

  async handleMessage(
    updateId: number,
    message: Message,
    edited: boolean,
  ): Promise<PrivateChatOutcome> {
    if (!message.from || message.from.is_bot) return 'ignored:bot';
    // Edits of what the user wrote are not followed: the agents saw the first version.
    if (edited) return 'ignored:private_edit';
    const visitor = this.#visitor(message.chat.id, message.from.language_code);
    const command = dataCommand(message.text);
    if (command) return this.options.dataRequests.command(updateId, command, visitor);
    const update = { botId: this.options.botId, updateId };
    // Photos and documents reach the agents like a widget's files; voice, stickers… do not.
    const file = message.photo || message.document ? fileOf(message) : undefined;
    const request = file
      ? await this.#fileRequest(update, visitor, message, file)
      : messageRequest(message);
    if ('done' in request) {
      await this.#answer(visitor, request.done.answers);
      return request.done.outcome;
    }
    const result = await this.options.intake.apply(update, visitor, request);
    await this.#answer(visitor, result.answers);
    return result.outcome;
  }

  /**
   * A photo or document: its conversation first (a new one if none is open), then the download
   * and the checks; what to apply is the file, or its refusal with the code.
   */
  async #fileRequest(
    update: { botId: string; updateId: number },
    visitor: PrivateChatVisitor,
    message: Message,
    file: TelegramFileRef,
  ): Promise<PrivateChatRequest | { done: PrivateChatResult }> {
    const { intake, files, allowedTypes } = this.options;
    if (message.document && !allowedTypes.includes(file.type.toLowerCase()))
      return {
        kind: 'file_refused',
        code: AttachmentErrorCode.TypeNotAllowed,
        reason: 'files of this type are not allowed',
      };
    const target = await intake.fileTarget(update, visitor);
    if ('done' in target) return target;
    const taken = await files.receive(target.conversation, file, 'visitor');
    if (!taken.ok) return { kind: 'file_refused', code: taken.code, reason: taken.reason };
    return {
      kind: 'file',
      messageId: message.message_id,
      caption: message.caption ?? '',
      conversationId: target.conversation.id,
      attachment: taken.attachment,
    };
  }

  async handleButton(updateId: number, query: CallbackQuery): Promise<PrivateChatOutcome> {
    const { intake, calls, botId } = this.options;
    const forgetOffered = parseForgetCallback(query.data);
    if (forgetOffered)
      return this.options.dataRequests.confirm(
        updateId,
        query,
        forgetOffered,
        this.#visitor(query.from.id, query.from.language_code),
      );
    const button = parsePrivateCallbackData(query.data);
    if (!button) {
      await calls.toast(query.id, '');
      return 'ignored:callback';
    }
    const visitor = this.#visitor(query.from.id, query.from.language_code);
    const result = await intake.apply({ botId, updateId }, visitor, buttonRequest(button));
    // The toast first: the user's client spins until it comes.
    await calls.toast(query.id, result.toast);
    await this.#answer(visitor, result.answers);
    if (button.action === 'rate' && result.outcome === 'command')
      await this.#showRating(visitor, query, button.rating);
    return result.outcome;
  }

  #visitor(telegramUserId: number, languageCode: string | undefined): PrivateChatVisitor {
    const { tenantId, keyring } = this.options;
    return {
      tenantId,
      telegramUserId,
      pseudonym: keyring.pseudonym(tenantId, telegramUserId),
      language: normalizeLanguage(languageCode),
    };
  }

  async #answer(visitor: PrivateChatVisitor, answers: readonly PrivateChatAnswer[]) {
    for (const answer of answers)
      await this.options.calls.answer(
        visitor,
        answer.text,
        answer.button ? buttonKeyboard(answer.button) : undefined,
      );
  }

  /** The stars the user gave, under the prompt they pressed (its buttons go away). */
  async #showRating(visitor: PrivateChatVisitor, query: CallbackQuery, rating: number) {
    const { calls } = this.options;
    if (!query.message || !('text' in query.message)) return;
    const { chat, message_id: messageId } = query.message;
    const text = `${query.message.text ?? ''}\n${'⭐'.repeat(rating)}`;
    await calls.bestEffort(
      () =>
        calls.call(visitor, answerContext(), (api) =>
          api.editMessageText(chat.id, messageId, text),
        ),
      'rating prompt not updated',
    );
  }
}
