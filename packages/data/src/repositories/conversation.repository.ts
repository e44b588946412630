import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { ConversationNotFoundError } from '../errors';
import { priorityByRules } from './priority-rule.repository';
import { precompiled } from '../precompiled';
import {
  ConversationStatus,
  MessageKind,
  type Conversation,
  type ConversationChannel,
  type DB,
} from '../schema';

export interface NewConversationInput {
  tenantId: string;
  channel: ConversationChannel;
  visitorName?: string | null | undefined;
  visitorEmail?: string | null | undefined;
  locale?: string | null | undefined;
  pageUrl?: string | null | undefined;
  pageTitle?: string | null | undefined;
  /** The support group to open the topic in; null or absent: the default group. */
  groupChatId?: number | null | undefined;
  /** A bot channel's role or segment (issue 19): shown in the header, read by priority rules. */
  segment?: string | null | undefined;
}

const TICKET_ALPHABET = '0123456789ABCDEFGHJKLMNPQRSTVWXYZ';

/** `SUPP-<base36 time>-<4 random>`: sortable by creation, short enough to read out on the phone. */
export function newTicket(now = Date.now()): string {
  const bytes = randomBytes(4);
  let random = '';
  for (const byte of bytes) random += TICKET_ALPHABET[byte % TICKET_ALPHABET.length];
  return `SUPP-${now.toString(36).toUpperCase()}-${random}`;
}

/** The row lock of every append (one per stored message): built and compiled once. */
const lockStatement = precompiled<{ tenantId: string; id: string }, Conversation>((db, value) =>
  db
    .selectFrom('conversations')
    .selectAll()
    .where('tenant_id', '=', value('tenantId'))
    .where('id', '=', value('id'))
    .forUpdate(),
);

