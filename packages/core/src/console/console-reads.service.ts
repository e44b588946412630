import {
  ConsoleReadRepository,
  DeadLetterRepository,
  MessageRepository,
  NoteRepository,
  type AuditEntry,
  type AuditQuery,
  type Conversation,
  type ConversationListQuery,
  type DeadLetterRow,
  type Note,
  type OnlineAgent,
  type OverviewFigures,
} from '@topicdesk/data';
import type { AttachmentService, MessageWithFiles } from '../attachments/attachment.service';
import type { UnitOfWork } from '../unit-of-work';
import { decodeCursor, InvalidCursorError, pageFrom, type CursorPage } from './cursor';

/** The conversation list's filters: the repository's, less its paging. */
export type ConversationFilters = Omit<ConversationListQuery, 'after' | 'limit'>;
/** The audit log's filters, less its paging. */
export type AuditFilters = Omit<AuditQuery, 'beforeId' | 'limit'>;

export interface CursorRequest {
  cursor?: string | undefined;
  limit: number;
}

/** A message of a transcript with what the console shows besides the visitor's view. */
export interface TranscriptMessage extends MessageWithFiles {
  /** The agent's Telegram user id (agent messages of registered agents). */
  agentTelegramUserId: number | null;
  /** Earlier texts, oldest first. */
  edits: Array<{ previousText: string; editedAt: Date }>;
}

export interface Transcript {
  conversation: Conversation;
  messages: TranscriptMessage[];
  /** The seq to ask the next page after; null: no more messages. */
  nextAfterSeq: number | null;
  notes: Note[];
  /** Newest first, at most TRANSCRIPT_AUDIT_LIMIT (the audit log pages on); undefined: not asked. */
  audit: AuditEntry[] | undefined;
}

export interface Overview extends OverviewFigures {
  at: Date;
  /** Seconds the longest-waiting conversation has waited (0: none waits). */
  oldestWaitSeconds: number;
  agentsOnline: Array<OnlineAgent & { capacity: number }>;
}

/** The audit entries a transcript carries; more through the audit log's conversationId filter. */
export const TRANSCRIPT_AUDIT_LIMIT = 500;

const CONVERSATIONS = 'conversations';
const AUDIT = 'audit';
const DEAD_LETTERS = 'dead-letters';

/**
 * What the console reads: the conversation list (filters, text search, cursor pages), one
 * conversation's transcript with its notes and audit trail, the live overview's figures, and
 * the audit log and dead letters by cursor. Reads only, never in a transaction of their own.
 */
