import { SyncReason } from '@topicdesk/contracts';
import {
  appendMessage,
  AuditRepository,
  ConversationChannel,
  ConversationRepository,
  MessageRepository,
  NoteRepository,
  DeliveryState,
  MessageKind,
  OutboxRepository,
  SupportGroupRepository,
  type Conversation,
  type DB,
  type Kysely,
  type Message,
  type OutboxInput,
} from '@topicdesk/data';
import { messageEvent } from './events';
import { routeToGroup } from './group-routing';
import { busOutbox, fanoutOutbox, type OutboxRelay } from './outbox-relay';
import { SystemMessageKey, SystemMessages } from './system-messages';

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
  /** Who wrote it in Telegram (for the audit log; never shown to the visitor). */
  telegramUserId: number;
  conversationId: string;
  text: string;
  authorName: string;
  agentId: number | null;
  telegramChatId: number;
  telegramMessageId: number;
}

export interface Actor {
  type: 'agent' | 'admin' | 'system' | 'visitor';
  id?: string | undefined;
}

export interface CloseInput {
  tenantId: string;
  conversationId: string;
  actor: Actor;
  reason: string;
  /** The system message template to show (closed_note, auto_closed). */
  templateKey: string;
}

export interface AgentRef {
  agentId: number | null;
  telegramUserId: number;
  /** What the visitor sees: the display name, or "Support". */
  name: string;
}

function agentActor(agent: AgentRef): Actor {
  return { type: 'agent', id: String(agent.telegramUserId) };
}

function sync(tenantId: string, conversationId: string, reason: SyncReason): OutboxInput {
  return busOutbox(tenantId, 'conversationSync', { tenantId, conversationId, reason });
}

/**
 * The conversation's use cases. Each change commits together with the outbox rows that
 * announce it, then hands those rows to the relay; nothing is published before it is durable.
 */
export class ConversationService {
  readonly #system = new SystemMessages();

  constructor(
    private readonly db: Kysely<DB>,
    private readonly relay: OutboxRelay,
  ) {}

  async start(input: StartConversationInput): Promise<Conversation> {
    const { conversation, rows } = await this.db.transaction().execute(async (trx) => {
      const started = await this.startInTransaction(trx, input);
      return {
        conversation: started.conversation,
        rows: await ConversationService.enqueue(trx, started.rows),
      };
    });
    await this.relay.publish(rows);
    return conversation;
  }

  /**
   * Creates a conversation inside the caller's transaction (the bridge starts private-chat
   * conversations together with the update that asked for them), in the support group its
   * locale routes it to; returns the outbox rows to add.
   */
  async startInTransaction(
    trx: Kysely<DB>,
    input: StartConversationInput,
  ): Promise<{ conversation: Conversation; rows: OutboxInput[] }> {
    // Routed once, at the start: the topic stays in this group even if the group is
    // deactivated or its locales change later.
    const groups = await new SupportGroupRepository(trx).activeForRouting(input.tenantId);
    const conversation = await new ConversationRepository(trx).create({
      ...input,
      groupChatId: routeToGroup(groups, input.locale),
    });
    return {
      conversation,
      rows: [sync(input.tenantId, conversation.id, SyncReason.CONVERSATION_CREATED)],
    };
  }

  /** The visitor's new name (null: anonymous); the topic's name and header follow. */
  async renameVisitor(
    tenantId: string,
    conversationId: string,
    name: string | null,
  ): Promise<void> {
    const rows = await this.db.transaction().execute(async (trx) => {
      await new ConversationRepository(trx).setVisitorName(tenantId, conversationId, name);
      return new OutboxRepository(trx).add([
        sync(tenantId, conversationId, SyncReason.STATUS_CHANGED),
      ]);
    });
    await this.relay.publish(rows);
  }

  /** Stores a visitor message (idempotent by clientId) and queues it for Telegram. */
  async postVisitorMessage(
    input: VisitorMessageInput,
  ): Promise<{ message: Message; duplicate: boolean }> {
    const { result, rows } = await this.db.transaction().execute(async (trx) => {
      const result = await this.postVisitorMessageInTransaction(trx, input);
      return { result, rows: await ConversationService.enqueue(trx, result.rows) };
    });
    await this.relay.publish(rows);
    return { message: result.message, duplicate: result.duplicate };
  }

