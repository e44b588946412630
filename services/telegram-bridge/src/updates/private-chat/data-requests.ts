import type {
  DataRequests,
  PrivateChatOutcome,
  PrivateChatUsers,
  PrivateChatVisitor,
  TopicPolicy,
} from '@topicdesk/core';
import type { Logger } from '@topicdesk/telemetry';
import { InputFile } from 'grammy';
import type { CallbackQuery } from 'grammy/types';
import { answerContext, describe, type PrivateChatCalls } from './calls';

/** The commands of a user's own data: `/mydata` (an export) and `/forget` (erasure). */
export const DataCommand = { mydata: 'mydata', forget: 'forget' } as const;
export type DataCommand = (typeof DataCommand)[keyof typeof DataCommand];

/** How long the confirmation button of `/forget` works. */
export const FORGET_CONFIRM_MS = 10 * 60_000;
const FORGET_PREFIX = 'td:pc:forget:';

/** `/mydata` or `/forget` (with or without `@bot`), else undefined. */
export function dataCommand(text: string | undefined): DataCommand | undefined {
  const match = text ? /^\s*\/(mydata|forget)(?:@[A-Za-z0-9_]+)?\s*$/i.exec(text) : null;
  return match ? (match[1]!.toLowerCase() as DataCommand) : undefined;
}

/** The confirmation button's callback data: when it was offered (seconds), for its expiry. */
export function forgetCallbackData(at: Date): string {
  return `${FORGET_PREFIX}${Math.floor(at.getTime() / 1000)}`;
}

/** When the confirmation was offered, if `data` is one; undefined otherwise. */
export function parseForgetCallback(data: string | undefined): Date | undefined {
  if (!data?.startsWith(FORGET_PREFIX)) return undefined;
  const seconds = Number(data.slice(FORGET_PREFIX.length));
  return Number.isSafeInteger(seconds) && seconds > 0 ? new Date(seconds * 1000) : undefined;
}

const TEXTS = {
  nothing: 'Nothing is stored about you: you have not written to support through this bot.',
  exported:
    'This is everything stored about you and your conversations with support (JSON). Your Telegram id is kept only encrypted.',
  confirm:
    'This erases everything stored about you: your messages, files and conversations with support, and your encrypted Telegram id. Agents keep no copy in the support system. It cannot be undone.',
  confirmButton: 'Erase my data',
  expired: 'That button expired. Send /forget again.',
  erased: (count: number) =>
    `Done: ${count} conversation${count === 1 ? '' : 's'} and your encrypted id were erased. Writing again starts afresh.`,
} as const;

export interface PrivateDataRequestsOptions {
  requests: DataRequests;
  users: PrivateChatUsers;
  calls: PrivateChatCalls;
  /** DSAR_TOPIC_POLICY: what erasure does to the agents' topics. */
  topicPolicy: TopicPolicy;
  botId: string;
  logger: Logger;
}

/**
 * A private-chat user's own data-subject requests: `/mydata` sends them a JSON document of what
 * is stored about them; `/forget` asks for confirmation with a button, whose press erases each
 * of their conversations (as the admin API's erase does) and then their row. Both audited.
 */
export class PrivateDataRequests {
  constructor(private readonly options: PrivateDataRequestsOptions) {}

  async command(
    updateId: number,
    command: DataCommand,
    visitor: PrivateChatVisitor,
  ): Promise<PrivateChatOutcome> {
    const { calls, users } = this.options;
    switch (command) {
      case DataCommand.mydata: {
        const user = await users.find(visitor);
        if (!user) {
          await calls.answer(visitor, TEXTS.nothing);
          return 'command';
        }
        const data = await this.options.requests.exportTelegramUser(
          { botId: this.options.botId, updateId },
          user,
        );
        if (!data) return 'duplicate';
        await this.#sendDocument(visitor, JSON.stringify(data, null, 2));
        return 'command';
      }
      case DataCommand.forget:
        await calls.answer(visitor, TEXTS.confirm, {
          inline_keyboard: [
            [{ text: TEXTS.confirmButton, callback_data: forgetCallbackData(new Date()) }],
          ],
        });
        return 'command';
      default: {
        const never: never = command;
        throw new Error(`unknown data command ${String(never)}`);
      }
    }
  }

  /** The confirmation button: erases, if pressed in time. */
  async confirm(
    updateId: number,
    query: CallbackQuery,
    offeredAt: Date,
    visitor: PrivateChatVisitor,
  ): Promise<PrivateChatOutcome> {
    const { calls, users, requests } = this.options;
    if (Date.now() - offeredAt.getTime() > FORGET_CONFIRM_MS) {
      await calls.toast(query.id, TEXTS.expired);
      return 'refused';
    }
    const user = await users.find(visitor);
    if (!user) {
      await calls.toast(query.id, '');
      await calls.answer(visitor, TEXTS.nothing);
      return 'command';
    }
    const tombstones = await requests.eraseTelegramUser(
      { botId: this.options.botId, updateId },
      user,
      this.options.topicPolicy,
    );
    await calls.toast(query.id, '');
    if (!tombstones) return 'duplicate';
    await calls.answer(visitor, TEXTS.erased(tombstones.length));
    return 'command';
  }

  async #sendDocument(visitor: PrivateChatVisitor, json: string): Promise<void> {
    const { calls, logger } = this.options;
    const chatId = visitor.telegramUserId;
    const result = await calls.call(visitor, answerContext(), (api) =>
      api.sendDocument(chatId, new InputFile(Buffer.from(json, 'utf8'), 'my-data.json'), {
        caption: TEXTS.exported,
      }),
    );
    if (!result.ok)
      logger.warn({ failure: describe(result.failure) }, 'data export not sent to the user');
  }
}