/** The conversation aggregate: its row, its topic, its status and its seq counter. */
export class ConversationRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async create(input: NewConversationInput): Promise<Conversation> {
    for (let attempt = 0; ; attempt++) {
      const now = new Date();
      const row = await this.db
        .insertInto('conversations')
        .values({
          id: crypto.randomUUID(),
          tenant_id: input.tenantId,
          ticket: newTicket(now.getTime()),
          channel: input.channel,
          status: ConversationStatus.open,
          visitor_name: input.visitorName ?? null,
          visitor_email: input.visitorEmail ?? null,
          locale: input.locale ?? null,
          page_url: input.pageUrl ?? null,
          page_title: input.pageTitle ?? null,
          group_chat_id: input.groupChatId ?? null,
          segment: input.segment ?? null,
          priority: priorityByRules(
            input.tenantId,
            input.pageUrl ?? null,
            input.locale ?? null,
            input.segment ?? null,
          ),
          created_at: now,
          updated_at: now,
          last_activity_at: now,
        })
        .onConflict((oc) => oc.constraint('conversations_ticket_unique').doNothing())
        .returningAll()
        .executeTakeFirst();
      if (row) return row;
      if (attempt >= 5) throw new Error('could not allocate a unique ticket');
    }
  }

  find(tenantId: string, id: string): Promise<Conversation | undefined> {
    return this.db
      .selectFrom('conversations')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .executeTakeFirst();
  }

  async get(tenantId: string, id: string): Promise<Conversation> {
    const row = await this.find(tenantId, id);
    if (!row) throw new ConversationNotFoundError(id);
    return row;
  }

  /**
   * The conversation of a topic in one support group (topic ids are unique per chat only).
   * Conversations of the default group carry null, or its id when it is also registered in
   * `support_groups`; `defaultGroupChatId` (SUPPORT_GROUP_ID) lets both be found.
   */
  findByGroupTopic(
    tenantId: string,
    chatId: number,
    topicId: number,
    defaultGroupChatId: number,
  ): Promise<Conversation | undefined> {
    return this.db
      .selectFrom('conversations')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('topic_id', '=', topicId)
      .where((eb) =>
        chatId === defaultGroupChatId
          ? eb.or([eb('group_chat_id', 'is', null), eb('group_chat_id', '=', chatId)])
          : eb('group_chat_id', '=', chatId),
      )
      .orderBy('created_at', 'desc')
      .executeTakeFirst();
  }

  /** Locks the row until the surrounding transaction ends: writers of one conversation queue here. */
  async lock(tenantId: string, id: string): Promise<Conversation> {
    const [row] = await lockStatement(this.db, { tenantId, id });
    if (!row) throw new ConversationNotFoundError(id);
    return row;
  }

  /** Hands out the next seq; call inside a transaction after `lock` so seqs stay gap-free. */
  async nextSeq(tenantId: string, id: string, at: Date): Promise<number> {
    const row = await this.db
      .updateTable('conversations')
      .set({ last_seq: sql`last_seq + 1`, last_activity_at: at, updated_at: at })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .returning('last_seq')
      .executeTakeFirstOrThrow();
    return row.last_seq;
  }

  /** Records the conversation's topic (null: it is gone and must be created again). */
  async setTopic(
    tenantId: string,
    id: string,
    topicId: number | null,
    name: string | null = null,
  ): Promise<void> {
    await this.db
      .updateTable('conversations')
      .set({
        topic_id: topicId,
        topic_closed: false,
        topic_name: name,
        header_message_id: null,
        header_text: null,
        header_bot_id: null,
        header_pinned: false,
        updated_at: new Date(),
      })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .execute();
  }

  /**
   * A token refresh: a token of the current generation moves the conversation on to the next
   * one (retiring it on every replica at once); a token of the generation just replaced, within
   * `reuseWindowMs` of that, gets the current one again without moving on (two tabs refreshing at
   * once, an answer lost on the way). Atomic under the row lock. Returns the generation to issue
   * a token for, or undefined when the token is retired (or the conversation does not exist).
   */
  async rotateToken(
    tenantId: string,
    id: string,
    generation: number,
    reuseWindowMs: number,
  ): Promise<number | undefined> {
    const row = await this.db
      .updateTable('conversations')
      .set({
        token_generation: sql<number>`case when token_generation = ${generation} then token_generation + 1 else token_generation end`,
        token_rotated_at: sql<Date>`case when token_generation = ${generation} then now() else token_rotated_at end`,
      })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .where((eb) =>
        eb.or([
          eb('token_generation', '=', generation),
          eb.and([
            eb('token_generation', '=', generation + 1),
            eb(
              'token_rotated_at',
              '>',
              sql<Date>`now() - make_interval(secs => ${reuseWindowMs / 1000})`,
            ),
          ]),
        ]),
      )
      .returning('token_generation')
      .executeTakeFirst();
    return row?.token_generation;
  }

  /** The name the visitor gave (or null to be anonymous again). */
  async setVisitorName(tenantId: string, id: string, name: string | null): Promise<void> {
    await this.db
      .updateTable('conversations')
      .set({ visitor_name: name, updated_at: new Date() })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .execute();
  }

  async setTopicClosed(tenantId: string, id: string, closed: boolean): Promise<void> {
    await this.db
      .updateTable('conversations')
      .set({ topic_closed: closed, updated_at: new Date() })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .execute();
  }

  /** Closes an open conversation; returns false if it was closed already. */
  async close(tenantId: string, id: string, at: Date): Promise<boolean> {
    const result = await this.db
      .updateTable('conversations')
      .set({ status: ConversationStatus.closed, closed_at: at, updated_at: at })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .where('status', '=', ConversationStatus.open)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /**
   * Open conversations idle since before `idleSince`, locked for this transaction and skipped
   * by any other replica running the same query at the same time.
   */
  claimIdle(idleSince: Date, limit: number): Promise<Conversation[]> {
    return this.db
      .selectFrom('conversations')
      .selectAll()
      .where('status', '=', ConversationStatus.open)
      .where('last_activity_at', '<', idleSince)
      .orderBy('last_activity_at')
      .limit(limit)
      .forUpdate()
      .skipLocked()
      .execute();
  }

  /** Sets or clears the claiming agent. */
  async setClaim(
    tenantId: string,
    id: string,
    claim: { agentId: number | null; telegramUserId: number; name: string } | null,
    at: Date,
  ): Promise<void> {
    await this.db
      .updateTable('conversations')
      .set({
        claimed_by_agent_id: claim?.agentId ?? null,
        claimed_by_telegram_user_id: claim?.telegramUserId ?? null,
        claimed_by_name: claim?.name ?? null,
        claimed_at: claim ? at : null,
        // Given back: it waits again from now (the queue's wait, /stats), and its unclaimed
        // reminders start over.
        ...(claim ? {} : { waiting_since: at, reminders_sent: 0 }),
        updated_at: at,
      })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .execute();
  }

  /** Reopens a closed conversation; false if it was open, or erased (it stays closed for good). */
  async reopen(tenantId: string, id: string, at: Date): Promise<boolean> {
    const result = await this.db
      .updateTable('conversations')
      .set({
        status: ConversationStatus.open,
        closed_at: null,
        updated_at: at,
        last_activity_at: at,
      })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .where('status', '=', ConversationStatus.closed)
      .where('erased_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /**
   * Records the first agent reply; when this was it, the time of the conversation's first
   * visitor message (where the first response time starts; null if the agents wrote first).
   */
  async recordFirstResponse(
    tenantId: string,
    id: string,
    at: Date,
  ): Promise<{ visitorAt: Date | null } | undefined> {
    const row = await this.db
      .updateTable('conversations')
      .set({ first_response_at: at })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .where('first_response_at', 'is', null)
      .returning((eb) =>
        eb
          .selectFrom('messages')
          .select((m) => m.fn.min<Date>('created_at').as('at'))
          .where('conversation_id', '=', id)
          .where('kind', '=', MessageKind.visitor)
          .as('visitorAt'),
      )
      .executeTakeFirst();
    return row && { visitorAt: row.visitorAt ?? null };
  }

  /**
   * The visitor has seen everything up to `seq`: `visitor_read_seq` moves up to it, in one
   * statement (the row is locked by its first part, so the range read is exact under concurrent
   * reads). Whether an agent message was among the messages newly read; undefined when nothing
   * moved (`seq` not above what was read, beyond the conversation's last seq, or no such row).
   */
  async markRead(
    tenantId: string,
    id: string,
    seq: number,
  ): Promise<{ agentRead: boolean } | undefined> {
    const row = await this.db
      .with('before', (db) =>
        db
          .selectFrom('conversations')
          .select(['id', 'visitor_read_seq'])
          .where('tenant_id', '=', tenantId)
          .where('id', '=', id)
          .forUpdate(),
      )
      .updateTable('conversations as c')
      .from('before')
      .set({ visitor_read_seq: sql<number>`greatest(c.visitor_read_seq, ${seq})` })
      .whereRef('c.id', '=', 'before.id')
      .where('c.tenant_id', '=', tenantId)
      .where('c.visitor_read_seq', '<', seq)
      .where('c.last_seq', '>=', seq)
      .returning(
        sql<boolean>`exists (select 1 from messages m where m.conversation_id = c.id
          and m.kind = ${MessageKind.agent} and m.seq > before.visitor_read_seq and m.seq <= ${seq})`.as(
          'agent_read',
        ),
      )
      .executeTakeFirst();
    return row ? { agentRead: row.agent_read } : undefined;
  }

  /** The topic shows the 👀 reaction on the agent message of `seq` (only ever moves up). */
  async setSeenReaction(tenantId: string, id: string, seq: number): Promise<void> {
    await this.db
      .updateTable('conversations')
      .set({ seen_reaction_seq: sql<number>`greatest(seen_reaction_seq, ${seq})` })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .execute();
  }

  /** The header as posted or edited; `botId` only when (re)posted (the bot that can edit it). */
  async setHeader(
    tenantId: string,
    id: string,
    messageId: number | null,
    text: string | null,
    posted?: { botId: string | null },
  ): Promise<void> {
    await this.db
      .updateTable('conversations')
      .set({
        header_message_id: messageId,
        header_text: text,
        ...(posted || messageId === null
          ? { header_bot_id: posted?.botId ?? null, header_pinned: false }
          : {}),
      })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .execute();
  }

  async setHeaderPinned(tenantId: string, id: string): Promise<void> {
    await this.db
      .updateTable('conversations')
      .set({ header_pinned: true })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .execute();
  }

  /** Cosmetic work put off under load is due at `at` (the sweep retries it); null: done. */
  async setCosmeticDue(tenantId: string, id: string, at: Date | null): Promise<void> {
    await this.db
      .updateTable('conversations')
      .set({ cosmetic_due_at: at })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .execute();
  }

  /** Its sync was given up (dead letter) at `at`; null when it went through again. */
  async setSyncGivenUp(tenantId: string, id: string, at: Date | null): Promise<void> {
    await this.db
      .updateTable('conversations')
      .set({ sync_given_up_at: at })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .execute();
  }

  async setTopicName(tenantId: string, id: string, name: string): Promise<void> {
    await this.db
      .updateTable('conversations')
      .set({ topic_name: name })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .execute();
  }

  /**
   * Open, unclaimed conversations waiting since before `waitingBefore` (since they started, or
   * since they were given back or escalated) that have had fewer than `reminder` reminders in
   * that wait, locked for this transaction and skipped by other replicas. Those whose priority
   * has SLA targets are left to the SLA's reminders (migration 0016); those of a suspended or
   * deleted tenant wait for its resume.
   */
  claimDueReminders(waitingBefore: Date, reminder: number, limit: number): Promise<Conversation[]> {
    return this.db
      .selectFrom('conversations')
      .selectAll()
      .where('status', '=', ConversationStatus.open)
      .where('claimed_at', 'is', null)
      .where('topic_id', 'is not', null)
      .where('reminders_sent', '<', reminder)
      .where('waiting_since', '<', waitingBefore)
      .where(
        sql<boolean>`not exists (select 1 from sla_policies p
          where p.tenant_id = conversations.tenant_id and p.targets -> conversations.priority is not null)`,
      )
      .where(
        sql<boolean>`exists (select 1 from tenants t
          where t.id = conversations.tenant_id and t.status = 'active')`,
      )
      .orderBy('waiting_since')
      .limit(limit)
      .forUpdate()
      .skipLocked()
      .execute();
  }

  async setRemindersSent(tenantId: string, id: string, count: number): Promise<void> {
    await this.db
      .updateTable('conversations')
      .set({ reminders_sent: count })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .execute();
  }

  /**
   * Closed conversations past retention, locked for this transaction and skipped by other
   * replicas. Retention is the tenant's `limits.retentionDays` (its plan) where set, else
   * `retentionMs` (the deployment's RETENTION_DAYS), counted back from `now`. The tenant's limit is
   * read by a scalar subquery, not a join, so only conversation rows are locked.
   */
  claimPurgeable(
    retention: { now: Date; retentionMs: number },
    limit: number,
  ): Promise<Conversation[]> {
    const days = sql<number | null>`(select (t.limits ->> 'retentionDays')::float8 from tenants t
      where t.id = conversations.tenant_id)`;
    return this.db
      .selectFrom('conversations')
      .selectAll()
      .where('status', '=', ConversationStatus.closed)
      .where(
        'closed_at',
        '<',
        sql<Date>`${retention.now}::timestamptz - coalesce(${days} * 86400000, ${retention.retentionMs}::float8) * interval '1 millisecond'`,
      )
      .orderBy('closed_at')
      .limit(limit)
      .forUpdate()
      .skipLocked()
      .execute();
  }

  async delete(tenantId: string, id: string): Promise<void> {
    await this.db
      .deleteFrom('conversations')
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .execute();
  }

  /** Open and unclaimed counts, and the median first response time of conversations started since `since`. */
  async stats(
    tenantId: string,
    since: Date,
  ): Promise<{ open: number; unclaimed: number; medianFirstResponseMs: number | null }> {
    const counts = await this.db
      .selectFrom('conversations')
      .select([
        sql<number>`count(*) filter (where status = 'open')::int`.as('open'),
        sql<number>`count(*) filter (where status = 'open' and claimed_at is null)::int`.as(
          'unclaimed',
        ),
      ])
      .where('tenant_id', '=', tenantId)
      .executeTakeFirstOrThrow();
    const median = await this.db
      .selectFrom('conversations')
      .select(
        sql<
          number | null
        >`percentile_cont(0.5) within group (order by extract(epoch from first_response_at - created_at) * 1000)`.as(
          'ms',
        ),
      )
      .where('tenant_id', '=', tenantId)
      .where('created_at', '>=', since)
      .where('first_response_at', 'is not', null)
      .executeTakeFirstOrThrow();
    return {
      open: Number(counts.open),
      unclaimed: Number(counts.unclaimed),
      medianFirstResponseMs: median.ms === null ? null : Math.round(Number(median.ms)),
    };
  }

  /** Conversations whose Telegram side lags behind: a topic to create or close, pending messages or posts. */
  async needingSync(
    olderThan: Date,
    limit: number,
  ): Promise<Array<{ tenant_id: string; id: string }>> {
    return (
      this.db
        .selectFrom('conversations as c')
        .select(['c.tenant_id', 'c.id'])
        // Given up (a dead letter): only new work or a replay brings it back.
        .where('c.sync_given_up_at', 'is', null)
        .where((eb) =>
          eb.or([
            eb.and([eb('c.topic_id', 'is', null), eb('c.created_at', '<', olderThan)]),
            eb('c.cosmetic_due_at', '<', olderThan),
            eb.and([
              eb('c.status', '=', 'closed'),
              eb('c.topic_closed', '=', false),
              eb('c.topic_id', 'is not', null),
              eb('c.updated_at', '<', olderThan),
            ]),
            eb.exists(
              eb
                .selectFrom('messages as m')
                .select(sql`1`.as('one'))
                .whereRef('m.conversation_id', '=', 'c.id')
                .where('m.delivery', '=', 'pending')
                .where('m.created_at', '<', olderThan),
            ),
            eb.exists(
              eb
                .selectFrom('telegram_posts as p')
                .select(sql`1`.as('one'))
                .whereRef('p.conversation_id', '=', 'c.id')
                .where('p.sent_at', 'is', null)
                .where('p.created_at', '<', olderThan),
            ),
          ]),
        )
        // Real work first: conversations lagging only on put-off cosmetic work come last.
        .orderBy(sql`c.cosmetic_due_at is not null`)
        .orderBy('c.created_at')
        .limit(limit)
        .execute()
    );
  }
}
