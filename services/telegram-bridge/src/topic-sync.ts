import { RetryLaterError } from '@topicdesk/bus';
import {
  ConversationRepository,
  MessageRepository,
  type Conversation,
  type DB,
  type Kysely,
  type Message,
} from '@topicdesk/data';
import type { Budget, Coordination } from '@topicdesk/fanout';
import type { Logger } from '@topicdesk/telemetry';
import type { Api } from 'grammy';
import { BridgeErrorCode } from './errors';
import type { BridgeMetrics } from './metrics';
import { classifyTelegramError } from './telegram';

/** Telegram's longest text message. */
export const TELEGRAM_TEXT_LIMIT = 4096;
const MERGE_SEPARATOR = '\n\n';
const TOPIC_NAME_LIMIT = 128;
const RETRYING_NOTICE_AFTER_MS = 1500;
const SYNC_LOCK_TTL_MS = 6_000;

export interface TopicSyncOptions {
  db: Kysely<DB>;
  api: Api;
  coordination: Coordination;
  logger: Logger;
  metrics: BridgeMetrics;
  botId: string;
  groupId: number;
  limits: {
    groupPerMinute: number;
    chatPerSecond: number;
    globalPerSecond: number;
    safetyMs: number;
  };
}

/** Pending visitor messages that fit in one Telegram message, oldest first. */
export function mergeBatch(pending: readonly Message[], limit = TELEGRAM_TEXT_LIMIT): Message[] {
  const batch: Message[] = [];
  let length = 0;
  for (const message of pending) {
    const added = (batch.length === 0 ? 0 : MERGE_SEPARATOR.length) + message.text.length;
    if (batch.length > 0 && length + added > limit) break;
    batch.push(message);
    length += added;
  }
  return batch;
}

/** The topic's name: the ticket and a few words of context, within Telegram's 128 characters. */
export function topicName(conversation: Conversation): string {
  let context = conversation.visitor_name ?? conversation.page_title ?? '';
  if (!context && conversation.page_url) {
    try {
      context = new URL(conversation.page_url).host;
    } catch {
      context = '';
    }
  }
  const name = context
    ? `${conversation.ticket} · ${context.replace(/\s+/g, ' ').trim()}`
    : conversation.ticket;
  return [...name].slice(0, TOPIC_NAME_LIMIT).join('');
}

interface SyncContext {
  signal: AbortSignal;
  /** Keeps the bus delivery alive while we wait for budget. */
  working: () => void;
}

/**
 * Brings one conversation's Telegram side up to date with Postgres: its topic exists, every
 * pending visitor message was sent in seq order, and the topic is open or closed like the
 * conversation. Idempotent, and serialised per conversation by a lock shared by all replicas.
 */
export class TopicSync {
  readonly #conversations: ConversationRepository;
  readonly #messages: MessageRepository;

  constructor(private readonly options: TopicSyncOptions) {
    this.#conversations = new ConversationRepository(options.db);
    this.#messages = new MessageRepository(options.db);
  }

  async reconcile(
    tenantId: string,
    conversationId: string,
    working: () => void = () => undefined,
  ): Promise<void> {
    // A short TTL: a replica that dies holding the lock blocks its conversation for seconds only.
    const lock = await this.options.coordination.locks.tryLock(
      `sync:${conversationId}`,
      SYNC_LOCK_TTL_MS,
    );
    if (!lock)
      throw new RetryLaterError(`conversation ${conversationId} is being synced elsewhere`, 250);
    try {
      const context: SyncContext = { signal: lock.signal, working };
      for (;;) {
        lock.signal.throwIfAborted();
        const conversation = await this.#conversations.find(tenantId, conversationId);
        if (!conversation) return;
        if (conversation.topic_id === null) {
          await this.#createTopic(conversation, context);
          continue;
        }
        const pending = await this.#messages.pending(conversationId, 100);
        if (pending.length > 0) {
          if (conversation.topic_closed) await this.#setTopicClosed(conversation, false, context);
          else await this.#send(conversation, mergeBatch(pending), context);
          continue;
        }
        const wantClosed = conversation.status === 'closed';
        if (wantClosed !== conversation.topic_closed) {
          await this.#setTopicClosed(conversation, wantClosed, context);
          continue;
        }
        return;
      }
    } finally {
      await lock.release();
    }
  }