  /** `postVisitorMessage` inside the caller's transaction; returns the outbox rows to add. */
  async postVisitorMessageInTransaction(
    trx: Kysely<DB>,
    input: VisitorMessageInput,
  ): Promise<{ message: Message; duplicate: boolean; rows: OutboxInput[] }> {
    const result = await appendMessage(trx, {
      tenantId: input.tenantId,
      conversationId: input.conversationId,
      kind: MessageKind.visitor,
      text: input.text,
      clientId: input.clientId,
      delivery: DeliveryState.pending,
      requireOpen: true,
    });
    if (result.duplicate) return { message: result.message, duplicate: true, rows: [] };
    // The visitor's first message is answered with the welcome template.
    const first = !(await new MessageRepository(trx).hasEarlierVisitorMessage(
      input.conversationId,
      result.message.seq,
    ));
    return {
      message: result.message,
      duplicate: false,
      rows: [
        sync(input.tenantId, input.conversationId, SyncReason.VISITOR_MESSAGE),
        fanoutOutbox(
          input.tenantId,
          input.conversationId,
          messageEvent(result.message, input.origin),
        ),
        ...(first
          ? await this.#system.emit(trx, {
              conversation: result.conversation,
              key: SystemMessageKey.welcome,
            })
          : []),
      ],
    };
  }

  /** Stores an agent's reply from the topic and fans it out to the visitor. */
  async postAgentMessage(
    trx: Kysely<DB>,
    input: AgentMessageInput,
  ): Promise<{ message: Message; rows: OutboxInput[] }> {
    const { message, conversation } = await appendMessage(trx, {
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
    await new ConversationRepository(trx).recordFirstResponse(
      input.tenantId,
      input.conversationId,
      message.created_at,
    );
    await this.#audit(
      trx,
      input.tenantId,
      { type: 'agent', id: String(input.telegramUserId) },
      'message.send',
      input.conversationId,
      {
        seq: message.seq,
        length: message.text.length,
      },
    );
    return {
      message,
      rows: [
        fanoutOutbox(input.tenantId, input.conversationId, messageEvent(message)),
        // A private-chat user gets the reply from the bridge's sync (their chat, by the bot).
        ...(conversation.channel === ConversationChannel.telegram
          ? [sync(input.tenantId, input.conversationId, SyncReason.STATUS_CHANGED)]
          : []),
      ],
    };
  }

  /** An agent edited their message in Telegram: the visitor's copy follows, the old text is kept. */
  async editAgentMessageInTransaction(
    trx: Kysely<DB>,
    input: { tenantId: string; message: Message; text: string; at: Date; telegramUserId: number },
  ): Promise<OutboxInput[]> {
    const edited = await new MessageRepository(trx).edit(input.message, input.text, input.at);
    await this.#audit(
      trx,
      input.tenantId,
      { type: 'agent', id: String(input.telegramUserId) },
      'message.edit',
      edited.conversation_id,
      { seq: edited.seq },
    );
    return [
      fanoutOutbox(input.tenantId, edited.conversation_id, {
        type: 'edit',
        seq: edited.seq,
        text: edited.text,
        editedAt: (edited.edited_at ?? input.at).toISOString(),
      }),
      ...(await this.#privateChatSync(trx, input.tenantId, edited.conversation_id)),
    ];
  }

  /**
   * Closes an open conversation inside the caller's transaction: a system message from the
   * template, a status frame for the visitor, the topic closed by the bridge, an audit entry.
   * Returns the outbox rows to publish after commit, or null if it was closed already.
   */
  async closeInTransaction(trx: Kysely<DB>, input: CloseInput): Promise<OutboxInput[] | null> {
    const conversations = new ConversationRepository(trx);
    const conversation = await conversations.lock(input.tenantId, input.conversationId);
    const at = new Date();
    if (!(await conversations.close(input.tenantId, input.conversationId, at))) return null;
    await this.#audit(
      trx,
      input.tenantId,
      input.actor,
      'conversation.close',
      input.conversationId,
      { reason: input.reason },
    );
    return [
      ...(await this.#system.emit(trx, { conversation, key: input.templateKey, at })),
      fanoutOutbox(input.tenantId, input.conversationId, { type: 'status', status: 'closed' }),
      sync(input.tenantId, input.conversationId, SyncReason.STATUS_CHANGED),
    ];
  }

  /** Reopens a closed conversation; null if it was open. */
  async reopenInTransaction(
    trx: Kysely<DB>,
    input: { tenantId: string; conversationId: string; actor: Actor },
  ): Promise<OutboxInput[] | null> {
    const conversations = new ConversationRepository(trx);
    const conversation = await conversations.lock(input.tenantId, input.conversationId);
    const at = new Date();
    if (!(await conversations.reopen(input.tenantId, input.conversationId, at))) return null;
    await this.#audit(
      trx,
      input.tenantId,
      input.actor,
      'conversation.reopen',
      input.conversationId,
    );
    return [
      ...(await this.#system.emit(trx, {
        conversation: { ...conversation, status: 'open' },
        key: SystemMessageKey.reopened,
        at,
      })),
      fanoutOutbox(input.tenantId, input.conversationId, { type: 'status', status: 'open' }),
      sync(input.tenantId, input.conversationId, SyncReason.STATUS_CHANGED),
    ];
  }

  /** Claims for an agent (no-op rows when that agent holds it already). */
  async claimInTransaction(
    trx: Kysely<DB>,
    input: { tenantId: string; conversationId: string; agent: AgentRef },
  ): Promise<OutboxInput[]> {
    const conversations = new ConversationRepository(trx);
    const conversation = await conversations.lock(input.tenantId, input.conversationId);
    if (conversation.claimed_by_telegram_user_id === input.agent.telegramUserId) return [];
    const at = new Date();
    await conversations.setClaim(input.tenantId, input.conversationId, input.agent, at);
    await this.#audit(
      trx,
      input.tenantId,
      agentActor(input.agent),
      'conversation.claim',
      input.conversationId,
      { name: input.agent.name },
    );
    return [
      ...(await this.#system.emit(trx, {
        conversation,
        key: SystemMessageKey.agentJoined,
        vars: { agent: input.agent.name },
        at,
      })),
      sync(input.tenantId, input.conversationId, SyncReason.STATUS_CHANGED),
    ];
  }

  async unclaimInTransaction(
    trx: Kysely<DB>,
    input: { tenantId: string; conversationId: string; agent: AgentRef },
  ): Promise<OutboxInput[]> {
    const conversations = new ConversationRepository(trx);
    await conversations.lock(input.tenantId, input.conversationId);
    await conversations.setClaim(input.tenantId, input.conversationId, null, new Date());
    await this.#audit(
      trx,
      input.tenantId,
      agentActor(input.agent),
      'conversation.unclaim',
      input.conversationId,
    );
    return [sync(input.tenantId, input.conversationId, SyncReason.STATUS_CHANGED)];
  }

  /** An internal note: stored and audited, never sent to the visitor. */
  async noteInTransaction(
    trx: Kysely<DB>,
    input: {
      tenantId: string;
      conversationId: string;
      agent: AgentRef;
      text: string;
      telegramMessageId: number;
    },
  ): Promise<void> {
    await new NoteRepository(trx).add({
      tenantId: input.tenantId,
      conversationId: input.conversationId,
      agentId: input.agent.agentId,
      authorName: input.agent.name,
      text: input.text,
      telegramMessageId: input.telegramMessageId,
    });
    await this.#audit(
      trx,
      input.tenantId,
      agentActor(input.agent),
      'conversation.note',
      input.conversationId,
      { length: input.text.length },
    );
  }

  /** Retracts an agent's message from the visitor; null when it was retracted already. */
  async retractInTransaction(
    trx: Kysely<DB>,
    input: { tenantId: string; message: Message; agent: AgentRef },
  ): Promise<OutboxInput[] | null> {
    if (input.message.deleted_at) return null;
    const at = new Date();
    const retracted = await new MessageRepository(trx).retract(input.message, at);
    await this.#audit(
      trx,
      input.tenantId,
      agentActor(input.agent),
      'message.delete',
      retracted.conversation_id,
      { seq: retracted.seq },
    );
    return [
      fanoutOutbox(input.tenantId, retracted.conversation_id, {
        type: 'edit',
        seq: retracted.seq,
        text: '',
        editedAt: at.toISOString(),
        deleted: true,
      }),
      ...(await this.#privateChatSync(trx, input.tenantId, retracted.conversation_id)),
    ];
  }

  /** A sync row when the conversation is a private chat's: its copy there must follow. */
  async #privateChatSync(
    trx: Kysely<DB>,
    tenantId: string,
    conversationId: string,
  ): Promise<OutboxInput[]> {
    const conversation = await new ConversationRepository(trx).find(tenantId, conversationId);
    return conversation?.channel === ConversationChannel.telegram
      ? [sync(tenantId, conversationId, SyncReason.STATUS_CHANGED)]
      : [];
  }

  /** Emits a system message template inside the caller's transaction. */
  emitSystem(
    trx: Kysely<DB>,
    input: Parameters<SystemMessages['emit']>[1],
  ): Promise<OutboxInput[]> {
    return this.#system.emit(trx, input);
  }

  async #audit(
    trx: Kysely<DB>,
    tenantId: string,
    actor: Actor,
    action: string,
    conversationId: string,
    details?: Record<string, unknown>,
  ) {
    await new AuditRepository(trx).record({
      tenantId,
      actorType: actor.type,
      actorId: actor.id,
      action,
      conversationId,
      details,
    });
  }

  /** Writes outbox rows in the caller's transaction (helper for composite use cases). */
  static async enqueue(trx: Kysely<DB>, rows: readonly OutboxInput[]) {
    return new OutboxRepository(trx).add(rows);
  }
}
