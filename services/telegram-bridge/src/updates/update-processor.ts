import type { OutboxRelay } from '@topicdesk/core';
import { ConversationService, UnitOfWork, type AgentRef } from '@topicdesk/core';
import { SyncReason } from '@topicdesk/contracts';
import {
  AgentRepository,
  ConversationRepository,
  MessageRepository,
  OutboxRepository,
  TelegramPostRepository,
  TelegramUpdateRepository,
  TemplateRepository,
  type Conversation,
  type DB,
  type Kysely,
  type OutboxInput,
} from '@topicdesk/data';
import type { Logger } from '@topicdesk/telemetry';
import type { CallbackQuery, Message, Update } from 'grammy/types';
import { parseCommand, HELP_GENERAL, HELP_TOPIC, type Command } from './commands';
import type { BridgeMetrics } from '../metrics';
import type { PrivateChat } from './private-chat';
import { parseCallbackData, type HeaderAction } from '../sync/topic-presentation';
import type { TelegramSender } from '../sender/telegram-sender';
import type { TopicSync } from '../sync/topic-sync';

const TENANT = 'default';
const UNKNOWN_AGENT_NAME = 'Support';

export interface UpdateProcessorOptions {
  db: Kysely<DB>;
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
  requireClaim: boolean;
  /** Handles updates from private chats with the bot; absent: they are ignored. */
  privateChat?: PrivateChat | undefined;
}

type Outcome = 'stored' | 'edited' | 'duplicate' | 'command' | 'refused' | `ignored:${string}`;

/** The person behind an update, as the product sees them. */
type Identity = { kind: 'agent'; agent: AgentRef } | { kind: 'refused'; reason: string };

/** One transaction's result: outbox rows to publish after commit and an outcome to report. */
interface Applied {
  rows: OutboxInput[];
  outcome: Outcome;
}

/**
 * Turns Telegram updates into conversation changes: agents' replies, edits, commands and header
 * buttons. Each update is applied in one transaction together with its update_id, so a
 * redelivered update changes nothing; answers to agents are queued as topic posts in the same
 * transaction, so they are sent in order and under Telegram's limits.
 */
export class UpdateProcessor {
  readonly #service: ConversationService;

  constructor(private readonly options: UpdateProcessorOptions) {
    this.#service = new ConversationService(new UnitOfWork(options.db, options.relay));
  }

  /**
   * Applies one update. `botId` is the bot that received it: the main bot, or a sender bot of
   * the pool (those receive only the callback queries of the buttons they sent).
   */
  async process(update: Update, botId: string = this.options.botId): Promise<Outcome> {
    const outcome = await this.#process(update, botId);
    if (outcome.startsWith('ignored:')) {
      this.options.metrics.updatesIgnored.add(1, { reason: outcome.slice('ignored:'.length) });
      this.options.logger.debug({ updateId: update.update_id, outcome }, 'update ignored');
    }
    return outcome;
  }

