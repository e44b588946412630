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
import type { Coordination } from '@topicdesk/fanout';
import type { Logger } from '@topicdesk/telemetry';
import { BridgeErrorCode } from '../errors';
import type { BridgeMetrics } from '../metrics';
import { BotRight } from '../sender/bot-pool';
import type { TelegramFailure } from '../sender/telegram-api';
import {
  SendPriority,
  type SendFailure,
  type SendRequest,
  type SendResult,
  type TelegramSender,
} from '../sender/telegram-sender';
import {
  headerKeyboard,
  headerSignature,
  headerText,
  headerWithTexts,
  TELEGRAM_TEXT_LIMIT,
  textsTheHeaderCarries,
  topicName,
} from './topic-presentation';

export { TELEGRAM_TEXT_LIMIT };
const MERGE_SEPARATOR = '\n\n';
const SYNC_LOCK_TTL_MS = 6_000;
/** How long a cosmetic call waits for room before the conversation looks for busier work. */
const COSMETIC_WAIT_MS = 4_000;
/** How long an `auto` pin waits for room before it is skipped (the group is backed up). */
const PIN_WAIT_MS = 1_000;
/** Cosmetic calls put off this often in one round are left to the sweep (they hold a delivery). */
const COSMETIC_DEFERRALS = 3;

/** When the header is pinned: always, never, or only while the group's queue is short. */
export const PinHeader = { auto: 'auto', always: 'always', never: 'never' } as const;
export type PinHeader = (typeof PinHeader)[keyof typeof PinHeader];

export interface TopicSyncOptions {
  db: Kysely<DB>;
  sender: TelegramSender;
  coordination: Coordination;
  logger: Logger;
  metrics: BridgeMetrics;
  /** SUPPORT_GROUP_ID: where conversations routed to no other group live. */
  defaultGroupId: number;
  pinHeader: PinHeader;
  /**
   * The private-chat channel (private-chat.ts): for `telegram` conversations, one call toward
   * the user per round, before the topic steps. Absent when TELEGRAM_USER_KEY is unset.
   */
  privateChat?: PrivateChatDelivery | undefined;
}

/** A step of the reconcile toward a private-chat user; true when it made a call. */
export interface PrivateChatDelivery {
  deliver(conversation: Conversation, context: SyncContext): Promise<boolean>;
  /** Whether anything is due toward the user (read only). */
  due(conversation: Conversation): Promise<boolean>;
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

type Receipt = (state: 'delivered' | 'retrying' | 'failed', code?: string) => Promise<unknown>;

/** What one round of the reconcile does next for a conversation's topic. */
type Step =
  | { kind: 'create' }
  | { kind: 'reopen' }
  | { kind: 'header'; waiting: Message[] }
  | { kind: 'post'; post: TelegramPost }
  | { kind: 'texts'; batch: Message[] }
  | { kind: 'close' }
  | { kind: 'header_edit' }
  | { kind: 'rename' }
  | { kind: 'pin' };

/**
 * Brings one conversation's Telegram side up to date with Postgres: its topic exists, every
 * pending visitor message was sent in seq order, and the topic is open or closed like the
 * conversation. Idempotent, and serialised per conversation by a lock shared by all replicas.
 * Every call goes through the one TelegramSender (budgets, pool, fair order, retries).
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

  /** The support group a conversation's topic lives in. */
  groupOf(conversation: Conversation): number {
    return conversation.group_chat_id ?? this.options.defaultGroupId;
  }

