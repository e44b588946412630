import type {
  PrivateChatAnswer,
  PrivateChatIntake,
  PrivateChatOutcome,
  PrivateChatVisitor,
} from '@topicdesk/core';
import type { CallbackQuery, Message } from 'grammy/types';
import type { UserKeyring } from '../../user-crypto';
import { buttonKeyboard, buttonRequest, parsePrivateCallbackData } from './buttons';
import { answerContext, type PrivateChatCalls } from './calls';
import { messageRequest, normalizeLanguage } from './parse';

export interface PrivateChatUpdatesOptions {
  tenantId: string;
  intake: PrivateChatIntake;
  calls: PrivateChatCalls;
  keyring: UserKeyring;
  /** The main bot: updates are deduplicated per receiving bot. */
  botId: string;
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
    const result = await this.options.intake.apply(
      { botId: this.options.botId, updateId },
      visitor,
      messageRequest(message),
    );
    await this.#answer(visitor, result.answers);
    return result.outcome;
  }

  async handleButton(updateId: number, query: CallbackQuery): Promise<PrivateChatOutcome> {
    const { intake, calls, botId } = this.options;
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
