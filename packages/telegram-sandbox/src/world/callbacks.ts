import { randomInt } from 'node:crypto';
import { sandboxError } from '../errors';
import type { CallbackQuery, User } from '../telegram.types';
import { CALLBACK_QUERY_TTL_MS, type CallbackAnswer, type CallbackRecord } from './records';
import { toUser } from './users';
import type { World } from './world';

/** Inline buttons pressed by people, and the bots' answerCallbackQuery. Not persisted. */
export class Callbacks {
  private readonly records = new Map<string, CallbackRecord>();

  constructor(private readonly world: World) {}

  press(chatId: number, messageId: number, data: string, from: User): CallbackRecord {
    const chat = this.world.chat(chatId);
    const stored = chat.messages.get(messageId);
    if (!stored) throw sandboxError('MESSAGE_NOT_FOUND');
    const author = stored.message.from;
    const buttons = stored.message.reply_markup?.inline_keyboard.flat() ?? [];
    if (!author?.is_bot || !buttons.some((button) => button.callback_data === data)) {
      throw sandboxError('BUTTON_NOT_FOUND');
    }
    const user = toUser(from);
    const record: CallbackRecord = {
      id: `${randomInt(1, 2 ** 47)}${randomInt(0, 1_000_000)}`,
      botId: author.id,
      chatId,
      messageId,
      from: user,
      data,
      createdAt: Date.now(),
    };
    this.records.set(record.id, record);
    const query: CallbackQuery = {
      id: record.id,
      from: user,
      message: stored.message,
      chat_instance: this.world.chatInstance(chatId),
      data,
    };
    const bot = this.world.bot(author.id);
    if (bot) this.world.pushUpdate(bot, { callback_query: query });
    return record;
  }

  answer(botId: number, id: string, answer: Omit<CallbackAnswer, 'at'>): void {
    const record = this.records.get(id);
    const expired = record !== undefined && Date.now() - record.createdAt > CALLBACK_QUERY_TTL_MS;
    if (!record || record.botId !== botId || record.answer || expired) {
      throw sandboxError('CALLBACK_QUERY_INVALID');
    }
    record.answer = { ...answer, at: Date.now() };
  }

  get(id: string): CallbackRecord | undefined {
    return this.records.get(id);
  }

  clear(): void {
    this.records.clear();
  }
}
