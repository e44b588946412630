import { createHmac, randomInt } from 'node:crypto';
import { sandboxError } from '../errors';
import type { CallbackQuery, User } from '../telegram.types';
import { CALLBACK_QUERY_TTL_MS, type CallbackAnswer, type CallbackRecord } from './records';
import { toUser } from './users';
import type { World } from './world';

/** What a Mini App opened from a `web_app` button receives: its URL and `initData`. */
export interface OpenedMiniApp {
  url: string;
  initData: string;
}

/**
 * `initData` as Telegram signs it: every field but `hash`, sorted, `key=value` joined by
 * newlines, HMAC-SHA256 with the key HMAC-SHA256("WebAppData", bot token), in hex.
 */
export function signInitData(token: string, fields: Record<string, string>): string {
  const checkString = Object.keys(fields)
    .sort()
    .map((key) => `${key}=${fields[key]}`)
    .join('\n');
  const secret = createHmac('sha256', 'WebAppData').update(token).digest();
  const hash = createHmac('sha256', secret).update(checkString).digest('hex');
  return new URLSearchParams({ ...fields, hash }).toString();
}

/** Inline buttons pressed by people, and the bots' answerCallbackQuery. Not persisted. */
export class Callbacks {
  private readonly records = new Map<string, CallbackRecord>();
  /** The token each bot last called with: Telegram signs a bot's Mini App data with it. */
  private readonly tokens = new Map<number, string>();

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

  /** Notes the token a bot called with (the sandbox takes any secret for a bot id). */
  rememberToken(botId: number, token: string): void {
    this.tokens.set(botId, token);
  }

  /**
   * A person taps a `web_app` button of a bot message in a private chat: Telegram opens the
   * button's URL and hands the page `initData` signed with the bot's token (no update reaches
   * the bot). `text` picks the button when the message has several.
   */
  openMiniApp(chatId: number, messageId: number, from: User, text?: string): OpenedMiniApp {
    const chat = this.world.chat(chatId);
    const stored = chat.messages.get(messageId);
    if (!stored) throw sandboxError('MESSAGE_NOT_FOUND');
    const author = stored.message.from;
    const button = (stored.message.reply_markup?.inline_keyboard.flat() ?? []).find(
      (b) => isWebApp(b['web_app']) && (text === undefined || b.text === text),
    );
    const token = author ? this.tokens.get(author.id) : undefined;
    if (!author?.is_bot || !button || !token) throw sandboxError('BUTTON_NOT_FOUND');
    const url = (button['web_app'] as { url: string }).url;
    const initData = signInitData(token, {
      query_id: `AAH${randomInt(1, 2 ** 47).toString(36)}`,
      user: JSON.stringify(toUser(from)),
      chat_instance: this.world.chatInstance(chatId),
      chat_type: 'private',
      auth_date: String(Math.floor(Date.now() / 1000)),
    });
    return { url, initData };
  }
}

function isWebApp(value: unknown): value is { url: string } {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { url?: unknown }).url === 'string'
  );
}
