import { SyncReason } from '@topicdesk/contracts';
import type { Attachment } from '@topicdesk/protocol';
import { AttachmentError, AttachmentErrorCode } from '@topicdesk/storage';
import {
  appendMessage,
  appendVisitorMessage,
  AttachmentRepository,
  AuditRepository,
  ConversationChannel,
  ConversationRepository,
  MessageRepository,
  NoteRepository,
  DeliveryState,
  MessageKind,
  SupportGroupRepository,
  type Conversation,
  type Message,
  type OutboxInput,
} from '@topicdesk/data';
import { messageEvent, type EventMessage } from './events';
import { conversationMetrics, secondsBetween, teamMetrics } from './metrics';
import { routeToGroup } from './group-routing';
import { busOutbox, fanoutOutbox } from './outbox-relay';
import { SystemMessageKey, SystemMessages } from './system-messages';
import type { UnitOfWork, Work } from './unit-of-work';

export interface StartConversationInput {
  tenantId: string;
  channel: 'web' | 'telegram';
  visitorName?: string | undefined;
  /** The pre-chat form's e-mail address (the gateway takes it only where PRECHAT_FIELDS allows). */
  visitorEmail?: string | undefined;
  locale?: string | undefined;
  pageUrl?: string | undefined;
  pageTitle?: string | undefined;
  /** A bot channel's role or segment (issue 19): routing and priority rules may match it. */
  segment?: string | undefined;
}

export interface VisitorMessageInput {
  tenantId: string;
  conversationId: string;
  clientId: string;
  text: string;
  /** The socket that sent it: it gets an ack, the conversation's other sockets the message. */
  origin?: string | undefined;
  /** Checked files it carries, in order (AttachmentService.prepare); `text` is their caption. */
  attachments?: readonly Attachment[] | undefined;
  /**
   * Files received from Telegram (a private-chat user's, AttachmentService.receive), unsigned:
   * announced by their count, each gateway signs the links.
   */
  received?: readonly { id: string }[] | undefined;
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
  /** Checked files it carries (AttachmentService.receive), in order; `text` is their caption. */
  attachments?: readonly { id: string }[] | undefined;
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

/** Gives checked files to their message; one taken by another message meanwhile undoes it all. */
async function attachTo(
  work: Work,
  message: Message,
  files: readonly { id: string }[],
): Promise<void> {
  const ids = files.map((f) => f.id);
  if (
    (await new AttachmentRepository(work.trx).attach(message.tenant_id, ids, message.id)) !==
    ids.length
  )
    throw new AttachmentError(
      AttachmentErrorCode.NotFound,
      'an attachment went with another message',
    );
}

function sync(tenantId: string, conversationId: string, reason: SyncReason): OutboxInput {
  return busOutbox(tenantId, 'conversationSync', { tenantId, conversationId, reason });
}

/** A visitor text before it is stored: its event's seq is set by the statement that stores it. */
const DRAFT = {
  seq: 0,
  kind: MessageKind.visitor,
  author_name: null,
  edited_at: null,
  deleted_at: null,
} as const;

/** The outbox rows that announce a stored visitor message: the bridge's sync, the visitor's event. */
function visitorAnnouncement(input: VisitorMessageInput, message: EventMessage): OutboxInput[] {
  return [
    sync(input.tenantId, input.conversationId, SyncReason.VISITOR_MESSAGE),
    fanoutOutbox(input.tenantId, input.conversationId, {
      ...messageEvent(message, input.origin, input.attachments),
      ...(input.received?.length ? { files: input.received.length } : {}),
    }),
  ];
}

/**
 * The conversation's use cases. Each change runs in a unit of work: it commits together with
 * the outbox rows that announce it, and those rows are published after the commit; nothing is
 * published before it is durable. The methods that take a `Work` join the caller's change (the
 * bridge starts a private-chat conversation together with the update that asked for it).
 */
export class ConversationService {
  readonly #system = new SystemMessages();
  readonly #metrics = conversationMetrics();
  readonly #team = teamMetrics();

  constructor(private readonly uow: UnitOfWork) {}

  start(input: StartConversationInput): Promise<Conversation> {
    return this.uow.run((work) => this.startIn(work, input));
  }

