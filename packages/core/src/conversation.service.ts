import { SyncReason } from '@topicdesk/contracts';
import {
  appendMessage,
  AuditRepository,
  ConversationRepository,
  DeliveryState,
  MessageKind,
  OutboxRepository,
  type Conversation,
  type DB,
  type Kysely,
  type Message,
  type OutboxInput,
} from '@topicdesk/data';
import { messageEvent } from './events';
import { busOutbox, fanoutOutbox, type OutboxRelay } from './outbox-relay';

export interface StartConversationInput {
  tenantId: string;
  channel: 'web' | 'telegram';
  visitorName?: string | undefined;
  locale?: string | undefined;
  pageUrl?: string | undefined;
  pageTitle?: string | undefined;
}

export interface VisitorMessageInput {
  tenantId: string;
  conversationId: string;
  clientId: string;
  text: string;
  /** The socket that sent it: it gets an ack, the conversation's other sockets the message. */
  origin?: string | undefined;
}

export interface AgentMessageInput {
  tenantId: string;
  conversationId: string;
  text: string;
  authorName: string;
  agentId: number | null;
  telegramChatId: number;
  telegramMessageId: number;
}

export interface CloseInput {
  tenantId: string;
  conversationId: string;
  actor: { type: 'agent' | 'admin' | 'system' | 'visitor'; id?: string | undefined };
  reason: string;
  /** System text kept in the history and shown to the visitor. */
  note: string;
}

function sync(tenantId: string, conversationId: string, reason: SyncReason): OutboxInput {
  return busOutbox(tenantId, 'conversationSync', { tenantId, conversationId, reason });
}

/**
 * The conversation's use cases. Each change commits together with the outbox rows that
 * announce it, then hands those rows to the relay; nothing is published before it is durable.
 */
export class ConversationService {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly relay: OutboxRelay,
  ) {}

  async start(input: StartConversationInput): Promise<Conversation> {
    const { conversation, rows } = await this.db.transaction().execute(async (trx) => {
      const conversation = await new ConversationRepository(trx).create(input);
      const rows = await new OutboxRepository(trx).add([
        sync(input.tenantId, conversation.id, SyncReason.CONVERSATION_CREATED),
      ]);
      return { conversation, rows };
    });
    await this.relay.publish(rows);
    return conversation;
  }

  /** Stores a visitor message (idempotent by clientId) and queues it for Telegram. */
  async postVisitorMessage(
    input: VisitorMessageInput,
  ): Promise<{ message: Message; duplicate: boolean }> {
    const { result, rows } = await this.db.transaction().execute(async (trx) => {
      const result = await appendMessage(trx, {
        tenantId: input.tenantId,
        conversationId: input.conversationId,
        kind: MessageKind.visitor,
        text: input.text,
        clientId: input.clientId,
        delivery: DeliveryState.pending,
        requireOpen: true,
      });
      if (result.duplicate) return { result, rows: [] };
      const rows = await new OutboxRepository(trx).add([
        sync(input.tenantId, input.conversationId, SyncReason.VISITOR_MESSAGE),
        fanoutOutbox(
          input.tenantId,
          input.conversationId,
          messageEvent(result.message, input.origin),
        ),
      ]);
      return { result, rows };
    });
    await this.relay.publish(rows);
    return { message: result.message, duplicate: result.duplicate };
  }

  /** Stores an agent's reply from the topic and fans it out to the visitor. */
  async postAgentMessage(
    trx: Kysely<DB>,
    input: AgentMessageInput,
  ): Promise<{ message: Message; rows: OutboxInput[] }> {
    const { message } = await appendMessage(trx, {
      tenantId: input.tenantId,
      conversationId: input.conversationId,
      kind: MessageKind.agent,
      text: input.text,
      authorName: input.authorName,
      agentId: input.agentId,
      telegramChatId: input.telegramChatId,
      telegramMessageId: input.telegramMessageId,
      delivery: DeliveryState.none,
    });
    return {
      message,
      rows: [fanoutOutbox(input.tenantId, input.conversationId, messageEvent(message))],
    };
  }

  /**
   * Closes an open conversation inside the caller's transaction: a system message in the
   * history, a status frame for the visitor, the topic closed by the bridge, an audit entry.
   * Returns the outbox rows to publish after commit, or null if it was closed already.
   */
  async closeInTransaction(trx: Kysely<DB>, input: CloseInput): Promise<OutboxInput[] | null> {
    const conversations = new ConversationRepository(trx);
    await conversations.lock(input.tenantId, input.conversationId);
    const at = new Date();
    if (!(await conversations.close(input.tenantId, input.conversationId, at))) return null;
    const { message } = await appendMessage(trx, {
      tenantId: input.tenantId,
      conversationId: input.conversationId,
      kind: MessageKind.system,
      text: input.note,
      delivery: DeliveryState.none,
      at,
    });
    await new AuditRepository(trx).record({
      tenantId: input.tenantId,
      actorType: input.actor.type,
      actorId: input.actor.id,
      action: 'conversation.close',
      conversationId: input.conversationId,
      details: { reason: input.reason },
    });
    return [
      fanoutOutbox(input.tenantId, input.conversationId, messageEvent(message)),
      fanoutOutbox(input.tenantId, input.conversationId, { type: 'status', status: 'closed' }),
      sync(input.tenantId, input.conversationId, SyncReason.STATUS_CHANGED),
    ];
  }

  /** Writes outbox rows in the caller's transaction (helper for composite use cases). */
  static async enqueue(trx: Kysely<DB>, rows: readonly OutboxInput[]) {
    return new OutboxRepository(trx).add(rows);
  }
}
