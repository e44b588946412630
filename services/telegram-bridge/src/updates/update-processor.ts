import {
  AgentDesk,
  formatDuration,
  isPresence,
  teamStatsText,
  UnitOfWork,
  type Conversation,
  type DB,
  type DeskOutcome,
  type Kysely,
  type AssignmentOptions,
  type OutboxRelay,
  type UnknownAgentName,
  type UpdateRef,
} from '@topicdesk/core';
import { tenantLabel, type Logger } from '@topicdesk/telemetry';
import type { CallbackQuery, Message, Update } from 'grammy/types';
import { parseCommand, HELP_GENERAL, type Command } from './commands';
import type { BridgeMetrics } from '../metrics';
import type { PrivateChat } from './private-chat';
import { isConsoleCommand, type ConsoleSignIn } from './console-sign-in';
import { parseCallbackData } from '../sync/topic-presentation';
import { parsePresenceData, PresenceAnswers } from './presence';
import type { TelegramSender } from '../sender/telegram-sender';
import type { TopicSync } from '../sync/topic-sync';
import { fileOf, type TelegramFiles } from './telegram-files';

export interface UpdateProcessorOptions {
  db: Kysely<DB>;
  /** The tenant whose bot and groups these updates come from (default: the default tenant). */
  tenantId?: string | undefined;
  /** The bridge's one way out to Telegram (answers to buttons go through the bot that got them). */
  sender: TelegramSender;
  relay: OutboxRelay;
  sync: TopicSync;
  logger: Logger;
  metrics: BridgeMetrics;
  /** The main bot: updates are deduplicated per receiving bot. */
  botId: string;
  /** SUPPORT_GROUP_ID: conversations without a group of their own live there. */
  defaultGroupId: number;
  /** Whether a chat is one of the support groups (the default one or a registered one). */
  isSupportGroup: (chatId: number) => Promise<boolean>;
  allowUnknownAgents: boolean;
  unknownAgentName?: UnknownAgentName | undefined;
  requireClaim: boolean;
  /** ASSIGNMENT and AGENT_CAPACITY_DEFAULT. */
  assignment?: AssignmentOptions | undefined;
  /** Handles updates from private chats with the bot; absent: they are ignored. */
  privateChat?: PrivateChat | undefined;
  /** Downloads and checks the files agents post (photos, documents, voice notes, videos). */
  files: TelegramFiles;
  /** Agents' `/console` in a private chat (a sign-in link); absent: like any other text. */
  consoleSignIn?: ConsoleSignIn | undefined;
}

/**
 * Reads Telegram updates from the support groups — agents' replies, edits, commands and header
 * buttons — and hands them to the agent desk (core), which applies each in one unit of work
 * together with its update id; what is answered directly (button toasts, General) goes out here.
 */
export class UpdateProcessor {
  readonly #desk: AgentDesk;
  readonly #presence: PresenceAnswers;