export class ConsoleReads {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly options: {
      attachments: AttachmentService;
      /** AGENT_CAPACITY_DEFAULT: the capacity of agents without one of their own. */
      defaultCapacity: number;
    },
  ) {}

  get #repository(): ConsoleReadRepository {
    return new ConsoleReadRepository(this.uow.db);
  }

  /** Newest first by creation; InvalidCursorError for a cursor this list did not hand out. */
  async conversations(
    tenantId: string,
    filters: ConversationFilters,
    page: CursorRequest,
  ): Promise<CursorPage<Conversation>> {
    const after =
      page.cursor === undefined
        ? undefined
        : decodeCursor(CONVERSATIONS, page.cursor, ['string', 'string'] as const);
    if (after && (!/^\d{1,19}$/.test(after[0]) || !isUuid(after[1])))
      throw new InvalidCursorError();
    const rows = await this.#repository.conversations(tenantId, {
      ...filters,
      after: after && { createdAtUs: after[0], id: after[1] },
      limit: page.limit + 1,
    });
    const listed = pageFrom(CONVERSATIONS, rows, page.limit, (row) => [
      row.key.createdAtUs,
      row.key.id,
    ]);
    return { items: listed.items.map((row) => row.conversation), nextCursor: listed.nextCursor };
  }

  /**
   * A conversation (by id or ticket) with its messages after `afterSeq` (at most `limit`), its
   * internal notes and, with `withAudit`, its audit trail. Undefined: no such conversation.
   */
  async transcript(
    tenantId: string,
    idOrTicket: string,
    page: { afterSeq: number; limit: number; withAudit: boolean },
  ): Promise<Transcript | undefined> {
    const repository = this.#repository;
    const conversation = await repository.findConversation(tenantId, idOrTicket);
    if (!conversation) return undefined;
    // Retracted messages too: the console shows them, with their text in the edits.
    const rows = await new MessageRepository(this.uow.db).listAfter(
      tenantId,
      conversation.id,
      page.afterSeq,
      page.limit + 1,
    );
    const messages = rows.slice(0, page.limit);
    const [files, edits, agents, notes, audit] = await Promise.all([
      this.options.attachments.withAttachments(messages),
      repository.edits(
        tenantId,
        messages.filter((m) => m.edited_at !== null).map((m) => m.id),
      ),
      repository.agentUsers(
        tenantId,
        messages.flatMap((m) => (m.agent_id === null ? [] : [m.agent_id])),
      ),
      new NoteRepository(this.uow.db).list(tenantId, conversation.id),
      page.withAudit
        ? repository.audit(tenantId, {
            conversationId: conversation.id,
            limit: TRANSCRIPT_AUDIT_LIMIT,
          })
        : undefined,
    ]);
    return {
      conversation,
      messages: files.map((message) => ({
        ...message,
        agentTelegramUserId:
          message.agent_id === null ? null : (agents.get(message.agent_id) ?? null),
        edits: edits
          .filter((e) => e.message_id === message.id)
          .map((e) => ({ previousText: e.previous_text, editedAt: e.edited_at })),
      })),
      nextAfterSeq: rows.length > page.limit ? (messages.at(-1)?.seq ?? null) : null,
      notes,
      audit,
    };
  }

  /** The overview at `now`: SLA breaches since the start of its UTC day. */
  async overview(tenantId: string, now = new Date()): Promise<Overview> {
    const repository = this.#repository;
    const dayStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
    const [figures, agents] = await Promise.all([
      repository.overview(tenantId, dayStart),
      repository.onlineAgents(tenantId),
    ]);
    const oldest = figures.oldestWaitingSince;
    return {
      ...figures,
      at: now,
      oldestWaitSeconds:
        oldest === null ? 0 : Math.max(0, Math.floor((now.getTime() - oldest.getTime()) / 1000)),
      agentsOnline: agents.map((a) => ({
        ...a,
        capacity: a.capacity ?? this.options.defaultCapacity,
      })),
    };
  }

  /** Newest first; `before` (an id) still works beside the cursor. */
  async audit(
    tenantId: string,
    filters: AuditFilters,
    page: CursorRequest & { before?: number | undefined },
  ): Promise<CursorPage<AuditEntry>> {
    const beforeId = this.#beforeId(AUDIT, page);
    const rows = await this.#repository.audit(tenantId, {
      ...filters,
      beforeId,
      limit: page.limit + 1,
    });
    return pageFrom(AUDIT, rows, page.limit, (row) => [row.id]);
  }

  /** Newest first; `pending`: only those not replayed yet. */
  async deadLetters(
    tenantId: string,
    page: CursorRequest & { before?: number | undefined; pending: boolean },
  ): Promise<CursorPage<DeadLetterRow>> {
    const rows = await new DeadLetterRepository(this.uow.db).list(tenantId, {
      limit: page.limit + 1,
      before: this.#beforeId(DEAD_LETTERS, page),
      pending: page.pending,
    });
    return pageFrom(DEAD_LETTERS, rows, page.limit, (row) => [row.id]);
  }

  /** The lower of the cursor's id and `before`, where given. */
  #beforeId(list: string, page: { cursor?: string | undefined; before?: number | undefined }) {
    const fromCursor =
      page.cursor === undefined
        ? undefined
        : decodeCursor(list, page.cursor, ['number'] as const)[0];
    if (fromCursor === undefined) return page.before;
    return page.before === undefined ? fromCursor : Math.min(fromCursor, page.before);
  }
}

function isUuid(value: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value);
}
