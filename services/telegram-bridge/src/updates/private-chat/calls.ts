import type { PrivateChatVisitor } from '@topicdesk/core';
import type { QuotaLimiter } from '@topicdesk/fanout';
import type { Logger } from '@topicdesk/telemetry';
import { GrammyError, type Api } from 'grammy';
import type { InlineKeyboardMarkup } from 'grammy/types';
import { classifyTelegramError } from '../../sender/telegram-api';
import { SendPriority, type TelegramSender } from '../../sender/telegram-sender';
import type { SyncContext } from '../../sync/topic-sync';

/** Direct answers (help, refusals, "text only") per user per minute; a flood gets silence. */
const ANSWERS_PER_MINUTE = 10;
/** How long a direct answer may wait for budget inside the ordered update consumer. */
const ANSWER_WAIT_MS = 10_000;

/** A direct answer waits for budget a little, never long: the update consumer is ordered. */
export function answerContext(): SyncContext {
  return { signal: AbortSignal.timeout(ANSWER_WAIT_MS), working: () => undefined };
}

/** What a Bot API failure toward a private chat means: some are final for that chat. */
export type PrivateFailure =
  ReturnType<typeof classifyTelegramError> | { kind: 'unreachable'; description: string };

export function classifyPrivateFailure(error: unknown): PrivateFailure {
  // The user blocked the bot, deleted their account, or never wrote to it: no retry helps.
  if (
    error instanceof GrammyError &&
    (error.error_code === 403 ||
      /chat not found|user is deactivated|PEER_ID_INVALID|bot can't initiate/i.test(
        error.description,
      ))
  ) {
    return { kind: 'unreachable', description: error.description };
  }
  return classifyTelegramError(error);
}

/** For logs: what failed, never the call's payload (GrammyError carries the chat id). */
export function describe(failure: PrivateFailure): string {
  return 'description' in failure ? `${failure.kind}: ${failure.description}` : failure.kind;
}

/** A call's answer, or what its failure means. */
export type CallResult<T> = { ok: true; value: T } | { ok: false; failure: PrivateFailure };

/** The user a call goes to: their chat id (in memory only) and the pseudonym keying budgets. */
export type ChatUser = Pick<PrivateChatVisitor, 'telegramUserId' | 'pseudonym'> & {
  /** The bot the user talks to: a bot channel's (issue 19); absent: the main bot. */
  bot?: string | undefined;
};

export interface PrivateChatCallsOptions {
  /** Every call toward users goes through the bridge's one sender (main bot: users started it). */
  sender: TelegramSender;
  quotas: QuotaLimiter;
  logger: Logger;
}

/** Calls toward users' private chats: through the sender, under budgets keyed by pseudonym. */
export class PrivateChatCalls {
  constructor(private readonly options: PrivateChatCallsOptions) {}

  /**
   * One Bot API call to the user's chat through the sender (main bot, the user's budget keyed
   * by pseudonym so no Redis key names the user); a failure is returned, never thrown.
   */
  async call<T>(
    user: ChatUser,
    context: SyncContext,
    call: (api: Api) => Promise<T>,
  ): Promise<CallResult<T>> {
    const { sender } = this.options;
    const result = await sender.send({
      method: 'private',
      chatId: user.telegramUserId,
      chatKey: `p-${user.pseudonym}`,
      priority: SendPriority.normal,
      since: Date.now(),
      bot: user.bot ?? sender.pool.main.id,
      signal: context.signal,
      working: context.working,
      call,
    });
    if (result.ok) return { ok: true, value: result.value };
    if (result.error !== undefined)
      return { ok: false, failure: classifyPrivateFailure(result.error) };
    return {
      ok: false,
      failure:
        result.failure.kind === 'deferred' || result.failure.kind === 'no_bot'
          ? { kind: 'transient', description: result.failure.description }
          : result.failure,
    };
  }

  /** A direct answer (best effort, rate-limited per user so a flood gets few answers). */
  async answer(user: ChatUser, text: string, keyboard?: InlineKeyboardMarkup): Promise<void> {
    const { quotas, logger } = this.options;
    try {
      const quota = await quotas.hit(`tg:answers:${user.pseudonym}`, ANSWERS_PER_MINUTE, 60_000);
      if (!quota.allowed) {
        logger.debug('private chat answer skipped: too many answers to this user');
        return;
      }
      const chatId = user.telegramUserId;
      const result = await this.call(user, answerContext(), (api) =>
        api.sendMessage(chatId, text, {
          link_preview_options: { is_disabled: true },
          ...(keyboard ? { reply_markup: keyboard } : {}),
        }),
      );
      if (!result.ok)
        logger.warn({ failure: describe(result.failure) }, 'answer in a private chat not sent');
    } catch (error) {
      logger.warn(
        { failure: error instanceof Error ? error.name : 'unknown' },
        'answer in a private chat not sent',
      );
    }
  }

  /** Answers a button press (the user's client spins until it comes); best effort. */
  async toast(queryId: string, text: string): Promise<void> {
    await this.options.sender
      .direct(undefined, (api) => api.answerCallbackQuery(queryId, text ? { text } : {}))
      .catch((error: unknown) =>
        this.options.logger.warn(
          { failure: describe(classifyPrivateFailure(error)) },
          'answerCallbackQuery failed',
        ),
      );
  }

  /** A call whose failure only costs the user a cosmetic change: a failure is logged. */
  async bestEffort(call: () => Promise<CallResult<unknown>>, what: string): Promise<void> {
    try {
      const result = await call();
      if (!result.ok) this.options.logger.warn({ failure: describe(result.failure) }, what);
    } catch (error) {
      this.options.logger.warn({ failure: describe(classifyPrivateFailure(error)) }, what);
    }
  }
}
