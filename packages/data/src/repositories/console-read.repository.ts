import { sql, type Kysely, type SqlBool } from 'kysely';
import {
  AgentPresence,
  ConversationStatus,
  DeliveryState,
  SlaEventKind,
  type AuditEntry,
  type Conversation,
  type ConversationPriority,
  type DB,
} from '../schema';

/** `waiting`: open and held by nobody; `assigned`: open and held by an agent. */
export const ConversationListStatus = {
  open: 'open',
  closed: 'closed',
  waiting: 'waiting',
  assigned: 'assigned',
} as const;
export type ConversationListStatus =
  (typeof ConversationListStatus)[keyof typeof ConversationListStatus];

/** Where a newest-first page by creation resumes: below this (created at, id). */
export interface CreationKey {
  /** Microseconds since the epoch, as text (a timestamp's full precision). */
  createdAtUs: string;
  id: string;
}

export interface ConversationListQuery {
  status?: ConversationListStatus | undefined;
  /** The holding agent's Telegram user id. */
  agentTelegramUserId?: number | undefined;
  /** null: the default group's (SUPPORT_GROUP_ID's) conversations. */
  groupChatId?: number | null | undefined;
  level?: number | undefined;
  priority?: ConversationPriority | undefined;
  /** Created at or after. */
  from?: Date | undefined;
  /** Created before. */
  to?: Date | undefined;
  /** Words of a message, or part of the ticket, the visitor's name or e-mail. */
  q?: string | undefined;
  after?: CreationKey | undefined;
  limit: number;
}

/** A conversation as the console lists it, with the key of its place in the list. */
export interface ListedConversation {
  conversation: Conversation;
  key: CreationKey;
}

/** Filters of the audit log (each optional), newest first below `beforeId`. */
export interface AuditQuery {
  conversationId?: string | undefined;
  action?: string | undefined;
  actorId?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  beforeId?: number | undefined;
  limit: number;
}

/** What the console's overview counts, at one moment. */
export interface OverviewFigures {
  open: number;
  waiting: number;
  assigned: number;
  /** When the longest-waiting open conversation nobody holds started waiting. */
  oldestWaitingSince: Date | null;
  slaBreachesSince: number;
  /** Visitor messages not yet accepted by Telegram, and the oldest of them. */
  pendingMessages: number;
  oldestPendingMessageAt: Date | null;
  /** Bot posts (system messages, command answers) not yet sent to their topics. */
  pendingPosts: number;
}

/** An online agent with the open conversations they hold. */
export interface OnlineAgent {
  telegramUserId: number;
  displayName: string;
  capacity: number | null;
  load: number;
}