  /**
   * Runs rounds until the conversation is in sync. When another replica holds the
   * conversation, returns at once: the holder looks again after it lets go, so nothing that
   * arrived meanwhile is missed (a look after the release, not before it, closes that race).
   */
  async reconcile(
    tenantId: string,
    conversationId: string,
    working: () => void = () => undefined,
  ): Promise<void> {
    for (;;) {
      // A short TTL: a replica that dies holding the lock blocks its conversation for seconds only.
      const lock = await this.options.coordination.locks.tryLock(
        `sync:${conversationId}`,
        SYNC_LOCK_TTL_MS,
      );
      if (!lock) return;
      try {
        await this.#rounds(tenantId, conversationId, { signal: lock.signal, working });
      } finally {
        await lock.release();
      }
      if (!(await this.#due(tenantId, conversationId))) return;
    }
  }

  async #due(tenantId: string, conversationId: string): Promise<boolean> {
    const conversation = await this.#conversations.find(tenantId, conversationId);
    if (!conversation) return false;
    if (
      conversation.channel === 'telegram' &&
      this.options.privateChat &&
      (await this.options.privateChat.due(conversation))
    )
      return true;
    // Cosmetic work counts too (a visitor's new name is nothing else), unless it was put off
    // under load already: then the sweep brings it back, not this loop.
    const step = await this.#plan(conversation, conversation.cosmetic_due_at === null);
    return step !== undefined;
  }

  async #rounds(tenantId: string, conversationId: string, context: SyncContext): Promise<void> {
    let deferrals = 0;
    for (;;) {
      context.signal.throwIfAborted();
      const conversation = await this.#conversations.find(tenantId, conversationId);
      if (!conversation) return;
      // Private-chat channel: agents' and system messages (and edits, the rating prompt) go
      // to the user's chat with the bot first, so the user never waits for the group's
      // budget; the step keeps its own cursor (private-chat.ts).
      if (
        conversation.channel === 'telegram' &&
        this.options.privateChat &&
        (await this.options.privateChat.deliver(conversation, context))
      ) {
        continue;
      }
      const step = await this.#plan(conversation, deferrals < COSMETIC_DEFERRALS);
      if (!step) {
        // Cosmetic work put off too often waits for the sweep; the conversation is otherwise done.
        const due = deferrals >= COSMETIC_DEFERRALS && (await this.#plan(conversation, true));
        if (due) await this.#conversations.setCosmeticDue(tenantId, conversationId, new Date());
        else if (conversation.cosmetic_due_at)
          await this.#conversations.setCosmeticDue(tenantId, conversationId, null);
        // In sync again after a dead letter: the sweep looks after it again.
        if (conversation.sync_given_up_at)
          await this.#conversations.setSyncGivenUp(tenantId, conversationId, null);
        return;
      }
      const done = await this.#run(conversation, step, context);
      if (!done) deferrals += 1;
    }
  }

  /**
   * The next step, in the order that matters: the topic exists and is open while anything is
   * to be posted; the header (carrying the first texts) comes first; posts and texts in
   * order; closing; then how the topic looks — which is left out when `cosmetic` is false.
   */
  async #plan(conversation: Conversation, cosmetic: boolean): Promise<Step | undefined> {
    if (conversation.topic_id === null) return { kind: 'create' };
    const posts = await this.#posts.pending(conversation.id);
    const pending = posts.length > 0 ? [] : await this.#messages.pending(conversation.id, 100);
    const wantClosed =
      conversation.status === 'closed' && posts.length === 0 && pending.length === 0;
    if (conversation.topic_closed && !wantClosed) return { kind: 'reopen' };
    // A closed topic that should stay closed is left alone (edits there could bounce).
    const editable = !conversation.topic_closed;
    if (editable && conversation.header_message_id === null)
      return { kind: 'header', waiting: pending };
    if (posts[0]) return { kind: 'post', post: posts[0] };
    if (pending.length > 0) return { kind: 'texts', batch: mergeBatch(pending) };
    // Closing shows its new header and name before the topic closes: they are part of closing.
    const closing = wantClosed && !conversation.topic_closed;
    if (editable && (cosmetic || closing)) {
      if (conversation.header_text !== headerSignature(conversation))
        return { kind: 'header_edit' };
      if (conversation.topic_name !== topicName(conversation)) return { kind: 'rename' };
    }
    if (closing) return { kind: 'close' };
    if (
      cosmetic &&
      editable &&
      !conversation.header_pinned &&
      conversation.header_message_id !== null &&
      this.options.pinHeader !== PinHeader.never
    )
      return { kind: 'pin' };
    return undefined;
  }

