import type { Conversation, TopicState } from '@topicdesk/core';
import type { InlineKeyboardMarkup } from 'grammy/types';
import { SendPriority } from '../sender/telegram-sender';
import { HeaderSteps } from './header-steps';
import { SeenStep } from './seen-step';
import { TopicCalls, type Outcome, type SyncContext, type SyncParts } from './topic-calls';
import { TopicLifecycle } from './topic-lifecycle';
import { TopicMessages } from './topic-messages';
import { planStep, type Step } from './topic-plan';

// What the rest of the bridge uses of the sync, from its one entry.
export type { SyncContext } from './topic-calls';
export { mergeBatch, PinHeader, splitUtf16, TELEGRAM_TEXT_LIMIT } from './topic-plan';

const SYNC_LOCK_TTL_MS = 6_000;
/** Cosmetic calls put off this often in one round are left to the sweep (they hold a delivery). */
const COSMETIC_DEFERRALS = 3;

export interface TopicSyncOptions extends SyncParts {
  /**
   * The private-chat channel (private-chat.ts): for `telegram` conversations, one call toward
   * the user per round, before the topic steps. Absent when TELEGRAM_USER_KEY is unset.
   */
  privateChat?: PrivateChatDelivery | undefined;
}

/** A step of the reconcile toward a private-chat user; true when it made a call. */
export interface PrivateChatDelivery {
  deliver(conversation: Conversation, context: SyncContext): Promise<boolean>;
}

/**
 * Brings one conversation's Telegram side up to date with Postgres: its topic exists, every
 * pending visitor message was sent in seq order, and the topic is open or closed like the
 * conversation. Idempotent, and serialised per conversation by a lock shared by all replicas.
 * Every call goes through the one TelegramSender (budgets, pool, fair order, retries); what
 * went through is recorded by core, which hands back the state the next step plans from.
 */
export class TopicSync {
  readonly #calls: TopicCalls;
  readonly #lifecycle: TopicLifecycle;
  readonly #header: HeaderSteps;
  readonly #messages: TopicMessages;
  readonly #seen: SeenStep;

  constructor(private readonly options: TopicSyncOptions) {
    this.#calls = new TopicCalls(options);
    this.#lifecycle = new TopicLifecycle(this.#calls);
    this.#header = new HeaderSteps(this.#calls);
    this.#messages = new TopicMessages(this.#calls);
    this.#seen = new SeenStep(this.#calls);
  }

  /** The support group a conversation's topic lives in. */
  groupOf(conversation: Conversation): number {
    return this.#calls.groupOf(conversation);
  }

  /**
   * Runs rounds until the conversation is in sync. When another replica holds the
   * conversation, returns at once: the conversation is marked due, and the holder, who takes
   * that mark as it lets go, goes round again, so nothing that arrived meanwhile is missed
   * without reading Postgres after every hold (the argument: `Locker.tryLockDue`). The holder
   * clears the mark as it takes the lock, before its first read: a trigger older than that read
   * needs no round of its own.
   */
  async reconcile(
    tenantId: string,
    conversationId: string,
    working: () => void = () => undefined,
  ): Promise<void> {
    for (;;) {
      // A short TTL: a replica that dies holding the lock blocks its conversation for seconds only.
      const lock = await this.options.coordination.locks.tryLockDue(
        `sync:${conversationId}`,
        SYNC_LOCK_TTL_MS,
      );
      if (!lock) return;
      try {
        await this.#rounds(tenantId, conversationId, { signal: lock.signal, working });
      } catch (error) {
        // The mark stays for whoever looks next (this delivery's retry, a trigger, the sweep).
        await lock.release();
        throw error;
      }
      // Marked while held: someone's change may be newer than the last read; go round again
      // (private-chat work included: a round's first step is the private chat's).
      if (!(await lock.releaseAndTakeDue())) return;
    }
  }