  #budgets(chatId: number): Budget[] {
    const { limits, botId } = this.options;
    const budgets: Budget[] = [
      { key: `tg:bot:${botId}`, limit: limits.globalPerSecond, windowMs: 1000 + limits.safetyMs },
      { key: `tg:chat:${chatId}`, limit: limits.chatPerSecond, windowMs: 1000 + limits.safetyMs },
    ];
    if (chatId < 0)
      budgets.push({
        key: `tg:group:${chatId}`,
        limit: limits.groupPerMinute,
        windowMs: 60_000 + limits.safetyMs,
      });
    return budgets;
  }

  /** Waits for room in every budget of the chat; tells the visitor when a message is held back. */
  async #acquire(chatId: number, context: SyncContext, onLongWait?: () => void): Promise<void> {
    const { coordination, metrics } = this.options;
    let waited = 0;
    let told = false;
    metrics.waitingForBudget.add(1);
    try {
      await coordination.budgets.acquire(this.#budgets(chatId), {
        signal: context.signal,
        onWait: (ms) => {
          waited += ms;
          context.working();
          if (!told && waited >= RETRYING_NOTICE_AFTER_MS && onLongWait) {
            told = true;
            onLongWait();
          }
        },
      });
    } finally {
      metrics.waitingForBudget.add(-1);
    }
  }

  /** Runs a Bot API call under the budgets; returns null when Telegram said 429 (budget penalised). */
  async #call<T>(
    chatId: number,
    context: SyncContext,
    call: () => Promise<T>,
    onLongWait?: () => void,
  ): Promise<T | { failed: ReturnType<typeof classifyTelegramError> }> {
    await this.#acquire(chatId, context, onLongWait);
    context.working();
    try {
      return await call();
    } catch (error) {
      const failure = classifyTelegramError(error);
      if (failure.kind === 'rate_limited') {
        this.options.logger.warn(
          { chatId, retryAfterMs: failure.retryAfterMs },
          'Telegram answered 429; waiting it out',
        );
        await this.options.coordination.budgets.penalize(
          this.#budgets(chatId),
          failure.retryAfterMs,
        );
      }
      return { failed: failure };
    }
  }

  async #createTopic(conversation: Conversation, context: SyncContext): Promise<void> {
    const { api, groupId, logger } = this.options;
    const result = await this.#call(groupId, context, () =>
      api.createForumTopic(groupId, topicName(conversation)),
    );
    if ('failed' in result) {
      const failure = result.failed;
      if (failure.kind === 'rate_limited') return;
      throw new Error(
        `createForumTopic failed: ${'description' in failure ? failure.description : failure.kind}`,
      );
    }
    await this.#conversations.setTopic(
      conversation.tenant_id,
      conversation.id,
      result.message_thread_id,
    );
    logger.info(
      { conversationId: conversation.id, topicId: result.message_thread_id },
      'topic created',
    );
  }

  async #setTopicClosed(
    conversation: Conversation,
    closed: boolean,
    context: SyncContext,
  ): Promise<void> {
    const { api, groupId } = this.options;
    const topicId = conversation.topic_id as number;
    const result = await this.#call(groupId, context, () =>
      closed ? api.closeForumTopic(groupId, topicId) : api.reopenForumTopic(groupId, topicId),
    );
    if (
      typeof result === 'object' &&
      'failed' in result &&
      result.failed.kind !== 'topic_not_modified'
    ) {
      const failure = result.failed;
      if (failure.kind === 'rate_limited') return;
      if (failure.kind === 'topic_missing')
        return this.#conversations.setTopic(conversation.tenant_id, conversation.id, null);
      throw new Error(
        `${closed ? 'close' : 'reopen'}ForumTopic failed: ${'description' in failure ? failure.description : failure.kind}`,
      );
    }
    await this.#conversations.setTopicClosed(conversation.tenant_id, conversation.id, closed);
  }

  async #send(
    conversation: Conversation,
    batch: readonly Message[],
    context: SyncContext,
  ): Promise<void> {
    const { api, groupId, coordination, logger, metrics } = this.options;
    const topicId = conversation.topic_id as number;
    const text = batch.map((m) => m.text).join(MERGE_SEPARATOR);
    const receipt = (state: 'delivered' | 'retrying' | 'failed', code?: string) =>
      Promise.all(
        batch.map((m) =>
          coordination.fanout.publish(conversation.id, {
            type: 'receipt',
            seq: m.seq,
            state,
            ...(code ? { code } : {}),
          }),
        ),
      ).catch((error: unknown) =>
        logger.warn({ err: error, conversationId: conversation.id }, 'receipt not published'),
      );

    const result = await this.#call(
      groupId,
      context,
      () =>
        api.sendMessage(groupId, text, {
          message_thread_id: topicId,
          link_preview_options: { is_disabled: true },
        }),
      () => void receipt('retrying'),
    );
    if (!('failed' in result)) {
      await this.#messages.markDelivered(
        batch.map((m) => m.id),
        groupId,
        result.message_id,
      );
      const now = Date.now();
      for (const message of batch)
        metrics.deliveryLatency.record((now - message.created_at.getTime()) / 1000);
      metrics.messagesOut.add(batch.length, { kind: 'visitor' });
      await receipt('delivered');
      return;
    }
    const failure = result.failed;
    switch (failure.kind) {
      case 'rate_limited':
        await receipt('retrying');
        return;
      case 'topic_missing':
        logger.warn(
          { conversationId: conversation.id, topicId },
          'topic is gone; creating a new one',
        );
        await this.#conversations.setTopic(conversation.tenant_id, conversation.id, null);
        return;
      case 'topic_closed':
        await this.#conversations.setTopicClosed(conversation.tenant_id, conversation.id, true);
        return;
      case 'rejected':
      case 'topic_not_modified':
        logger.error(
          { conversationId: conversation.id, failure },
          'Telegram refused a visitor message',
        );
        await this.#messages.markFailed(
          batch.map((m) => m.id),
          'description' in failure ? failure.description : failure.kind,
        );
        await receipt('failed', BridgeErrorCode.BRIDGE_TELEGRAM_REJECTED);
        return;
      case 'transient':
        await receipt('retrying');
        throw new Error(`sendMessage failed: ${failure.description}`);
      default: {
        const never: never = failure;
        throw new Error(`unhandled failure ${JSON.stringify(never)}`);
      }
    }
  }
}