  /** Runs one step; false when a cosmetic call was put off for lack of room. */
  async #run(conversation: Conversation, step: Step, context: SyncContext): Promise<boolean> {
    this.options.logger.debug({ conversationId: conversation.id, step: step.kind }, 'sync step');
    switch (step.kind) {
      case 'create':
        await this.#createTopic(conversation, context);
        return true;
      case 'reopen':
        await this.#setTopicClosed(conversation, false, context);
        return true;
      case 'header':
        await this.#postHeader(conversation, step.waiting, context);
        return true;
      case 'post':
        await this.#sendPost(conversation, step.post, context);
        return true;
      case 'texts':
        await this.#send(conversation, step.batch, context);
        return true;
      case 'close':
        await this.#setTopicClosed(conversation, true, context);
        return true;
      case 'header_edit':
        return this.#editHeader(conversation, context);
      case 'rename':
        return this.#renameTopic(conversation, context);
      case 'pin':
        return this.#pinHeader(conversation, context);
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
    const conversation = await this.#conversations.find(tenantId, conversationId);
    if (!conversation) return;
    await this.#conversations.setSyncGivenUp(tenantId, conversationId, new Date());
    const text = `⚠️ ${conversation.ticket} could not be brought up to date in Telegram after many tries (${reason.slice(0, 300)}). An operator can replay it from the dead letters of the admin API.`;
    await this.sendOutsideTopic(this.groupOf(conversation), text);
  }