/** `%`, `_` and `\` stand for themselves in a LIKE pattern. */
function likeContaining(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * The console's read model: the conversation list with its filters and text search, one
 * transcript's parts (messages with their edits, internal notes, audit trail) and the overview's
 * figures. Reads only; lists page by keys of columns that never change, so a page stays put
 * while rows are added.
 */
export class ConsoleReadRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async conversations(
    tenantId: string,
    query: ConversationListQuery,
  ): Promise<ListedConversation[]> {
    let select = this.db
      .selectFrom('conversations as c')
      .selectAll('c')
      .select(sql<string>`(extract(epoch from c.created_at) * 1000000)::bigint::text`.as('key_us'))
      .where('c.tenant_id', '=', tenantId);
    switch (query.status) {
      case undefined:
        break;
      case ConversationListStatus.open:
      case ConversationListStatus.closed:
        select = select.where('c.status', '=', query.status);
        break;
      case ConversationListStatus.waiting:
        select = select
          .where('c.status', '=', ConversationStatus.open)
          .where('c.claimed_by_telegram_user_id', 'is', null);
        break;
      case ConversationListStatus.assigned:
        select = select
          .where('c.status', '=', ConversationStatus.open)
          .where('c.claimed_by_telegram_user_id', 'is not', null);
        break;
      default: {
        const never: never = query.status;
        throw new Error(`unknown status ${String(never)}`);
      }
    }
    if (query.agentTelegramUserId !== undefined)
      select = select.where('c.claimed_by_telegram_user_id', '=', query.agentTelegramUserId);
    if (query.groupChatId === null) select = select.where('c.group_chat_id', 'is', null);
    else if (query.groupChatId !== undefined)
      select = select.where('c.group_chat_id', '=', query.groupChatId);
    if (query.level !== undefined) select = select.where('c.level', '=', query.level);
    if (query.priority !== undefined) select = select.where('c.priority', '=', query.priority);
    if (query.from !== undefined) select = select.where('c.created_at', '>=', query.from);
    if (query.to !== undefined) select = select.where('c.created_at', '<', query.to);
    const q = query.q?.trim();
    if (q) {
      const pattern = likeContaining(q);
      select = select.where((eb) =>
        eb.or([
          eb('c.ticket', 'ilike', pattern),
          eb('c.visitor_name', 'ilike', pattern),
          eb('c.visitor_email', 'ilike', pattern),
          // The GIN index of 0020 answers this one: words, not parts of words.
          eb(
            'c.id',
            'in',
            eb
              .selectFrom('messages as m')
              .select('m.conversation_id')
              .where('m.tenant_id', '=', tenantId)
              .where(
                sql<SqlBool>`to_tsvector('simple', m.text) @@ plainto_tsquery('simple', ${q})`,
              ),
          ),
        ]),
      );
    }
    if (query.after) {
      const after = query.after;
      select = select.where(
        sql<SqlBool>`(c.created_at, c.id) < (timestamptz 'epoch' + ${after.createdAtUs}::bigint * interval '1 microsecond', ${after.id}::uuid)`,
      );
    }
    const rows = await select
      .orderBy('c.created_at', 'desc')
      .orderBy('c.id', 'desc')
      .limit(query.limit)
      .execute();
    return rows.map(({ key_us, ...conversation }) => ({
      conversation,
      key: { createdAtUs: key_us, id: conversation.id },
    }));
  }

  /** By its id (a uuid) or its ticket. */
  findConversation(tenantId: string, idOrTicket: string): Promise<Conversation | undefined> {
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(idOrTicket);
    return this.db
      .selectFrom('conversations')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where(uuid ? 'id' : 'ticket', '=', idOrTicket)
      .executeTakeFirst();
  }

  /** The earlier texts of edited messages, oldest first. */
  edits(
    tenantId: string,
    messageIds: readonly number[],
  ): Promise<Array<{ message_id: number; previous_text: string; edited_at: Date }>> {
    if (messageIds.length === 0) return Promise.resolve([]);
    return this.db
      .selectFrom('message_edits')
      .select(['message_id', 'previous_text', 'edited_at'])
      .where('tenant_id', '=', tenantId)
      .where('message_id', 'in', messageIds)
      .orderBy('edited_at')
      .orderBy('id')
      .execute();
  }

  /** Telegram user ids of the agents who wrote these messages, by agent id. */
  async agentUsers(tenantId: string, agentIds: readonly number[]): Promise<Map<number, number>> {
    if (agentIds.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('agents')
      .select(['id', 'telegram_user_id'])
      .where('tenant_id', '=', tenantId)
      .where('id', 'in', [...new Set(agentIds)])
      .execute();
    return new Map(rows.map((r) => [r.id, r.telegram_user_id]));
  }

  audit(tenantId: string, query: AuditQuery): Promise<AuditEntry[]> {
    let select = this.db.selectFrom('audit_log').selectAll().where('tenant_id', '=', tenantId);
    if (query.conversationId !== undefined)
      select = select.where('conversation_id', '=', query.conversationId);
    if (query.action !== undefined) select = select.where('action', '=', query.action);
    if (query.actorId !== undefined) select = select.where('actor_id', '=', query.actorId);
    if (query.from !== undefined) select = select.where('created_at', '>=', query.from);
    if (query.to !== undefined) select = select.where('created_at', '<', query.to);
    if (query.beforeId !== undefined) select = select.where('id', '<', query.beforeId);
    return select.orderBy('id', 'desc').limit(query.limit).execute();
  }

  async overview(tenantId: string, breachesSince: Date): Promise<OverviewFigures> {
    const conversations = await this.db
      .selectFrom('conversations')
      .select([
        sql<number>`count(*)::int`.as('open'),
        sql<number>`(count(*) filter (where claimed_by_telegram_user_id is null))::int`.as(
          'waiting',
        ),
        sql<Date | null>`min(waiting_since) filter (where claimed_by_telegram_user_id is null)`.as(
          'oldest_waiting_since',
        ),
      ])
      .where('tenant_id', '=', tenantId)
      .where('status', '=', ConversationStatus.open)
      .executeTakeFirstOrThrow();
    const breaches = await this.db
      .selectFrom('sla_events')
      .select(sql<number>`count(*)::int`.as('count'))
      .where('tenant_id', '=', tenantId)
      .where('kind', '=', SlaEventKind.breach)
      .where('created_at', '>=', breachesSince)
      .executeTakeFirstOrThrow();
    const pending = await this.db
      .selectFrom('messages')
      .select([
        sql<number>`count(*)::int`.as('count'),
        sql<Date | null>`min(created_at)`.as('oldest'),
      ])
      .where('tenant_id', '=', tenantId)
      .where('delivery', '=', DeliveryState.pending)
      .executeTakeFirstOrThrow();
    const posts = await this.db
      .selectFrom('telegram_posts')
      .select(sql<number>`count(*)::int`.as('count'))
      .where('tenant_id', '=', tenantId)
      .where('sent_at', 'is', null)
      .executeTakeFirstOrThrow();
    const oldestWaiting = conversations.oldest_waiting_since;
    const oldestPending = pending.oldest;
    return {
      open: conversations.open,
      waiting: conversations.waiting,
      assigned: conversations.open - conversations.waiting,
      oldestWaitingSince: oldestWaiting === null ? null : new Date(oldestWaiting),
      slaBreachesSince: breaches.count,
      pendingMessages: pending.count,
      oldestPendingMessageAt: oldestPending === null ? null : new Date(oldestPending),
      pendingPosts: posts.count,
    };
  }

  /** Active agents who are online, with the open conversations each holds. */
  async onlineAgents(tenantId: string): Promise<OnlineAgent[]> {
    const rows = await this.db
      .selectFrom('agents as a')
      .select([
        'a.telegram_user_id',
        'a.display_name',
        'a.capacity',
        sql<number>`(select count(*) from conversations c where c.tenant_id = a.tenant_id
          and c.claimed_by_agent_id = a.id and c.status = ${ConversationStatus.open})::int`.as(
          'load',
        ),
      ])
      .where('a.tenant_id', '=', tenantId)
      .where('a.active', '=', true)
      .where('a.presence', '=', AgentPresence.online)
      .orderBy('a.display_name')
      .orderBy('a.id')
      .execute();
    return rows.map((r) => ({
      telegramUserId: r.telegram_user_id,
      displayName: r.display_name,
      capacity: r.capacity,
      load: r.load,
    }));
  }
}