  async #process(update: Update, botId: string): Promise<Outcome> {
    const { privateChat } = this.options;
    if (update.callback_query) {
      if (update.callback_query.message?.chat.type === 'private') {
        return privateChat
          ? privateChat.handleButton(update.update_id, update.callback_query)
          : 'ignored:private_chat';
      }
      return this.#button(update.update_id, update.callback_query, botId);
    }
    const message = update.message ?? update.edited_message;
    if (!message) return 'ignored:unsupported';
    // The second visitor channel: a user writing to the bot (private-chat.ts).
    if (message.chat.type === 'private') {
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
    // The General topic is not a conversation; thread ids outside real topics are reply chains.
    const inTopic = message.is_topic_message === true && message.message_thread_id !== undefined;
    const command = message.text !== undefined ? parseCommand(message.text) : undefined;
    if (!inTopic) {
      if (!command || update.edited_message) return 'ignored:general';
      return this.#generalCommand(update.update_id, message, command);
    }
    // Topic ids are unique per group only: the group names the conversation too.
    const conversation = await new ConversationRepository(this.options.db).findByGroupTopic(
      TENANT,
      message.chat.id,
      message.message_thread_id as number,
      this.options.defaultGroupId,
    );
    if (!conversation) return 'ignored:unknown_topic';
    if (update.edited_message)
      return command ? 'ignored:edited_command' : this.#edit(update.update_id, message);
    if (message.text === undefined) {
      return this.#once(update.update_id, async (trx) => ({
        rows: await this.#post(
          trx,
          conversation,
          message,
          'Only text reaches the visitor for now; nothing was sent.',
        ),
        outcome: 'ignored:not_text',
      }));
    }
    const identity = await this.#identify(message.from.id);
    if (command)
      return this.#topicCommand(update.update_id, conversation, message, command, identity);
    return this.#reply(update.update_id, conversation, message, message.text, identity);
  }

  /** Runs `apply` in one transaction with the update's dedupe mark; publishes after commit. */
  async #once(
    updateId: number,
    apply: (trx: Kysely<DB>) => Promise<Applied>,
    botId: string = this.options.botId,
  ): Promise<Outcome> {
    const result = await this.options.db.transaction().execute(async (trx) => {
      if (!(await new TelegramUpdateRepository(trx).markProcessed(TENANT, botId, updateId)))
        return null;
      const applied = await apply(trx);
      return { outcome: applied.outcome, rows: await new OutboxRepository(trx).add(applied.rows) };
    });
    if (!result) return 'duplicate';
    await this.options.relay.publish(result.rows);
    return result.outcome;
  }

  async #identify(telegramUserId: number): Promise<Identity> {
    const agent = await new AgentRepository(this.options.db).findByTelegramUser(
      TENANT,
      telegramUserId,
    );
    if (agent && !agent.active)
      return {
        kind: 'refused',
        reason: 'Your agent account is inactive; an admin can reactivate it.',
      };
    if (!agent && !this.options.allowUnknownAgents) {
      return {
        kind: 'refused',
        reason: 'Only registered agents can answer visitors here; an admin can add you.',
      };
    }
    return {
      kind: 'agent',
      agent: {
        agentId: agent?.id ?? null,
        telegramUserId,
        name: agent?.display_name ?? UNKNOWN_AGENT_NAME,
      },
    };
  }

  /** Queues a bot answer in the topic (as a reply to the agent's message) and a sync to send it. */
  async #post(
    trx: Kysely<DB>,
    conversation: Conversation,
    message: Message | undefined,
    text: string,
  ): Promise<OutboxInput[]> {
    await new TelegramPostRepository(trx).add([
      {
        tenantId: conversation.tenant_id,
        conversationId: conversation.id,
        text,
        replyToMessageId: message?.message_id ?? null,
      },
    ]);
    return [
      {
        tenantId: conversation.tenant_id,
        destination: 'bus',
        topic: 'conversationSync',
        payload: {
          tenantId: conversation.tenant_id,
          conversationId: conversation.id,
          reason: SyncReason.STATUS_CHANGED,
        },
      },
    ];
  }

  /** An agent's plain message in a topic: relayed to the visitor (claiming it on the way). */
  async #reply(
    updateId: number,
    conversation: Conversation,
    message: Message,
    text: string,
    identity: Identity,
  ): Promise<Outcome> {
    return this.#once(updateId, async (trx) => {
      if (identity.kind === 'refused')
        return {
          rows: await this.#post(trx, conversation, message, identity.reason),
          outcome: 'refused',
        };
      if (conversation.status === 'closed') {
        return {
          rows: await this.#post(
            trx,
            conversation,
            message,
            'This conversation is closed; nothing was sent. /reopen it to answer.',
          ),
          outcome: 'refused',
        };
      }
      const rows: OutboxInput[] = [];
      if (!conversation.claimed_at) {
        if (this.options.requireClaim) {
          return {
            rows: await this.#post(
              trx,
              conversation,
              message,
              'Claim this conversation first (/claim or the ✋ button); nothing was sent.',
            ),
            outcome: 'refused',
          };
        }
        rows.push(
          ...(await this.#service.claimInTransaction(trx, {
            tenantId: TENANT,
            conversationId: conversation.id,
            agent: identity.agent,
          })),
        );
      }
      if (
        await new MessageRepository(trx).findAgentMessage(
          TENANT,
          message.chat.id,
          message.message_id,
        )
      ) {
        return { rows, outcome: 'duplicate' };
      }
      const posted = await this.#service.postAgentMessageInTransaction(trx, {
        tenantId: TENANT,
        conversationId: conversation.id,
        text,
        authorName: identity.agent.name,
        agentId: identity.agent.agentId,
        telegramUserId: identity.agent.telegramUserId,
        telegramChatId: message.chat.id,
        telegramMessageId: message.message_id,
      });
      this.options.metrics.messagesIn.add(1, { kind: 'agent' });
      return { rows: [...rows, ...posted.rows], outcome: 'stored' };
    });
  }

  async #topicCommand(
    updateId: number,
    conversation: Conversation,
    message: Message,
    command: Command,
    identity: Identity,
  ): Promise<Outcome> {
    return this.#once(updateId, async (trx) => {
      const say = async (text: string, outcome: Outcome = 'command'): Promise<Applied> => ({
        rows: await this.#post(trx, conversation, message, text),
        outcome,
      });
      if (command.name === 'help') return say(HELP_TOPIC);
      if (command.name === 'stats') return say('Use /stats in the General topic.', 'refused');
      if (identity.kind === 'refused') return say(identity.reason, 'refused');
      const agent = identity.agent;
      const current = await new ConversationRepository(trx).lock(TENANT, conversation.id);
      switch (command.name) {
        case 'whoami': {
          const registered = agent.agentId !== null;
          return say(
            registered
              ? `${sentence(`You are ${agent.name}`)} Visitors see you as “${agent.name}”.`
              : `You are not registered as an agent. Visitors see you as “${UNKNOWN_AGENT_NAME}”. An admin can add you with a display name.`,
          );
        }
        case 'claim':
        case 'unclaim':
        case 'close':
        case 'reopen': {
          const result = await this.#act(trx, current, command.name, agent);
          return {
            rows: [...result.rows, ...(await this.#post(trx, current, message, result.text))],
            outcome: result.ok ? 'command' : 'refused',
          };
        }
        case 'note': {
          if (!command.args)
            return say('Write the note after the command: /note <text>', 'refused');
          await this.#service.noteInTransaction(trx, {
            tenantId: TENANT,
            conversationId: current.id,
            agent,
            text: command.args,
            telegramMessageId: message.message_id,
          });
          return say('📝 Note saved for agents; the visitor does not see it.');
        }
        case 't': {
          if (!command.args) return say(await this.#savedRepliesList(trx), 'refused');
          if (current.status === 'closed')
            return say(
              'This conversation is closed; nothing was sent. /reopen it to answer.',
              'refused',
            );
          const template = await new TemplateRepository(trx).resolve(
            TENANT,
            `reply.${command.args}`,
            current.locale,
          );
          if (!template)
            return say(
              `No saved reply named “${command.args}”. ${await this.#savedRepliesList(trx)}`,
              'refused',
            );
          const rows: OutboxInput[] = [];
          if (!current.claimed_at)
            rows.push(
              ...(await this.#service.claimInTransaction(trx, {
                tenantId: TENANT,
                conversationId: current.id,
                agent,
              })),
            );
          const text = template.text
            .replace(/\{ticket\}/g, current.ticket)
            .replace(/\{agent\}/g, agent.name);
          const posted = await this.#service.postAgentMessageInTransaction(trx, {
            tenantId: TENANT,
            conversationId: current.id,
            text,
            authorName: agent.name,
            agentId: agent.agentId,
            telegramUserId: agent.telegramUserId,
            telegramChatId: message.chat.id,
            telegramMessageId: message.message_id,
          });
          this.options.metrics.messagesIn.add(1, { kind: 'agent' });
          return {
            rows: [
              ...rows,
              ...posted.rows,
              ...(await this.#post(trx, current, message, `↪️ Sent to the visitor:\n${text}`)),
            ],
            outcome: 'command',
          };
        }
        case 'delete': {
          const target = message.reply_to_message;
          // In a topic, a message that replies to nothing still points at the topic's first message.
          const stored = target
            ? await new MessageRepository(trx).findAgentMessage(
                TENANT,
                message.chat.id,
                target.message_id,
              )
            : undefined;
          if (!stored || stored.conversation_id !== current.id) {
            return say(
              'Reply to an agent message with /delete to retract it from the visitor.',
              'refused',
            );
          }
          const rows = await this.#service.retractInTransaction(trx, {
            tenantId: TENANT,
            message: stored,
            agent,
          });
          if (!rows) return say('That message was retracted already.', 'refused');
          return {
            rows: [
              ...rows,
              ...(await this.#post(
                trx,
                current,
                message,
                '🗑 Retracted: the visitor no longer sees that message.',
              )),
            ],
            outcome: 'command',
          };
        }
        case 'unknown':
          return say(`Unknown command. ${HELP_TOPIC}`, 'refused');
        default: {
          const never: never = command.name;
          throw new Error(`unhandled command ${String(never)}`);
        }
      }
    });
  }

  /** Claim / unclaim / close / reopen, shared by commands and header buttons. */
  async #act(
    trx: Kysely<DB>,
    conversation: Conversation,
    action: HeaderAction,
    agent: AgentRef,
  ): Promise<{ ok: boolean; text: string; rows: OutboxInput[] }> {
    const base = { tenantId: TENANT, conversationId: conversation.id };
    switch (action) {
      case 'claim': {
        if (conversation.status === 'closed')
          return { ok: false, text: 'This conversation is closed; /reopen it first.', rows: [] };
        if (conversation.claimed_by_telegram_user_id === agent.telegramUserId)
          return { ok: false, text: 'You have claimed it already.', rows: [] };
        if (conversation.claimed_at) {
          return {
            ok: false,
            text: `Already claimed by ${conversation.claimed_by_name ?? 'another agent'}; they can /unclaim it.`,
            rows: [],
          };
        }
        return {
          ok: true,
          text: sentence(`✋ Claimed by ${agent.name}`),
          rows: await this.#service.claimInTransaction(trx, { ...base, agent }),
        };
      }
      case 'unclaim': {
        if (!conversation.claimed_at)
          return { ok: false, text: 'Nobody has claimed this conversation.', rows: [] };
        if (conversation.claimed_by_telegram_user_id !== agent.telegramUserId) {
          return {
            ok: false,
            text: `Only ${conversation.claimed_by_name ?? 'the claiming agent'} can unclaim it.`,
            rows: [],
          };
        }
        return {
          ok: true,
          text: '↩️ Unclaimed: the conversation is open for anyone.',
          rows: await this.#service.unclaimInTransaction(trx, { ...base, agent }),
        };
      }
      case 'close': {
        const rows = await this.#service.closeInTransaction(trx, {
          ...base,
          actor: { type: 'agent', id: String(agent.telegramUserId) },
          reason: 'agent',
          templateKey: 'closed_note',
        });
        return rows
          ? {
              ok: true,
              text: `${sentence(`✅ Closed by ${agent.name}`)} The visitor was told.`,
              rows,
            }
          : { ok: false, text: 'This conversation is already closed.', rows: [] };
      }
      case 'reopen': {
        const rows = await this.#service.reopenInTransaction(trx, {
          ...base,
          actor: { type: 'agent', id: String(agent.telegramUserId) },
        });
        return rows
          ? { ok: true, text: sentence(`🔄 Reopened by ${agent.name}`), rows }
          : { ok: false, text: 'This conversation is open.', rows: [] };
      }
      default: {
        const never: never = action;
        throw new Error(`unhandled action ${String(never)}`);
      }
    }
  }

  async #button(updateId: number, query: CallbackQuery, botId: string): Promise<Outcome> {
    // Only the bot that received the callback query may answer it.
    const answer = (text: string) =>
      this.options.sender
        .direct(botId, (api) => api.answerCallbackQuery(query.id, { text }))
        .catch((error: unknown) =>
          this.options.logger.warn({ err: error }, 'answerCallbackQuery failed'),
        );
    const parsed = parseCallbackData(query.data);
    if (!parsed) {
      await answer('This button is not ours.');
      return 'ignored:callback';
    }
    const identity = await this.#identify(query.from.id);
    let reply = '';
    const outcome = await this.#once(
      updateId,
      async (trx) => {
        if (identity.kind === 'refused') {
          reply = identity.reason;
          return { rows: [], outcome: 'refused' };
        }
        const conversation = await new ConversationRepository(trx).find(
          TENANT,
          parsed.conversationId,
        );
        if (!conversation) {
          reply = 'This conversation no longer exists.';
          return { rows: [], outcome: 'refused' };
        }
        const current = await new ConversationRepository(trx).lock(TENANT, conversation.id);
        const result = await this.#act(trx, current, parsed.action, identity.agent);
        reply = result.text;
        const rows = result.ok
          ? [...result.rows, ...(await this.#post(trx, current, undefined, result.text))]
          : result.rows;
        return { rows, outcome: result.ok ? 'command' : 'refused' };
      },
      botId,
    );
    await answer(outcome === 'duplicate' ? 'Done.' : reply);
    return outcome;
  }

  async #generalCommand(updateId: number, message: Message, command: Command): Promise<Outcome> {
    let text: string;
    let outcome: Outcome = 'command';
    switch (command.name) {
      case 'help':
        text = HELP_GENERAL;
        break;
      case 'stats': {
        const since = new Date();
        since.setUTCHours(0, 0, 0, 0);
        const stats = await new ConversationRepository(this.options.db).stats(TENANT, since);
        const median =
          stats.medianFirstResponseMs === null
            ? 'no answers yet today'
            : formatDuration(stats.medianFirstResponseMs);
        text = [
          `📊 Open: ${stats.open} · Unclaimed: ${stats.unclaimed} · Median first response today: ${median}`,
          await this.#queueLine(),
          this.#botsLine(),
        ].join('\n');
        break;
      }
      case 'unknown':
        text = `Unknown command. ${HELP_GENERAL}`;
        outcome = 'refused';
        break;
      case 'claim':
      case 'unclaim':
      case 'close':
      case 'reopen':
      case 'note':
      case 't':
      case 'delete':
      case 'whoami':
        text = `/${command.name} works inside a conversation's topic, not in General.`;
        outcome = 'refused';
        break;
      default: {
        const never: never = command.name;
        throw new Error(`unhandled command ${String(never)}`);
      }
    }
    // General has no conversation to queue posts for: answer directly (best effort), once.
    const first = await new TelegramUpdateRepository(this.options.db).markProcessed(
      TENANT,
      this.options.botId,
      updateId,
    );
    if (!first) return 'duplicate';
    await this.options.sync.sendOutsideTopic(message.chat.id, text, message.message_id);
    return outcome;
  }

  /** What waits for Telegram, across every replica (the pending texts are in Postgres). */
  async #queueLine(): Promise<string> {
    const pending = await new MessageRepository(this.options.db).pendingSummary();
    const queue = this.options.sender.queue();
    const oldest =
      pending.oldest === null
        ? ''
        : `, oldest ${formatDuration(Date.now() - pending.oldest.getTime())}`;
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

  async #edit(updateId: number, message: Message & { text?: string }): Promise<Outcome> {
    const text = message.text ?? '';
    return this.#once(updateId, async (trx) => {
      const messages = new MessageRepository(trx);
      const stored = await messages.findAgentMessage(TENANT, message.chat.id, message.message_id);
      if (!stored) return { rows: [], outcome: 'ignored:edit_of_unknown_message' };
      if (stored.deleted_at) return { rows: [], outcome: 'ignored:edit_of_retracted_message' };
      if (stored.text === text) return { rows: [], outcome: 'ignored:edit_unchanged' };
      const at = message.edit_date ? new Date(message.edit_date * 1000) : new Date();
      const rows = await this.#service.editAgentMessageInTransaction(trx, {
        tenantId: TENANT,
        message: stored,
        text,
        at,
        telegramUserId: message.from?.id ?? 0,
      });
      return { rows, outcome: 'edited' };
    });
  }

  async #savedRepliesList(trx: Kysely<DB>): Promise<string> {
    const names = (await new TemplateRepository(trx).list(TENANT))
      .filter((t) => t.key.startsWith('reply.'))
      .map((t) => t.key.slice('reply.'.length));
    const unique = [...new Set(names)];
    return unique.length > 0
      ? `Saved replies: ${unique.join(', ')}.`
      : 'No saved replies yet; an admin adds them as templates named reply.<name>.';
  }
}

/** Ends a sentence with a full stop unless it ends with punctuation already ("Alice M."). */
function sentence(text: string): string {
  return /[.!?…]$/.test(text) ? text : `${text}.`;
}

function formatDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${seconds % 60}s`;
  return `${Math.floor(minutes / 60)}h ${minutes % 60}m`;
}
