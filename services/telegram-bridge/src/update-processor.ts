import type { OutboxRelay } from '@topicdesk/core';
import { ConversationService, fanoutOutbox } from '@topicdesk/core';
import {
  AgentRepository,
  ConversationRepository,
  MessageRepository,
  OutboxRepository,
  TelegramUpdateRepository,
  type DB,
  type Kysely,
} from '@topicdesk/data';
import type { Logger } from '@topicdesk/telemetry';
import type { Api } from 'grammy';
import type { Message, Update } from 'grammy/types';
import type { BridgeMetrics } from './metrics';

const TENANT = 'default';
const UNKNOWN_AGENT_NAME = 'Support';

export interface UpdateProcessorOptions {
  db: Kysely<DB>;
  api: Api;
  relay: OutboxRelay;
  logger: Logger;
  metrics: BridgeMetrics;
  botId: string;
  groupId: number;
  allowUnknownAgents: boolean;
}

type Outcome = 'stored' | 'edited' | 'duplicate' | `ignored:${string}`;

/**
 * Turns Telegram updates into conversation changes. Each update is applied in one transaction
 * together with its update_id, so a redelivered update changes nothing.
 */
export class UpdateProcessor {
  readonly #conversations: ConversationService;

  constructor(private readonly options: UpdateProcessorOptions) {
    this.#conversations = new ConversationService(options.db, options.relay);
  }

  async process(update: Update): Promise<Outcome> {
    const outcome = await this.#process(update);
    if (outcome.startsWith('ignored:')) {
      this.options.metrics.updatesIgnored.add(1, { reason: outcome.slice('ignored:'.length) });
      this.options.logger.debug({ updateId: update.update_id, outcome }, 'update ignored');
    }
    return outcome;
  }

  async #process(update: Update): Promise<Outcome> {
    if (update.callback_query) {
      // Buttons come with the agents' side; always answer so the client stops spinning.
      await this.options.api
        .answerCallbackQuery(update.callback_query.id)
        .catch((error: unknown) => {
          this.options.logger.warn({ err: error }, 'answerCallbackQuery failed');
        });
      return 'ignored:callback';
    }
    const message = update.message ?? update.edited_message;
    if (!message) return 'ignored:unsupported';
    if (message.chat.id !== this.options.groupId) return 'ignored:other_chat';
    if (!message.from || message.from.is_bot) return 'ignored:bot';
    // The General topic is not a conversation; ids outside real topics are reply chains.
    if (!message.is_topic_message || message.message_thread_id === undefined)
      return 'ignored:general';
    if (
      message.forum_topic_created ||
      message.forum_topic_edited ||
      message.forum_topic_closed ||
      message.forum_topic_reopened
    ) {
      return 'ignored:service';
    }
    const conversation = await new ConversationRepository(this.options.db).findByTopic(
      TENANT,
      message.message_thread_id,
    );
    if (!conversation) return 'ignored:unknown_topic';
    if (message.text === undefined) return 'ignored:not_text';
    if (message.text.startsWith('/')) return 'ignored:command';
    if (update.edited_message) return this.#edit(update.update_id, message);
    if (conversation.status === 'closed') return 'ignored:closed';

    const agent = await new AgentRepository(this.options.db).findByTelegramUser(
      TENANT,
      message.from.id,
    );
    if (agent && !agent.active) return 'ignored:inactive_agent';
    if (!agent && !this.options.allowUnknownAgents) return 'ignored:unknown_agent';

    const text = message.text;
    const rows = await this.options.db.transaction().execute(async (trx) => {
      if (
        !(await new TelegramUpdateRepository(trx).markProcessed(
          TENANT,
          this.options.botId,
          update.update_id,
        ))
      )
        return null;
      const existing = await new MessageRepository(trx).findAgentMessage(
        TENANT,
        message.chat.id,
        message.message_id,
      );
      if (existing) return null;
      const { rows } = await this.#conversations.postAgentMessage(trx, {
        tenantId: TENANT,
        conversationId: conversation.id,
        text,
        authorName: agent?.display_name ?? UNKNOWN_AGENT_NAME,
        agentId: agent?.id ?? null,
        telegramChatId: message.chat.id,
        telegramMessageId: message.message_id,
      });
      return new OutboxRepository(trx).add(rows);
    });
    if (!rows) return 'duplicate';
    this.options.metrics.messagesIn.add(1, { kind: 'agent' });
    await this.options.relay.publish(rows);
    return 'stored';
  }

  async #edit(updateId: number, message: Message & { text?: string }): Promise<Outcome> {
    const text = message.text ?? '';
    const rows = await this.options.db.transaction().execute(async (trx) => {
      if (
        !(await new TelegramUpdateRepository(trx).markProcessed(
          TENANT,
          this.options.botId,
          updateId,
        ))
      )
        return 'duplicate' as const;
      const messages = new MessageRepository(trx);
      const stored = await messages.findAgentMessage(TENANT, message.chat.id, message.message_id);
      if (!stored) return 'unknown' as const;
      if (stored.text === text) return 'unchanged' as const;
      const at = message.edit_date ? new Date(message.edit_date * 1000) : new Date();
      const edited = await messages.edit(stored, text, at);
      return new OutboxRepository(trx).add([
        fanoutOutbox(TENANT, stored.conversation_id, {
          type: 'edit',
          seq: edited.seq,
          text: edited.text,
          editedAt: (edited.edited_at ?? at).toISOString(),
        }),
      ]);
    });
    if (rows === 'duplicate') return 'duplicate';
    if (rows === 'unknown') return 'ignored:edit_of_unknown_message';
    if (rows === 'unchanged') return 'ignored:edit_unchanged';
    await this.options.relay.publish(rows);
    return 'edited';
  }
}