  /** Creates a conversation in the group its segment or locale routes it to (once, for good). */
  async startIn(work: Work, input: StartConversationInput): Promise<Conversation> {
    const groups = await new SupportGroupRepository(work.trx).activeForRouting(input.tenantId);
    const conversation = await new ConversationRepository(work.trx).create({
      ...input,
      groupChatId: routeToGroup(groups, input.locale, input.segment),
    });
    work.emit(sync(input.tenantId, conversation.id, SyncReason.CONVERSATION_CREATED));
    work.afterCommit(() => this.#metrics.countStarted(conversation));
    return conversation;
  }

  /** The visitor's new name (null: anonymous); the topic's name and header follow. */
  renameVisitor(tenantId: string, conversationId: string, name: string | null): Promise<void> {
    return this.uow.run(async (work) => {
      await new ConversationRepository(work.trx).setVisitorName(tenantId, conversationId, name);
      work.emit(sync(tenantId, conversationId, SyncReason.STATUS_CHANGED));
    });
  }

  /**
   * The visitor has seen the conversation up to `seq` (the widget's `read` frame). Recorded in
   * one statement; only when that newly read range holds an agent message is the bridge asked
   * to show it in the topic (a cosmetic reaction). Nothing reaches the visitor or the history.
   * True when the bridge was asked.
   */
  visitorRead(tenantId: string, conversationId: string, seq: number): Promise<boolean> {
    return this.uow.run(async (work) => {
      const read = await new ConversationRepository(work.trx).markRead(
        tenantId,
        conversationId,
        seq,
      );
      if (!read?.agentRead) return false;
      work.emit(sync(tenantId, conversationId, SyncReason.VISITOR_READ));
      return true;
    });
  }

  /** Stores a visitor message (idempotent by clientId) and queues it for Telegram. */
  async postVisitorMessage(
    input: VisitorMessageInput,
  ): Promise<{ message: Message; duplicate: boolean }> {
    // A text without files to a conversation that has its first visitor message (that one
    // comes with the welcome): one statement and one commit, its outbox rows included.
    if (!input.attachments?.length && !input.received?.length) {
      const stored = await this.uow.single(async (db) => {
        const at = new Date();
        const draft = { ...DRAFT, text: input.text, created_at: at };
        const result = await appendVisitorMessage(db, {
          ...input,
          at,
          announce: visitorAnnouncement(input, draft),
        });
        switch (result.outcome) {
          case 'stored':
            return { value: { message: result.message, duplicate: false }, rows: result.rows };
          case 'duplicate':
            return { value: { message: result.message, duplicate: true }, rows: [] };
          case 'first':
            return { value: undefined, rows: [] };
          default: {
            const never: never = result;
            return never;
          }
        }
      });
      if (stored) return stored;
    }
    return this.uow.run((work) => this.postVisitorMessageIn(work, input));
  }

  async postVisitorMessageIn(
    work: Work,
    input: VisitorMessageInput,
  ): Promise<{ message: Message; duplicate: boolean }> {
    const result = await appendMessage(work.trx, {
      tenantId: input.tenantId,
      conversationId: input.conversationId,
      kind: MessageKind.visitor,
      text: input.text,
      clientId: input.clientId,
      delivery: DeliveryState.pending,
      requireOpen: true,
    });
    if (result.duplicate) return { message: result.message, duplicate: true };
    const files = input.received ?? input.attachments ?? [];
    if (files.length > 0) await attachTo(work, result.message, files);
    work.emit(...visitorAnnouncement(input, result.message));
    // The visitor's first message is answered with the welcome template.
    if (result.firstOfKind)
      await this.emitSystem(work, {
        conversation: result.conversation,
        key: SystemMessageKey.welcome,
      });
    return { message: result.message, duplicate: false };
  }

  /** Stores an agent's reply from the topic and fans it out to the visitor. */
  async postAgentMessage(work: Work, input: AgentMessageInput): Promise<Message> {
    const { message, conversation } = await appendMessage(work.trx, {
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
    if (input.attachments?.length) await attachTo(work, message, input.attachments);
    const first = await new ConversationRepository(work.trx).recordFirstResponse(
      input.tenantId,
      input.conversationId,
      message.created_at,
    );
    const firstResponse = secondsBetween(first?.visitorAt, message.created_at);
    if (firstResponse !== undefined)
      work.afterCommit(() =>
        this.#metrics.firstResponse.record(firstResponse, { channel: conversation.channel }),
      );
    await this.#audit(
      work,
      input.tenantId,
      { type: 'agent', id: String(input.telegramUserId) },
      'message.send',
      input.conversationId,
      { seq: message.seq, length: message.text.length, files: input.attachments?.length ?? 0 },
    );
    const files = input.attachments?.length ?? 0;
    // Files are announced by their count: each gateway signs their links as it sends them.
    work.emit(
      fanoutOutbox(input.tenantId, input.conversationId, {
        ...messageEvent(message),
        ...(files > 0 ? { files } : {}),
      }),
    );
    // A private-chat user gets the reply from the bridge's sync (their chat, by the bot).
    if (conversation.channel === ConversationChannel.telegram)
      work.emit(sync(input.tenantId, input.conversationId, SyncReason.STATUS_CHANGED));
    return message;
  }

  /** An agent edited their message in Telegram: the visitor's copy follows, the old text is kept. */
  async editAgentMessage(
    work: Work,
    input: { tenantId: string; message: Message; text: string; at: Date; telegramUserId: number },
  ): Promise<void> {
    const edited = await new MessageRepository(work.trx).edit(
      input.tenantId,
      input.message,
      input.text,
      input.at,
    );
    await this.#audit(
      work,
      input.tenantId,
      { type: 'agent', id: String(input.telegramUserId) },
      'message.edit',
      edited.conversation_id,
      { seq: edited.seq },
    );
    work.emit(
      fanoutOutbox(input.tenantId, edited.conversation_id, {
        type: 'edit',
        seq: edited.seq,
        text: edited.text,
        editedAt: (edited.edited_at ?? input.at).toISOString(),
      }),
    );
    await this.#privateChatSync(work, input.tenantId, edited.conversation_id);
  }

  /**
   * Closes an open conversation: a system message from the template, a status frame for the
   * visitor, the topic closed by the bridge, an audit entry. False if it was closed already.
   */
  async close(work: Work, input: CloseInput): Promise<boolean> {
    const conversations = new ConversationRepository(work.trx);
    const conversation = await conversations.lock(input.tenantId, input.conversationId);
    const at = new Date();
    if (!(await conversations.close(input.tenantId, input.conversationId, at))) return false;
    const resolution = secondsBetween(
      await new MessageRepository(work.trx).firstVisitorMessageAt(
        input.tenantId,
        input.conversationId,
      ),
      at,
    );
    if (resolution !== undefined)
      work.afterCommit(() =>
        this.#metrics.resolution.record(resolution, { channel: conversation.channel }),
      );
    await this.#audit(
      work,
      input.tenantId,
      input.actor,
      'conversation.close',
      input.conversationId,
      { reason: input.reason },
    );
    await this.emitSystem(work, { conversation, key: input.templateKey, at });
    work.emit(
      fanoutOutbox(input.tenantId, input.conversationId, { type: 'status', status: 'closed' }),
      sync(input.tenantId, input.conversationId, SyncReason.STATUS_CHANGED),
    );
    return true;
  }

