import {
  DataRequests,
  PrivateChatDeliveries,
  type AttachmentService,
  PrivateChatIntake,
  PrivateChatUsers,
  UnitOfWork,
  type Conversation,
  type DB,
  type Kysely,
  type PrivateChatOutcome,
  type Publisher,
  type TopicPolicy,
  keyringCipher,
} from '@topicdesk/core';
import type { Coordination } from '@topicdesk/fanout';
import type { Logger } from '@topicdesk/telemetry';
import type { CallbackQuery, Message } from 'grammy/types';
import type { ChannelBots } from '../sender/channel-bots';
import type { TelegramSender } from '../sender/telegram-sender';
import type { SyncContext } from '../sync/topic-sync';
import type { UserKeyring } from '../user-crypto';
import { PrivateChatCalls } from './private-chat/calls';
import { PrivateDataRequests } from './private-chat/data-requests';
import { PrivateChatDeliverer } from './private-chat/delivery';
import { PrivateChatUpdates } from './private-chat/intake';
import type { TelegramFiles } from './telegram-files';
import { DEFAULT_TENANT_ID as TENANT } from '@topicdesk/core';

// The second visitor channel: a Telegram user writes to the bot in a private chat and gets a
// conversation like a widget visitor — a ticket, a topic for the agents, the same seq, history,
// templates, commands and scheduler jobs. The user stays anonymous: their Telegram id exists in
// clear only in this process's memory while an update is handled or a message is sent (see
// user-crypto.ts); agents see the ticket only; the user sees agents by display name.
//
// Core owns every change (PrivateChatIntake, PrivateChatDeliveries); this side parses updates
// (private-chat/intake.ts), makes the calls toward users (private-chat/calls.ts) and delivers
// the agents' side through the conversation's sync (private-chat/delivery.ts).

export {
  parsePrivateCallbackData,
  privateCallbackData,
  ratingKeyboard,
} from './private-chat/buttons';
export { classifyPrivateFailure, type PrivateFailure } from './private-chat/calls';
export { signed } from './private-chat/delivery';
export {
  isPrivateChatUpdate,
  normalizeLanguage,
  parsePrivateCommand,
  PrivateCommand,
} from './private-chat/parse';
export type { PrivateChatOutcome } from '@topicdesk/core';

export interface PrivateChatOptions {
  db: Kysely<DB>;
  /** Whose bot this is: its users and conversations are that tenant's (default: `default`). */
  tenantId?: string | undefined;
  /** Every call toward users goes through the bridge's one sender (main bot: users started it). */
  sender: TelegramSender;
  /** Publishes the outbox rows of each change after its commit (the bridge's OutboxRelay). */
  relay: Publisher;
  coordination: Coordination;
  keyring: UserKeyring;
  logger: Logger;
  botId: string;
  limits: { conversationsPerDay: number; messagesPerHour: number };
  /** Users' photos and documents in; ATTACHMENTS_ALLOWED_TYPES. */
  files: TelegramFiles;
  allowedTypes: readonly string[];
  /** Agents' files out: which a message carries, and their bytes; data requests' files. */
  attachments: Pick<AttachmentService, 'filesOf' | 'open' | 'eraseFilesOf' | 'exportView'>;
  /** DSAR_TOPIC_POLICY: what a user's `/forget` does to the agents' topics. */
  topicPolicy: TopicPolicy;
  /** Bot channels' bots (issue 19): their users' conversations are delivered with them. */
  channelBots?: ChannelBots | undefined;
}

/**
 * The bot's private chat: commands (`/start`, `/support`, `/end`, `/help`, and `/mydata`,
 * `/forget` for the user's own data), buttons (Live support, End, rating, erase), visitor messages with per-user limits, and the delivery of agents'
 * side of a conversation to the user's chat.
 */
export class PrivateChat {
  readonly #updates: PrivateChatUpdates;
  readonly #deliverer: PrivateChatDeliverer;
  readonly #deliveries: PrivateChatDeliveries;
  readonly #users: PrivateChatUsers;

  constructor(options: PrivateChatOptions) {
    const { keyring, logger } = options;
    const uow = new UnitOfWork(options.db, options.relay);
    const calls = new PrivateChatCalls({
      sender: options.sender,
      quotas: options.coordination.quotas,
      logger,
    });
    this.#users = new PrivateChatUsers(uow, keyringCipher(keyring));
    this.#deliveries = new PrivateChatDeliveries(uow);
    const intake = new PrivateChatIntake({
      uow,
      users: this.#users,
      quotas: options.coordination.quotas,
      logger,
      limits: options.limits,
    });
    this.#updates = new PrivateChatUpdates({
      tenantId: options.tenantId ?? TENANT,
      intake,
      calls,
      keyring,
      botId: options.botId,
      files: options.files,
      allowedTypes: options.allowedTypes,
      dataRequests: new PrivateDataRequests({
        requests: new DataRequests(uow, { files: options.attachments }),
        users: this.#users,
        calls,
        topicPolicy: options.topicPolicy,
        botId: options.botId,
        logger,
      }),
    });
    this.#deliverer = new PrivateChatDeliverer({
      deliveries: this.#deliveries,
      attachments: options.attachments,
      calls,
      keyring,
      logger,
      channelBots: options.channelBots,
    });
  }

  /** A message (or an edit) from a private chat; called by the UpdateProcessor, in order. */
  handleMessage(updateId: number, message: Message, edited: boolean): Promise<PrivateChatOutcome> {
    return this.#updates.handleMessage(updateId, message, edited);
  }

  /** A button pressed under one of the bot's messages in a private chat. */
  handleButton(updateId: number, query: CallbackQuery): Promise<PrivateChatOutcome> {
    return this.#updates.handleButton(updateId, query);
  }

  /** The private-chat step of TopicSync.reconcile: one call toward the user, if any is due. */
  deliver(conversation: Conversation, context: SyncContext): Promise<boolean> {
    return this.#deliverer.deliver(conversation, context);
  }

  /** Conversations whose private chat lags (for the bridge's sweep). */
  lagging(olderThan: Date, limit: number): Promise<Array<{ tenant_id: string; id: string }>> {
    return this.#deliveries.lagging(olderThan, limit);
  }

  /**
   * Re-encrypts every user sealed under another key than the current one (after a rotation,
   * with the old key in TELEGRAM_USER_KEY_PREVIOUS). Rows under an unknown key are counted and
   * left as they are.
   */
  reencryptAll(batch?: number): Promise<{ rekeyed: number; unreadable: number }> {
    return this.#users.reencryptAll(batch);
  }
}