  /**
   * Sends a bot message outside any conversation topic (answers in General), under the same
   * budgets; best effort: a failure is logged, not retried.
   */
  async sendOutsideTopic(chatId: number, text: string, replyTo?: number): Promise<void> {
    const result = await this.options.sender.send({
      method: 'sendMessage',
      chatId,
      priority: SendPriority.normal,
      since: Date.now(),
      signal: AbortSignal.timeout(60_000),
      call: (api) =>
        api.sendMessage(chatId, text, {
          link_preview_options: { is_disabled: true },
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

  /** One call into the conversation's group through the sender. */
  #call<T>(
    conversation: Conversation,
    purpose: string,
    context: SyncContext,
    request: Omit<SendRequest<T>, 'chatId' | 'conversationId' | 'signal' | 'working' | 'method'> & {
      method: string;
    },
  ): Promise<SendResult<T>> {
    this.options.metrics.groupCalls.add(1, { purpose });
    return this.options.sender.send({
      ...request,
      chatId: this.groupOf(conversation),
      conversationId: conversation.id,
      signal: context.signal,
      working: context.working,
    });
  }

  /** Cosmetic work goes in line behind everything else; closing makes it part of the turn. */
  #cosmetic(
    conversation: Conversation,
  ): Pick<SendRequest<unknown>, 'priority' | 'since' | 'maxWaitMs'> {
    const closing = conversation.status === 'closed' && !conversation.topic_closed;
    return closing
      ? { priority: SendPriority.normal, since: (conversation.closed_at ?? new Date()).getTime() }
      : { priority: SendPriority.cosmetic, since: Date.now(), maxWaitMs: COSMETIC_WAIT_MS };
  }

  async #createTopic(conversation: Conversation, context: SyncContext): Promise<void> {
    const { logger } = this.options;
    const groupId = this.groupOf(conversation);
    let name = topicName(conversation);
    let result = await this.#create(conversation, name, context);
    if (!result.ok && result.failure.kind === 'rejected') {
      // A name Telegram refuses must not keep the conversation from its topic: the ticket alone.
      logger.warn(
        { conversationId: conversation.id, failure: result.failure },
        'topic name refused; creating the topic with the ticket only',
      );
      name = `${topicName({ ...conversation, visitor_name: null, page_title: null, page_url: null })}`;
      result = await this.#create(conversation, name, context);
    }
    if (!result.ok) throw failed('createForumTopic', result.failure);
    await this.#conversations.setTopic(
      conversation.tenant_id,
      conversation.id,
      result.value.message_thread_id,
      name,
    );
    logger.info(
      {
        conversationId: conversation.id,
        topicId: result.value.message_thread_id,
        groupId,
        botId: result.bot.id,
      },
      'topic created',
    );
  }

  #create(conversation: Conversation, name: string, context: SyncContext) {
    const groupId = this.groupOf(conversation);
    return this.#call(conversation, 'topic', context, {
      method: 'createForumTopic',
      priority: SendPriority.normal,
      // A new conversation is visible once its header is: that comes right after, not behind
      // everyone's next turn.
      since: conversation.created_at.getTime(),
      endsTurn: false,
      needs: BotRight.topics,
      call: (api) => api.createForumTopic(groupId, name),
    });
  }

  /**
   * Posts the header into a new topic, with the first visitor texts under it when they fit:
   * a new conversation costs two group calls (topic, header) instead of four. The texts are
   * read when the header's turn comes, not when it was queued: under load, everything the
   * visitor wrote while it waited goes with it.
   */
  async #postHeader(
    conversation: Conversation,
    waiting: readonly Message[],
    context: SyncContext,
  ): Promise<void> {
    const groupId = this.groupOf(conversation);
    const topicId = conversation.topic_id as number;
    let carried: Message[] = [];
    const sent = await this.#call(conversation, 'header', context, {
      method: 'sendMessage',
      priority: SendPriority.normal,
      // The visitor waits from the conversation's start (their texts come after it).
      since: conversation.created_at.getTime(),
      onLongWait:
        waiting.length > 0
          ? () => void this.#receipts(conversation, waiting)('retrying')
          : undefined,
      call: async (api) => {
        // Only while the topic is still the one this header goes to (a topic found deleted
        // meanwhile is made again, and the texts go with the new one's header).
        const now = await this.#conversations.find(conversation.tenant_id, conversation.id);
        const pending =
          now?.topic_id === topicId ? await this.#messages.pending(conversation.id, 100) : [];
        carried = pending.slice(0, textsTheHeaderCarries(pending.map((m) => m.text)));
        return api.sendMessage(
          groupId,
          headerWithTexts(
            headerText(conversation),
            carried.map((m) => m.text),
          ),
          {
            message_thread_id: topicId,
            reply_markup: headerKeyboard(conversation),
            link_preview_options: { is_disabled: true },
          },
        );
      },
    });
    if (!sent.ok) return this.#onFailure(conversation, sent.failure, 'header');
    await this.options.db.transaction().execute(async (trx) => {
      await new ConversationRepository(trx).setHeader(
        conversation.tenant_id,
        conversation.id,
        sent.value.message_id,
        headerSignature(conversation),
        { botId: sent.bot.id },
      );
      await new MessageRepository(trx).markDelivered(
        carried.map((m) => m.id),
        groupId,
        sent.value.message_id,
        sent.bot.id,
      );
    });
    if (carried.length > 0)
      await this.#delivered(conversation, carried, this.#receipts(conversation, carried));
    // Pinned right away only when asked always; otherwise a later, cosmetic step.
    if (this.options.pinHeader === PinHeader.always)
      await this.#pinHeader({ ...conversation, header_message_id: sent.value.message_id }, context);
  }

  async #pinHeader(conversation: Conversation, context: SyncContext): Promise<boolean> {
    const groupId = this.groupOf(conversation);
    const messageId = conversation.header_message_id as number;
    const always = this.options.pinHeader === PinHeader.always;
    const result = await this.#call(conversation, 'pin', context, {
      method: 'pinChatMessage',
      // `auto`: only when the group has room within a moment and nothing else waits for it —
      // while it is backed up the pin is skipped for good (the header is the topic's first
      // message anyway), so it never costs a visitor's text its turn.
      ...(always
        ? { priority: SendPriority.normal, since: Date.now() }
        : { priority: SendPriority.cosmetic, since: Date.now(), maxWaitMs: PIN_WAIT_MS }),
      needs: BotRight.pin,
      call: (api) => api.pinChatMessage(groupId, messageId, { disable_notification: true }),
    });
    if (!result.ok && result.failure.kind === 'deferred') {
      this.options.logger.debug(
        { conversationId: conversation.id },
        'header not pinned: the group is busy',
      );
    } else if (!result.ok) {
      // Pinning is a nicety: a refusal, or no bot with the pin right in this group, must not
      // block the conversation nor come back forever: the header stays unpinned.
      this.options.logger.warn(
        { conversationId: conversation.id, failure: result.failure },
        'could not pin the topic header',
      );
    }
    await this.#conversations.setHeaderPinned(conversation.tenant_id, conversation.id);
    return true;
  }

  async #editHeader(conversation: Conversation, context: SyncContext): Promise<boolean> {
    const groupId = this.groupOf(conversation);
    const messageId = conversation.header_message_id as number;
    const bot = conversation.header_bot_id ?? this.options.sender.pool.main.id;
    if (!this.options.sender.pool.bot(bot)) {
      // The bot that posted it is no longer configured: nobody can edit it; post a new one.
      await this.#conversations.setHeader(conversation.tenant_id, conversation.id, null, null);
      return true;
    }
    const carried = await this.#messages.carriedBy(conversation.id, groupId, messageId);
    const text = headerWithTexts(
      headerText(conversation),
      carried.map((m) => m.text),
    );
    const result = await this.#call(conversation, 'header_edit', context, {
      method: 'editMessageText',
      ...this.#cosmetic(conversation),
      // Only the bot that sent a message can edit it.
      bot,
      call: (api) =>
        api.editMessageText(groupId, messageId, text, {
          reply_markup: headerKeyboard(conversation),
          link_preview_options: { is_disabled: true },
        }),
    });
    if (!result.ok) {
      const failure = result.failure;
      if (failure.kind === 'deferred') return false;
      if (failure.kind === 'no_bot') {
        // The bot that posted the header may no longer post there: a new header, by another.
        await this.#conversations.setHeader(conversation.tenant_id, conversation.id, null, null);
        return true;
      }
      if (failure.kind === 'rejected' && /not modified/i.test(failure.description)) {
        // Already showing this: record it.
      } else if (failure.kind === 'rejected' && /not found/i.test(failure.description)) {
        // The header was deleted by someone: post a new one.
        await this.#conversations.setHeader(conversation.tenant_id, conversation.id, null, null);
        return true;
      } else if (failure.kind === 'rejected') {
        // Cosmetic: a header Telegram refuses must not hold the conversation's messages back.
        this.options.logger.warn(
          { conversationId: conversation.id, failure },
          'header edit refused; left as is',
        );
      } else {
        await this.#onFailure(conversation, failure, 'header edit');
        return true;
      }
    }
    await this.#conversations.setHeader(
      conversation.tenant_id,
      conversation.id,
      conversation.header_message_id,
      headerSignature(conversation),
    );
    return true;
  }

  async #renameTopic(conversation: Conversation, context: SyncContext): Promise<boolean> {
    const groupId = this.groupOf(conversation);
    const topicId = conversation.topic_id as number;
    // Built when room is granted is not possible through a closure over a stale row, so the
    // name is the latest at the time of asking; a newer one is a new round (superseded).
    const name = topicName(conversation);
    const result = await this.#call(conversation, 'rename', context, {
      method: 'editForumTopic',
      ...this.#cosmetic(conversation),
      needs: BotRight.topics,
      call: (api) => api.editForumTopic(groupId, topicId, { name }),
    });
    if (!result.ok && result.failure.kind === 'deferred') return false;
    if (!result.ok && result.failure.kind !== 'topic_not_modified') {
      if (result.failure.kind !== 'rejected') {
        await this.#onFailure(conversation, result.failure, 'rename');
        return true;
      }
      // Cosmetic: a name Telegram refuses must not hold the conversation's messages back.
      this.options.logger.warn(
        { conversationId: conversation.id, failure: result.failure },
        'topic rename refused; left as is',
      );
    }
    await this.#conversations.setTopicName(conversation.tenant_id, conversation.id, name);
    return true;
  }

  /** A bot post (system message, command answer), pinned when asked. */
  async #sendPost(
    conversation: Conversation,
    post: TelegramPost,
    context: SyncContext,
  ): Promise<void> {
    const groupId = this.groupOf(conversation);
    const sent = await this.#call(conversation, 'post', context, {
      method: 'sendMessage',
      priority: SendPriority.normal,
      since: post.created_at.getTime(),
      call: (api) =>
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
    });
    if (!sent.ok) {
      if (sent.failure.kind === 'rejected') {
        // Telegram will never take it: drop the post (it is not a visitor message) and say so.
        this.options.logger.error(
          { conversationId: conversation.id, failure: sent.failure },
          'Telegram refused a bot post',
        );
        await this.#posts.markSent(post.id, null);
        return;
      }
      return this.#onFailure(conversation, sent.failure, 'post');
    }
    await this.#posts.markSent(post.id, sent.value.message_id, sent.bot.id);
    if (post.pin) {
      const pinned = await this.#call(conversation, 'pin', context, {
        method: 'pinChatMessage',
        priority: SendPriority.cosmetic,
        since: Date.now(),
        maxWaitMs: COSMETIC_WAIT_MS,
        needs: BotRight.pin,
        call: (api) =>
          api.pinChatMessage(groupId, sent.value.message_id, { disable_notification: true }),
      });
      if (!pinned.ok)
        this.options.logger.warn(
          { conversationId: conversation.id, failure: pinned.failure },
          'could not pin a post',
        );
    }
  }

  /** Shared handling of a failed topic call; throws when only a later retry can help. */
  async #onFailure(conversation: Conversation, failure: SendFailure, what: string): Promise<void> {
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
      case 'deferred':
      case 'no_bot':
        throw failed(what, failure);
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
    const groupId = this.groupOf(conversation);
    const topicId = conversation.topic_id as number;
    const result = await this.#call(conversation, closed ? 'close' : 'reopen', context, {
      method: closed ? 'closeForumTopic' : 'reopenForumTopic',
      priority: SendPriority.normal,
      since: (closed
        ? (conversation.closed_at ?? conversation.updated_at)
        : conversation.updated_at
      ).getTime(),
      needs: BotRight.topics,
      call: (api) =>
        closed ? api.closeForumTopic(groupId, topicId) : api.reopenForumTopic(groupId, topicId),
    });
    if (!result.ok && result.failure.kind !== 'topic_not_modified') {
      const failure = result.failure;
      if (failure.kind === 'rate_limited') return;
      if (failure.kind === 'topic_missing')
        return this.#conversations.setTopic(conversation.tenant_id, conversation.id, null);
      throw failed(closed ? 'closeForumTopic' : 'reopenForumTopic', failure);
    }
    await this.#conversations.setTopicClosed(conversation.tenant_id, conversation.id, closed);
  }

  /**
   * Telegram will never take these texts (a permanent 400): they are failed for good — the
   * visitor gets a `failed` receipt — and the agents are told once per conversation, in the
   * topic, that something the visitor wrote did not arrive. Nothing else waits on them.
   */
  async #refused(
    conversation: Conversation,
    batch: readonly Message[],
    failure: SendFailure,
  ): Promise<void> {
    const reason = 'description' in failure ? failure.description : failure.kind;
    await this.options.db.transaction().execute(async (trx) => {
      const messages = new MessageRepository(trx);
      const first = !(await messages.anyFailed(conversation.id));
      await messages.markFailed(
        batch.map((m) => m.id),
        reason,
      );
      if (first)
        await new TelegramPostRepository(trx).add([
          {
            tenantId: conversation.tenant_id,
            conversationId: conversation.id,
            text: `⚠️ A visitor message could not be shown here: Telegram refused it (${reason.slice(0, 200)}). The visitor was told it was not delivered.`,
          },
        ]);
    });
  }

  /** Publishes receipts for these visitor messages; a failure to publish is only logged. */
  #receipts(conversation: Conversation, batch: readonly Message[]): Receipt {
    const { coordination, logger } = this.options;
    return (state: 'delivered' | 'retrying' | 'failed', code?: string) =>
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
  }

  async #delivered(
    conversation: Conversation,
    batch: readonly Message[],
    receipt: Receipt,
  ): Promise<void> {
    const { metrics } = this.options;
    const now = Date.now();
    for (const message of batch)
      metrics.deliveryLatency.record((now - message.created_at.getTime()) / 1000);
    metrics.messagesOut.add(batch.length, { kind: 'visitor' });
    await receipt('delivered');
  }

  async #send(
    conversation: Conversation,
    batch: readonly Message[],
    context: SyncContext,
  ): Promise<void> {
    const { logger } = this.options;
    const groupId = this.groupOf(conversation);
    const topicId = conversation.topic_id as number;
    const since = Math.min(...batch.map((m) => m.created_at.getTime()));
    const receipt = this.#receipts(conversation, batch);
    const sendText = (text: string, onLongWait?: () => void) =>
      this.#call(conversation, 'text', context, {
        method: 'sendMessage',
        priority: SendPriority.normal,
        since,
        onLongWait,
        call: (api) =>
          api.sendMessage(groupId, text, {
            message_thread_id: topicId,
            link_preview_options: { is_disabled: true },
          }),
      });
    // A visitor may write 4,000 characters that take more than Telegram's 4,096 UTF-16 units
    // (emoji): such a text goes out in parts, the last one recording the delivery.
    const parts = splitUtf16(batch.map((m) => m.text).join(MERGE_SEPARATOR), TELEGRAM_TEXT_LIMIT);
    for (const part of parts.slice(0, -1)) {
      const sent = await sendText(part);
      if (!sent.ok) return this.#onFailure(conversation, sent.failure, 'send part');
    }
    const result = await sendText(parts[parts.length - 1] ?? '', () => void receipt('retrying'));
    if (result.ok) {
      await this.#messages.markDelivered(
        batch.map((m) => m.id),
        groupId,
        result.value.message_id,
        result.bot.id,
      );
      await this.#delivered(conversation, batch, receipt);
      return;
    }
    const failure = result.failure;
    switch (failure.kind) {
      case 'rate_limited':
      case 'deferred':
        await receipt('retrying');
        if (failure.kind === 'deferred') throw failed('sendMessage', failure);
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
        await this.#refused(conversation, batch, failure);
        await receipt('failed', BridgeErrorCode.BRIDGE_TELEGRAM_REJECTED);
        return;
      case 'transient':
      case 'no_bot':
        // No bot may post there now (an operator fixes membership): the text waits.
        await receipt('retrying');
        throw failed('sendMessage', failure);
      default: {
        const never: never = failure;
        throw new Error(`unhandled failure ${JSON.stringify(never)}`);
      }
    }
  }
}

/** The error a round throws so the bus retries it later (never the GrammyError: it holds ids). */
function failed(what: string, failure: SendFailure | TelegramFailure): Error {
  return new Error(
    `${what} failed: ${'description' in failure ? failure.description : failure.kind}`,
  );
}