  constructor(private readonly options: UpdateProcessorOptions) {
    this.#desk = new AgentDesk(new UnitOfWork(options.db, options.relay), {
      tenantId: options.tenantId,
      allowUnknownAgents: options.allowUnknownAgents,
      unknownAgentName: options.unknownAgentName,
      requireClaim: options.requireClaim,
      assignment: options.assignment,
      defaultGroupId: options.defaultGroupId,
      onAgentMessage: (tenantId) =>
        options.metrics.messagesIn.add(1, { kind: 'agent', tenant: tenantLabel(tenantId) }),
    });
    this.#presence = new PresenceAnswers(this.#desk, options.sync);
  }

  /** A pass of automatic assignment for a new conversation (nothing in manual mode). */
  assignWaiting(tenantId: string): Promise<number> {
    return this.#desk.assignWaiting(tenantId);
  }

  /**
   * Applies one update. `botId` is the bot that received it: the main bot, or a sender bot of
   * the pool (those receive only the callback queries of the buttons they sent).
   */
  async process(update: Update, botId: string = this.options.botId): Promise<DeskOutcome> {
    const outcome = await this.#process(update, botId);
    if (outcome.startsWith('ignored:')) {
      this.options.metrics.updatesIgnored.add(1, { reason: outcome.slice('ignored:'.length) });
      this.options.logger.debug({ updateId: update.update_id, outcome }, 'update ignored');
    }
    return outcome;
  }

  async #process(update: Update, botId: string): Promise<DeskOutcome> {
    const { privateChat } = this.options;
    if (update.callback_query) {
      if (update.callback_query.message?.chat.type === 'private') {
        return privateChat
          ? privateChat.handleButton(update.update_id, update.callback_query)
          : 'ignored:private_chat';
      }
      return this.#button({ botId, updateId: update.update_id }, update.callback_query);
    }
    const message = update.message ?? update.edited_message;
    if (!message) return 'ignored:unsupported';
    // The second visitor channel: a user writing to the bot (private-chat.ts).
    if (message.chat.type === 'private') {
      const { consoleSignIn } = this.options;
      if (consoleSignIn && !update.edited_message && isConsoleCommand(message.text)) {
        const outcome = await consoleSignIn.handle(update.update_id, message);
        // Anyone but an agent is answered as for any unknown command (or not at all).
        if (outcome !== 'not_agent') return outcome;
      }
      return privateChat
        ? privateChat.handleMessage(update.update_id, message, update.edited_message !== undefined)
        : 'ignored:private_chat';
    }
    if (!(await this.options.isSupportGroup(message.chat.id))) return 'ignored:other_chat';
    if (!message.from || message.from.is_bot) return 'ignored:bot';
    if (
      message.forum_topic_created ||
      message.forum_topic_edited ||
      message.forum_topic_closed ||
      message.forum_topic_reopened
    ) {
      return 'ignored:service';
    }
    // Messages reach the main bot only: they are deduplicated under its id.
    const ref: UpdateRef = { botId: this.options.botId, updateId: update.update_id };
    // The General topic is not a conversation; thread ids outside real topics are reply chains.
    const inTopic = message.is_topic_message === true && message.message_thread_id !== undefined;
    const command = message.text !== undefined ? parseCommand(message.text) : undefined;
    // /status, in General or a topic, is answered here: its buttons need a message of its own.
    if (command?.name === 'status' && !update.edited_message)
      return this.#presence.status(ref, message, message.from.id, inTopic);
    if (!inTopic) {
      if (!command || update.edited_message) return 'ignored:general';
      return this.#generalCommand(ref, message, message.from, command);
    }
    const conversation = await this.#desk.conversationInTopic(
      message.chat.id,
      message.message_thread_id as number,
    );
    if (!conversation) {
      // A topic an escalation moved its conversation out of: the agent is told where it went.
      const moved = update.edited_message
        ? undefined
        : await this.#desk.movedFrom(message.chat.id, message.message_thread_id as number);
      if (!moved) return 'ignored:unknown_topic';
      return this.#desk.answerInOldTopic(ref, moved, {
        chatId: message.chat.id,
        threadId: message.message_thread_id as number,
        messageId: message.message_id,
      });
    }
    if (update.edited_message)
      return command ? 'ignored:edited_command' : this.#edit(ref, message, message.from.id);
    return this.#inTopic(ref, conversation, message, message.from.id, command);
  }

  /**
   * A new message in a conversation's topic: a command, a reply to the visitor (a text, or a
   * file under its caption), or something that does not reach the visitor (a sticker…).
   */
  async #inTopic(
    ref: UpdateRef,
    conversation: Conversation,
    message: Message,
    telegramUserId: number,
    command: Command | undefined,
  ): Promise<DeskOutcome> {
    const file = fileOf(message);
    if (message.text === undefined && !file)
      return this.#desk.tell(
        ref,
        conversation,
        message.message_id,
        'Only texts, photos, documents, voice notes and videos reach the visitor; nothing was sent.',
        'ignored:not_text',
      );
    const topicMessage = {
      chatId: message.chat.id,
      messageId: message.message_id,
      telegramUserId,
      telegramFirstName: message.from?.first_name,
      replyToMessageId: message.reply_to_message?.message_id,
    };
    if (command) return this.#desk.command(ref, conversation, topicMessage, command);
    if (!file)
      return this.#desk.reply(ref, conversation, { ...topicMessage, text: message.text ?? '' });
    // Downloaded before the unit of work: a file of an update already applied, or of a reply
    // the desk refuses, is left unattached for the orphan sweep.
    const taken = await this.options.files.receive(conversation, file, 'agent');
    if (!taken.ok)
      return this.#desk.tell(
        ref,
        conversation,
        message.message_id,
        `This file did not reach the visitor: ${taken.reason} (${taken.code}).`,
        'refused',
      );
    return this.#desk.reply(ref, conversation, {
      ...topicMessage,
      text: message.caption ?? '',
      attachments: [taken.attachment],
    });
  }

  #edit(ref: UpdateRef, message: Message, telegramUserId: number) {
    return this.#desk.edit(ref, {
      chatId: message.chat.id,
      messageId: message.message_id,
      // A file's caption edited: the visitor's copy of its text follows.
      text: message.text ?? message.caption ?? '',
      at: message.edit_date ? new Date(message.edit_date * 1000) : new Date(),
      telegramUserId,
    });
  }

  async #button(ref: UpdateRef, query: CallbackQuery): Promise<DeskOutcome> {
    // Only the bot that received the callback query may answer it.
    const answer = (text: string) =>
      this.options.sender
        .direct(ref.botId, (api) => api.answerCallbackQuery(query.id, { text }))
        .catch((error: unknown) =>
          this.options.logger.warn({ err: error }, 'answerCallbackQuery failed'),
        );
    const presence = parsePresenceData(query.data);
    if (presence) {
      const result = await this.#desk.setPresence(
        ref,
        { telegramUserId: query.from.id, telegramFirstName: query.from.first_name },
        presence,
      );
      await answer(result.text);
      return result.outcome;
    }
    const parsed = parseCallbackData(query.data);
    if (!parsed) {
      await answer('This button is not ours.');
      return 'ignored:callback';
    }
    const result = await this.#desk.button(ref, {
      conversationId: parsed.conversationId,
      action: parsed.action,
      telegramUserId: query.from.id,
      telegramFirstName: query.from.first_name,
    });
    await answer(result.answer);
    return result.outcome;
  }

  async #generalCommand(
    ref: UpdateRef,
    message: Message,
    from: { id: number; first_name: string },
    command: Command,
  ): Promise<DeskOutcome> {
    // The agent's own settings: applied once per update by the desk, answered here.
    const who = { telegramUserId: from.id, telegramFirstName: from.first_name };
    const { name } = command;
    const own = isPresence(name)
      ? this.#desk.setPresence(ref, who, name)
      : name === 'name'
        ? this.#desk.setName(ref, who, command.args)
        : undefined;
    if (own) {
      const answered = await own;
      if (answered.outcome !== 'duplicate')
        await this.options.sync.sendOutsideTopic(
          message.chat.id,
          answered.text,
          message.message_id,
        );
      return answered.outcome;
    }
    const { text, outcome } = await this.#generalAnswer(command);
    // General has no conversation to queue posts for: answer directly (best effort), once.
    if (!(await this.#desk.markProcessed(ref))) return 'duplicate';
    await this.options.sync.sendOutsideTopic(message.chat.id, text, message.message_id);
    return outcome;
  }

  /** What a command in General is answered with: /help and /stats; the rest belong in topics. */
  async #generalAnswer(command: Command): Promise<{ text: string; outcome: DeskOutcome }> {
    switch (command.name) {
      case 'help':
        return { text: HELP_GENERAL, outcome: 'command' };
      case 'stats':
        return { text: await this.#statsText(), outcome: 'command' };
      case 'unknown':
        return { text: `Unknown command. ${HELP_GENERAL}`, outcome: 'refused' };
      case 'claim':
      case 'unclaim':
      case 'close':
      case 'reopen':
      case 'note':
      case 't':
      case 'delete':
      case 'whoami':
      case 'name':
      case 'priority':
      case 'escalate':
      case 'online':
      case 'away':
      case 'offline':
      case 'status':
        return {
          text: `/${command.name} works inside a conversation's topic, not in General.`,
          outcome: 'refused',
        };
      default: {
        const never: never = command.name;
        throw new Error(`unhandled command ${String(never)}`);
      }
    }
  }

  async #statsText(): Promise<string> {
    const since = new Date();
    since.setUTCHours(0, 0, 0, 0);
    const stats = await this.#desk.stats(since);
    const median =
      stats.medianFirstResponseMs === null
        ? 'no answers yet today'
        : formatDuration(stats.medianFirstResponseMs / 1000);
    return [
      teamStatsText(stats.team),
      `⏱ Median first response today: ${median}`,
      this.#queueLine(stats.pending),
      this.#botsLine(),
    ].join('\n');
  }

  /** What waits for Telegram, across every replica (the pending texts are in Postgres). */
  #queueLine(pending: { count: number; oldest: Date | null }): string {
    const queue = this.options.sender.queue();
    const oldest =
      pending.oldest === null
        ? ''
        : `, oldest ${formatDuration((Date.now() - pending.oldest.getTime()) / 1000)}`;
    return `📨 Waiting for Telegram: ${pending.count} visitor text${pending.count === 1 ? '' : 's'}${oldest} · calls queued here: ${queue.byPriority.normal} + ${queue.byPriority.cosmetic} cosmetic`;
  }

  /** Each bot of the pool and whether it is left out anywhere. */
  #botsLine(): string {
    const bots = this.options.sender.pool.report().bots.map((bot) => {
      const name = bot.username ? `@${bot.username}` : bot.id;
      const role = bot.main ? 'main' : 'sender';
      return `${role} ${name}: ${bot.out.length === 0 ? 'ok' : `left out (${bot.out.join('; ')})`}`;
    });
    return `🤖 ${bots.join(' · ')}`;
  }
}
