import { RetryLaterError } from '@topicdesk/bus';
import {
  ConversationRepository,
  MessageRepository,
  type Conversation,
  type DB,
  type Kysely,
  type Message,
  type TelegramPost,
  TelegramPostRepository,
} from '@topicdesk/data';
import type { Budget, Coordination } from '@topicdesk/fanout';
import type { Logger } from '@topicdesk/telemetry';
import type { Api } from 'grammy';
import { BridgeErrorCode } from '../errors';
import type { BridgeMetrics } from '../metrics';
import { classifyTelegramError } from '../sender/telegram-api';
import { headerKeyboard, headerSignature, headerText, topicName } from './topic-presentation';

/** Telegram's longest text message. */
export const TELEGRAM_TEXT_LIMIT = 4096;
const MERGE_SEPARATOR = '\n\n';
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

/** Splits a text into parts of at most `limit` UTF-16 units, never inside a character. */
export function splitUtf16(text: string, limit: number): string[] {
  if (text.length <= limit) return [text];
  const parts: string[] = [];
  let current = '';
  for (const char of text) {
    if (current.length + char.length > limit) {
      parts.push(current);
      current = '';
    }
    current += char;
  }
  if (current) parts.push(current);
  return parts;
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

export interface SyncContext {
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
  readonly #posts: TelegramPostRepository;

  constructor(private readonly options: TopicSyncOptions) {
    this.#conversations = new ConversationRepository(options.db);
    this.#messages = new MessageRepository(options.db);
    this.#posts = new TelegramPostRepository(options.db);
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
      // Order matters: the topic exists, is open while anything is to be posted, shows the
      // right header and name, receives posts and messages in order, and is closed last.
      for (;;) {
        lock.signal.throwIfAborted();
        const conversation = await this.#conversations.find(tenantId, conversationId);
        if (!conversation) return;
        // Private-chat channel: agents' and system messages (and edits, the rating prompt) go
        // to the user's chat with the bot first, so the user never waits for the group's
        // 20-per-minute budget; the step keeps its own cursor and budgets (private-chat.ts).
        if (
          conversation.channel === 'telegram' &&
          this.options.privateChat &&
          (await this.options.privateChat.deliver(conversation, context))
        ) {
          continue;
        }
        if (conversation.topic_id === null) {
          await this.#createTopic(conversation, context);
          continue;
        }
        const posts = await this.#posts.pending(conversationId);
        const pending = posts.length > 0 ? [] : await this.#messages.pending(conversationId, 100);
        const wantClosed =
          conversation.status === 'closed' && posts.length === 0 && pending.length === 0;
        this.options.logger.debug(
          {
            conversationId,
            topicClosed: conversation.topic_closed,
            header: conversation.header_message_id,
            headerStale: conversation.header_text !== headerSignature(conversation),
            nameStale: conversation.topic_name !== topicName(conversation),
            posts: posts.length,
            pending: pending.length,
            wantClosed,
          },
          'sync step',
        );
        if (conversation.topic_closed && !wantClosed) {
          await this.#setTopicClosed(conversation, false, context);
          continue;
        }
        // A closed topic that should stay closed is left alone (edits there could bounce).
        const editable = !conversation.topic_closed;
        if (editable && conversation.header_message_id === null) {
          await this.#postHeader(conversation, context);
          continue;
        }
        if (editable && conversation.header_text !== headerSignature(conversation)) {
          await this.#editHeader(conversation, context);
          continue;
        }
        if (editable && conversation.topic_name !== topicName(conversation)) {
          await this.#renameTopic(conversation, context);
          continue;
        }
        if (posts[0]) {
          await this.#sendPost(conversation, posts[0], context);
          continue;
        }
        if (pending.length > 0) {
          await this.#send(conversation, mergeBatch(pending), context);
          continue;
        }
        if (wantClosed && !conversation.topic_closed) {
          await this.#setTopicClosed(conversation, true, context);
          continue;
        }
        return;
      }
    } finally {
      await lock.release();
    }
  }

  /**
   * Sends a bot message outside any conversation topic (answers in General), under the same
   * budgets; best effort: a failure is logged, not retried.
   */
  async sendOutsideTopic(chatId: number, text: string, replyTo?: number): Promise<void> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 60_000);
    try {
      const result = await this.#call(
        chatId,
        { signal: controller.signal, working: () => undefined },
        () =>
          this.options.api.sendMessage(chatId, text, {
            link_preview_options: { is_disabled: true },
            ...(replyTo !== undefined
              ? { reply_parameters: { message_id: replyTo, allow_sending_without_reply: true } }
              : {}),
          }),
      );
      if ('failed' in result)
        this.options.logger.warn(
          { chatId, failure: result.failed },
          'answer outside a topic not sent',
        );
    } finally {
      clearTimeout(timer);
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
    const name = topicName(conversation);
    const result = await this.#call(groupId, context, () => api.createForumTopic(groupId, name));
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
      name,
    );
    logger.info(
      { conversationId: conversation.id, topicId: result.message_thread_id },
      'topic created',
    );
  }

  /** Posts the header into a new topic and pins it. */
  async #postHeader(conversation: Conversation, context: SyncContext): Promise<void> {
    const { api, groupId } = this.options;
    const topicId = conversation.topic_id as number;
    const sent = await this.#call(groupId, context, () =>
      api.sendMessage(groupId, headerText(conversation), {
        message_thread_id: topicId,
        reply_markup: headerKeyboard(conversation),
        link_preview_options: { is_disabled: true },
      }),
    );
    if ('failed' in sent) return this.#onFailure(conversation, sent.failed, 'header');
    await this.#conversations.setHeader(
      conversation.tenant_id,
      conversation.id,
      sent.message_id,
      headerSignature(conversation),
    );
    // Pinning is a nicety: a refusal (no pin right) must not block the conversation.
    await api
      .pinChatMessage(groupId, sent.message_id, { disable_notification: true })
      .catch((error: unknown) => {
        this.options.logger.warn(
          { err: error, conversationId: conversation.id },
          'could not pin the topic header',
        );
      });
  }

  async #editHeader(conversation: Conversation, context: SyncContext): Promise<void> {
    const { api, groupId } = this.options;
    const result = await this.#call(groupId, context, () =>
      api.editMessageText(
        groupId,
        conversation.header_message_id as number,
        headerText(conversation),
        {
          reply_markup: headerKeyboard(conversation),
          link_preview_options: { is_disabled: true },
        },
      ),
    );
    if (typeof result === 'object' && 'failed' in result) {
      const failure = result.failed;
      if (failure.kind === 'rejected' && /not modified/i.test(failure.description)) {
        // Already showing this: record it.
      } else if (failure.kind === 'rejected' && /not found/i.test(failure.description)) {
        // The header was deleted by someone: post a new one.
        await this.#conversations.setHeader(conversation.tenant_id, conversation.id, null, null);
        return;
      } else if (failure.kind === 'rejected') {
        // Cosmetic: a header Telegram refuses must not hold the conversation's messages back.
        this.options.logger.warn(
          { conversationId: conversation.id, failure },
          'header edit refused; left as is',
        );
      } else {
        return this.#onFailure(conversation, failure, 'header edit');
      }
    }
    await this.#conversations.setHeader(
      conversation.tenant_id,
      conversation.id,
      conversation.header_message_id,
      headerSignature(conversation),
    );
  }

  async #renameTopic(conversation: Conversation, context: SyncContext): Promise<void> {
    const { api, groupId } = this.options;
    const name = topicName(conversation);
    const result = await this.#call(groupId, context, () =>
      api.editForumTopic(groupId, conversation.topic_id as number, { name }),
    );
    if (
      typeof result === 'object' &&
      'failed' in result &&
      result.failed.kind !== 'topic_not_modified'
    ) {
      if (result.failed.kind !== 'rejected')
        return this.#onFailure(conversation, result.failed, 'rename');
      // Cosmetic: a name Telegram refuses must not hold the conversation's messages back.
      this.options.logger.warn(
        { conversationId: conversation.id, failure: result.failed },
        'topic rename refused; left as is',
      );
    }
    await this.#conversations.setTopicName(conversation.tenant_id, conversation.id, name);
  }

  /** A bot post (system message, command answer), pinned when asked. */
  async #sendPost(
    conversation: Conversation,
    post: TelegramPost,
    context: SyncContext,
  ): Promise<void> {
    const { api, groupId } = this.options;
    const sent = await this.#call(groupId, context, () =>
      api.sendMessage(groupId, post.text, {
        message_thread_id: conversation.topic_id as number,
        link_preview_options: { is_disabled: true },
        ...(post.reply_to_message_id !== null
          ? {
              reply_parameters: {
                message_id: post.reply_to_message_id,
                allow_sending_without_reply: true,
              },
            }
          : {}),
      }),
    );
    if ('failed' in sent) {
      if (sent.failed.kind === 'rejected') {
        // Telegram will never take it: drop the post (it is not a visitor message) and say so.
        this.options.logger.error(
          { conversationId: conversation.id, failure: sent.failed },
          'Telegram refused a bot post',
        );
        await this.#posts.markSent(post.id, null);
        return;
      }
      return this.#onFailure(conversation, sent.failed, 'post');
    }
    await this.#posts.markSent(post.id, sent.message_id);
    if (post.pin) {
      await api
        .pinChatMessage(groupId, sent.message_id, { disable_notification: true })
        .catch((error: unknown) => {
          this.options.logger.warn(
            { err: error, conversationId: conversation.id },
            'could not pin a post',
          );
        });
    }
  }

  /** Shared handling of a failed topic call; throws when only a later retry can help. */
  async #onFailure(
    conversation: Conversation,
    failure: ReturnType<typeof classifyTelegramError>,
    what: string,
  ): Promise<void> {
    switch (failure.kind) {
      case 'rate_limited':
      case 'topic_not_modified':
        return;
      case 'topic_missing':
        this.options.logger.warn(
          { conversationId: conversation.id },
          'topic is gone; creating a new one',
        );
        return this.#conversations.setTopic(conversation.tenant_id, conversation.id, null);
      case 'topic_closed':
        return this.#conversations.setTopicClosed(conversation.tenant_id, conversation.id, true);
      case 'rejected':
      case 'transient':
        throw new Error(`${what} failed: ${failure.description}`);
      default: {
        const never: never = failure;
        throw new Error(`unhandled failure ${JSON.stringify(never)}`);
      }
    }
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
    // A visitor may write 4,000 characters that take more than Telegram's 4,096 UTF-16 units
    // (emoji): such a text goes out in parts, the last one recording the delivery.
    const parts = splitUtf16(batch.map((m) => m.text).join(MERGE_SEPARATOR), TELEGRAM_TEXT_LIMIT);
    for (const part of parts.slice(0, -1)) {
      const sent = await this.#call(groupId, context, () =>
        api.sendMessage(groupId, part, {
          message_thread_id: topicId,
          link_preview_options: { is_disabled: true },
        }),
      );
      if ('failed' in sent) return this.#onFailure(conversation, sent.failed, 'send part');
    }
    const text = parts[parts.length - 1] ?? '';
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
