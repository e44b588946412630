import { ConsoleAccess, UnitOfWork, type DB, type Kysely, type Publisher } from '@topicdesk/core';
import type { Logger } from '@topicdesk/telemetry';
import type { InlineKeyboardMarkup, Message } from 'grammy/types';
import { SendPriority, type TelegramSender } from '../sender/telegram-sender';
import { describe, classifyPrivateFailure } from './private-chat/calls';

/** How long the answer may wait for budget inside the ordered update consumer. */
const ANSWER_WAIT_MS = 10_000;

/** Whether a private-chat text is `/console` (or `/console@bot`). */
export function isConsoleCommand(text: string | undefined): boolean {
  return text !== undefined && /^\/console(@[A-Za-z0-9_]+)?\s*$/i.test(text.trim());
}

/**
 * The button that opens the console inside Telegram as a Mini App (it signs in with the
 * `initData` Telegram hands it). Telegram opens Mini Apps over https only: none otherwise.
 */
export function miniAppButton(consoleUrl: string | undefined): InlineKeyboardMarkup | undefined {
  if (!consoleUrl?.startsWith('https://')) return undefined;
  return {
    inline_keyboard: [[{ text: 'Open the console here', web_app: { url: `${consoleUrl}/` } }]],
  };
}

export interface ConsoleSignInOptions {
  db: Kysely<DB>;
  relay: Publisher;
  sender: TelegramSender;
  logger: Logger;
  tenantId: string;
  /** The main bot: updates are deduplicated per receiving bot. */
  botId: string;
  /** CONSOLE_URL or PUBLIC_URL + /console; undefined: the console is not configured. */
  consoleUrl: string | undefined;
  linkTtlMs: number;
}

/**
 * `/console` in the bot's private chat: an active agent gets a one-time sign-in link (core keeps
 * only its hash), sent with link previews off (a preview fetch must not be the one use; the
 * link's page only POSTs it anyway) and protected from forwarding. Anyone else is answered
 * like any unknown command, by whatever handles the private chat: nothing tells them agents
 * exist.
 */
export class ConsoleSignIn {
  readonly #access: ConsoleAccess;

  constructor(private readonly options: ConsoleSignInOptions) {
    this.#access = new ConsoleAccess(new UnitOfWork(options.db, options.relay));
  }

  /** The outcome, or `not_agent` for the caller to answer as it answers unknown commands. */
  async handle(updateId: number, message: Message): Promise<'command' | 'duplicate' | 'not_agent'> {
    const { tenantId, botId, consoleUrl, linkTtlMs, logger } = this.options;
    const from = message.from;
    if (!from || from.is_bot) return 'not_agent';
    const outcome = await this.#access.issueLink(
      { botId, updateId },
      tenantId,
      from.id,
      consoleUrl === undefined ? undefined : linkTtlMs,
    );
    switch (outcome.kind) {
      case 'not_agent':
      case 'duplicate':
        return outcome.kind;
      case 'not_configured':
        await this.#answer(
          message.chat.id,
          'The console is not configured on this installation (CONSOLE_URL or PUBLIC_URL).',
        );
        return 'command';
      case 'link': {
        const minutes = Math.max(1, Math.round(linkTtlMs / 60_000));
        const url = `${consoleUrl}/sign-in?t=${outcome.token}`;
        await this.#answer(
          message.chat.id,
          `🔐 ${outcome.displayName}, your console sign-in link works once, for ${minutes} min:\n${url}\n` +
            'Do not share it: whoever opens it first is signed in as you.',
          miniAppButton(consoleUrl),
        );
        logger.info({ expiresAt: outcome.expiresAt.toISOString() }, 'console sign-in link sent');
        return 'command';
      }
      default: {
        const never: never = outcome;
        throw new Error(`unhandled link outcome ${JSON.stringify(never)}`);
      }
    }
  }

  async #answer(chatId: number, text: string, keyboard?: InlineKeyboardMarkup): Promise<void> {
    const { sender, logger } = this.options;
    const result = await sender.send({
      method: 'console',
      chatId,
      priority: SendPriority.normal,
      since: Date.now(),
      bot: sender.pool.main.id,
      signal: AbortSignal.timeout(ANSWER_WAIT_MS),
      call: (api) =>
        api.sendMessage(chatId, text, {
          link_preview_options: { is_disabled: true },
          protect_content: true,
          ...(keyboard ? { reply_markup: keyboard } : {}),
        }),
    });
    if (!result.ok) {
      const failure =
        result.error !== undefined
          ? describe(classifyPrivateFailure(result.error))
          : `${result.failure.kind}${'description' in result.failure ? `: ${result.failure.description}` : ''}`;
      logger.warn({ failure }, 'console sign-in answer not sent');
    }
  }
}