  /** Reopens a closed conversation; false if it was open. */
  async reopen(
    work: Work,
    input: { tenantId: string; conversationId: string; actor: Actor },
  ): Promise<boolean> {
    const conversations = new ConversationRepository(work.trx);
    const conversation = await conversations.lock(input.tenantId, input.conversationId);
    const at = new Date();
    if (!(await conversations.reopen(input.tenantId, input.conversationId, at))) return false;
    await this.#audit(
      work,
      input.tenantId,
      input.actor,
      'conversation.reopen',
      input.conversationId,
    );
    await this.emitSystem(work, {
      conversation: { ...conversation, status: 'open' },
      key: SystemMessageKey.reopened,
      at,
    });
    work.emit(
      fanoutOutbox(input.tenantId, input.conversationId, { type: 'status', status: 'open' }),
      sync(input.tenantId, input.conversationId, SyncReason.STATUS_CHANGED),
    );
    return true;
  }

  /**
   * Claims for an agent; false (nothing changes) when that agent holds it already. With
   * `assignedBy` it is an assignment (automatic assignment), audited as such.
   */
  async claim(
    work: Work,
    input: { tenantId: string; conversationId: string; agent: AgentRef; assignedBy?: Actor },
  ): Promise<boolean> {
    const conversations = new ConversationRepository(work.trx);
    const conversation = await conversations.lock(input.tenantId, input.conversationId);
    if (conversation.claimed_by_telegram_user_id === input.agent.telegramUserId) return false;
    const at = new Date();
    await conversations.setClaim(input.tenantId, input.conversationId, input.agent, at);
    const how = input.assignedBy ? 'auto' : 'claim';
    const waited = conversation.claimed_at === null && conversation.status === 'open';
    const wait = secondsBetween(conversation.waiting_since, at);
    work.afterCommit(() => {
      this.#team.assignments.add(1, { how });
      if (waited && wait !== undefined) this.#team.queueWait.record(wait, { how });
    });
    await this.#audit(
      work,
      input.tenantId,
      input.assignedBy ?? agentActor(input.agent),
      input.assignedBy ? 'conversation.assign' : 'conversation.claim',
      input.conversationId,
      input.assignedBy
        ? { name: input.agent.name, telegramUserId: input.agent.telegramUserId }
        : { name: input.agent.name },
    );
    await this.emitSystem(work, {
      conversation,
      key: SystemMessageKey.agentJoined,
      vars: { agent: input.agent.name },
      at,
    });
    work.emit(sync(input.tenantId, input.conversationId, SyncReason.STATUS_CHANGED));
    return true;
  }

  async unclaim(
    work: Work,
    input: { tenantId: string; conversationId: string; agent: AgentRef },
  ): Promise<void> {
    const conversations = new ConversationRepository(work.trx);
    await conversations.lock(input.tenantId, input.conversationId);
    await conversations.setClaim(input.tenantId, input.conversationId, null, new Date());
    await this.#audit(
      work,
      input.tenantId,
      agentActor(input.agent),
      'conversation.unclaim',
      input.conversationId,
    );
    work.emit(sync(input.tenantId, input.conversationId, SyncReason.STATUS_CHANGED));
  }

  /** An internal note: stored and audited, never sent to the visitor. */
  async note(
    work: Work,
    input: {
      tenantId: string;
      conversationId: string;
      agent: AgentRef;
      text: string;
      telegramMessageId: number;
    },
  ): Promise<void> {
    await new NoteRepository(work.trx).add({
      tenantId: input.tenantId,
      conversationId: input.conversationId,
      agentId: input.agent.agentId,
      authorName: input.agent.name,
      text: input.text,
      telegramMessageId: input.telegramMessageId,
    });
    await this.#audit(
      work,
      input.tenantId,
      agentActor(input.agent),
      'conversation.note',
      input.conversationId,
      { length: input.text.length },
    );
  }

  /** Retracts an agent's message from the visitor; false when it was retracted already. */
  async retract(
    work: Work,
    input: { tenantId: string; message: Message; agent: AgentRef },
  ): Promise<boolean> {
    if (input.message.deleted_at) return false;
    const at = new Date();
    const retracted = await new MessageRepository(work.trx).retract(
      input.tenantId,
      input.message,
      at,
    );
    await this.#audit(
      work,
      input.tenantId,
      agentActor(input.agent),
      'message.delete',
      retracted.conversation_id,
      { seq: retracted.seq },
    );
    work.emit(
      fanoutOutbox(input.tenantId, retracted.conversation_id, {
        type: 'edit',
        seq: retracted.seq,
        text: '',
        editedAt: at.toISOString(),
        deleted: true,
      }),
    );
    await this.#privateChatSync(work, input.tenantId, retracted.conversation_id);
    return true;
  }

  /** A system message from a template (stored, fanned out, synced to Telegram). */
  async emitSystem(work: Work, input: Parameters<SystemMessages['emit']>[1]): Promise<void> {
    work.emit(...(await this.#system.emit(work.trx, input)));
  }

  // What a visitor reads of their conversation, and their token's refresh (the gateway's REST
  // routes and sockets).

  find(tenantId: string, conversationId: string): Promise<Conversation | undefined> {
    return new ConversationRepository(this.uow.db).find(tenantId, conversationId);
  }

  /** Up to `limit` messages after `afterSeq`, oldest first. */
  history(
    tenantId: string,
    conversationId: string,
    afterSeq: number,
    limit: number,
  ): Promise<Message[]> {
    return new MessageRepository(this.uow.db).listAfter(tenantId, conversationId, afterSeq, limit);
  }

  /** The visitor message stored under `clientId`, if any (a resend is acked, not stored again). */
  visitorMessage(
    tenantId: string,
    conversationId: string,
    clientId: string,
  ): Promise<Message | undefined> {
    return new MessageRepository(this.uow.db).findByClientId(tenantId, conversationId, clientId);
  }

  /**
   * Moves the conversation's tokens on to the next generation when `generation` is the current
   * one (retiring it on every replica); a token of the generation just replaced, within
   * `reuseWindowMs`, gets the current one again. The generation to issue a token for, or
   * undefined when the token is retired.
   */
  rotateToken(
    tenantId: string,
    conversationId: string,
    generation: number,
    reuseWindowMs: number,
  ): Promise<number | undefined> {
    return this.uow.run((work) =>
      new ConversationRepository(work.trx).rotateToken(
        tenantId,
        conversationId,
        generation,
        reuseWindowMs,
      ),
    );
  }

  /** A sync row when the conversation is a private chat's: its copy there must follow. */
  async #privateChatSync(work: Work, tenantId: string, conversationId: string): Promise<void> {
    const conversation = await new ConversationRepository(work.trx).find(tenantId, conversationId);
    if (conversation?.channel === ConversationChannel.telegram)
      work.emit(sync(tenantId, conversationId, SyncReason.STATUS_CHANGED));
  }

  #audit(
    work: Work,
    tenantId: string,
    actor: Actor,
    action: string,
    conversationId: string,
    details?: Record<string, unknown>,
  ): Promise<void> {
    return recordAudit(work, tenantId, actor, action, conversationId, details);
  }
}

/** An audit entry of `actor`'s action, in the change's transaction. */
export async function recordAudit(
  work: Work,
  tenantId: string,
  actor: Actor,
  action: string,
  conversationId: string | null,
  details?: Record<string, unknown>,
): Promise<void> {
  await new AuditRepository(work.trx).record({
    tenantId,
    actorType: actor.type,
    actorId: actor.id,
    action,
    conversationId,
    details,
  });
}
