import { sql, type Kysely, type RawBuilder } from 'kysely';
import { precompiled } from './precompiled';
import {
  DeliveryState,
  MessageKind,
  type Conversation,
  type DB,
  type Message,
  type TelegramPost,
} from './schema';

/** What a conversation's topic still has to show: its row, its waiting bot posts and texts. */
export interface TopicState {
  conversation: Conversation;
  /** Bot posts not sent yet, oldest first (at most `limits.posts`). */
  posts: TelegramPost[];
  /** Visitor messages not accepted by Telegram yet, by seq (at most `limits.messages`). */
  pending: Message[];
  /**
   * The newest agent message the visitor has read that the topic does not mark as seen yet
   * (one with a Telegram message id, not retracted, above `seen_reaction_seq`).
   */
  seen?: Message | undefined;
}

/** Columns of the two kinds of rows that come back as JSON text and are dates. */
const POST_DATES = ['created_at', 'sent_at'] as const;
const MESSAGE_DATES = ['created_at', 'edited_at', 'deleted_at'] as const;

/**
 * Of conversation `c`: the newest agent message in Telegram the visitor has read and the topic
 * does not mark as seen yet, as a JSON array of at most one row.
 */
const newestReadAgentMessage = sql<unknown[]>`(select coalesce(json_agg(m), '[]') from (
  select * from messages where conversation_id = c.id and kind = ${MessageKind.agent}
    and telegram_message_id is not null and deleted_at is null
    and seq > c.seen_reaction_seq and seq <= c.visitor_read_seq
  order by seq desc limit 1) m)`;

type StateRow = Conversation & {
  waiting_posts: unknown;
  waiting_messages: unknown;
  seen_message: unknown;
};

/** The conversations with their waiting posts and texts (`posts`, `messages`: the limits). */
const topicStateSelect = (
  db: Kysely<DB>,
  posts: number | RawBuilder<number>,
  messages: number | RawBuilder<number>,
) =>
  db
    .selectFrom('conversations as c')
    .selectAll('c')
    .select([
      sql<unknown[]>`(select coalesce(json_agg(p order by p.id), '[]') from (
        select * from telegram_posts where conversation_id = c.id and sent_at is null
        order by id limit ${posts}) p)`.as('waiting_posts'),
      sql<unknown[]>`(select coalesce(json_agg(m order by m.seq), '[]') from (
        select * from messages where conversation_id = c.id and delivery = ${DeliveryState.pending}
        order by seq limit ${messages}) m)`.as('waiting_messages'),
      newestReadAgentMessage.as('seen_message'),
    ]);

/** readTopicState's statement, built and compiled once (it runs before every round of a sync). */
const topicStateStatement = precompiled<
  { tenantId: string; conversationId: string; posts: number; messages: number },
  StateRow
>((db, value) =>
  topicStateSelect(db, value('posts'), value('messages'))
    .where('c.tenant_id', '=', value('tenantId'))
    .where('c.id', '=', value('conversationId')),
);

export interface TopicStateLimits {
  posts: number;
  messages: number;
}

const DEFAULT_LIMITS: TopicStateLimits = { posts: 20, messages: 100 };

/**
 * The conversation with its waiting posts and texts, in one statement (the bridge reads this
 * before every round of its sync, so it is one round trip, not three).
 */
export async function readTopicState(
  db: Kysely<DB>,
  tenantId: string,
  conversationId: string,
  limits: TopicStateLimits = DEFAULT_LIMITS,
): Promise<TopicState | undefined> {
  const [row] = await topicStateStatement(db, {
    tenantId,
    conversationId,
    posts: limits.posts,
    messages: limits.messages,
  });
  return row ? toState(row) : undefined;
}

/**
 * readTopicState of several conversations of one tenant in one statement (syncs that start in
 * the same turn), by conversation id; a conversation that does not exist is not in the map.
 */
export async function readTopicStates(
  db: Kysely<DB>,
  tenantId: string,
  conversationIds: readonly string[],
  limits: TopicStateLimits = DEFAULT_LIMITS,
): Promise<Map<string, TopicState>> {
  const states = new Map<string, TopicState>();
  if (conversationIds.length === 0) return states;
  const rows = await topicStateSelect(db, limits.posts, limits.messages)
    .where('c.tenant_id', '=', tenantId)
    .where('c.id', 'in', conversationIds)
    .execute();
  for (const row of rows) states.set(row.id, toState(row));
  return states;
}

function toState(row: StateRow): TopicState {
  const {
    waiting_posts: posts,
    waiting_messages: messages,
    seen_message: seen,
    ...conversation
  } = row;
  return {
    conversation,
    posts: fromJson<TelegramPost>(posts, POST_DATES),
    pending: fromJson<Message>(messages, MESSAGE_DATES),
    seen: fromJson<Message>(seen, MESSAGE_DATES)[0],
  };
}

/**
 * The agent message the topic should mark as seen now, read when the reaction's turn comes: a
 * visitor who read further while it waited moves it to the newer message before it is sent.
 */
export async function readAgentMessageToMark(
  db: Kysely<DB>,
  tenantId: string,
  conversationId: string,
): Promise<Message | undefined> {
  const row = await db
    .selectFrom('conversations as c')
    .select(newestReadAgentMessage.as('seen_message'))
    .where('c.tenant_id', '=', tenantId)
    .where('c.id', '=', conversationId)
    .executeTakeFirst();
  return row ? fromJson<Message>(row.seen_message, MESSAGE_DATES)[0] : undefined;
}

/**
 * A conversation's waiting texts while its topic is still `topicId` (none once the topic was
 * found gone and is made again): what a header carries, read when its turn comes.
 */
export function pendingInTopic(
  db: Kysely<DB>,
  tenantId: string,
  conversationId: string,
  topicId: number,
  limit = 100,
): Promise<Message[]> {
  return db
    .selectFrom('messages')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('conversation_id', '=', conversationId)
    .where('delivery', '=', DeliveryState.pending)
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom('conversations')
          .select(sql`1`.as('one'))
          .where('tenant_id', '=', tenantId)
          .where('id', '=', conversationId)
          .where('topic_id', '=', topicId),
      ),
    )
    .orderBy('seq')
    .limit(limit)
    .execute();
}

/** Rows aggregated to JSON (PGlite may hand it over as text) with their dates made Dates again. */
function fromJson<T>(value: unknown, dates: readonly string[]): T[] {
  const rows = (typeof value === 'string' ? JSON.parse(value) : value) as Array<
    Record<string, unknown>
  >;
  for (const row of rows)
    for (const column of dates) {
      const at = row[column];
      if (typeof at === 'string') row[column] = new Date(at);
    }
  return rows as T[];
}