  /**
   * The rounds under the lock. The state is read once, then carried from step to step (each
   * record hands back what it wrote); it is read again only after a step whose effect is not
   * known (a failure, a private-chat call). What others changed meanwhile is seen by another
   * round, when they marked the conversation due.
   */
  async #rounds(tenantId: string, conversationId: string, context: SyncContext): Promise<void> {
    const { delivery, privateChat, pinHeader } = this.options;
    let deferrals = 0;
    let known: TopicState | undefined;
    for (;;) {
      context.signal.throwIfAborted();
      const state = known ?? (await delivery.state(tenantId, conversationId));
      known = undefined;
      if (!state) return;
      const { conversation } = state;
      // Private-chat channel: agents' and system messages (and edits, the rating prompt) go
      // to the user's chat with the bot first, so the user never waits for the group's
      // budget; the step keeps its own cursor (private-chat.ts).
      if (
        conversation.channel === 'telegram' &&
        privateChat &&
        (await privateChat.deliver(conversation, context))
      )
        continue;
      const step = planStep(state, deferrals < COSMETIC_DEFERRALS, pinHeader);
      if (!step) return this.#settled(state, deferrals);
      const outcome = await this.#run(state, step, context);
      if (outcome.deferred) deferrals += 1;
      known = outcome.state;
    }
  }

  /** In sync: the marks of put-off cosmetic work and of a given-up sync follow. */
  async #settled(state: TopicState, deferrals: number): Promise<void> {
    const { delivery, pinHeader } = this.options;
    const { conversation } = state;
    // Cosmetic work put off too often waits for the sweep; the conversation is otherwise done.
    const due = deferrals >= COSMETIC_DEFERRALS && planStep(state, true, pinHeader) !== undefined;
    if (due) await delivery.cosmeticDue(conversation, new Date());
    else if (conversation.cosmetic_due_at) await delivery.cosmeticDue(conversation, null);
    // In sync again after a dead letter: the sweep looks after it again.
    if (conversation.sync_given_up_at) await delivery.syncResumed(conversation);
  }

  /** Runs one step. */
  #run(state: TopicState, step: Step, context: SyncContext): Promise<Outcome> {
    this.options.logger.debug(
      { conversationId: state.conversation.id, step: step.kind },
      'sync step',
    );
    switch (step.kind) {
      case 'create':
        return this.#lifecycle.create(state, context);
      case 'reopen':
        return this.#lifecycle.setClosed(state, false, context);
      case 'header':
        return this.#header.post(state, step.waiting, context);
      case 'post':
        return this.#messages.post(state, step.post, context);
      case 'texts':
        return this.#messages.texts(state, step.batch, context);
      case 'files':
        return this.#messages.files(state, step.message, context);
      case 'close':
        return this.#lifecycle.setClosed(state, true, context);
      case 'header_edit':
        return this.#header.edit(state, context);
      case 'rename':
        return this.#lifecycle.rename(state, context);
      case 'seen':
        return this.#seen.mark(state, step.message, context);
      case 'pin':
        return this.#header.pin(state, context);
      default: {
        const never: never = step;
        throw new Error(`unhandled step ${JSON.stringify(never)}`);
      }
    }
  }

  /**
   * The bus gave up on this conversation's sync (a dead letter): mark it, so the sweep stops
   * retrying it, and tell the agents once — in the topic if there is one, else in General.
   */
  async givenUp(tenantId: string, conversationId: string, reason: string): Promise<void> {
    const conversation = await this.options.delivery.syncGivenUp(tenantId, conversationId);
    if (!conversation) return;
    const text = `⚠️ ${conversation.ticket} could not be brought up to date in Telegram after many tries (${reason.slice(0, 300)}). An operator can replay it from the dead letters of the admin API.`;
    await this.sendOutsideTopic(this.groupOf(conversation), text);
  }

  /**
   * Sends a bot message outside a conversation's post queue (answers in General, /status with
   * its buttons in `threadId`), under the same budgets; best effort: a failure is logged, not
   * retried.
   */
  async sendOutsideTopic(
    chatId: number,
    text: string,
    replyTo?: number,
    extra: { threadId?: number; replyMarkup?: InlineKeyboardMarkup } = {},
  ): Promise<void> {
    const result = await this.options.sender.send({
      method: 'sendMessage',
      chatId,
      priority: SendPriority.normal,
      since: Date.now(),
      signal: AbortSignal.timeout(60_000),
      call: (api) =>
        api.sendMessage(chatId, text, {
          link_preview_options: { is_disabled: true },
          ...(extra.threadId !== undefined ? { message_thread_id: extra.threadId } : {}),
          ...(extra.replyMarkup ? { reply_markup: extra.replyMarkup } : {}),
          ...(replyTo !== undefined
            ? { reply_parameters: { message_id: replyTo, allow_sending_without_reply: true } }
            : {}),
        }),
    });
    if (!result.ok)
      this.options.logger.warn(
        { chatId, failure: result.failure },
        'answer outside a topic not sent',
      );
  }
}
