import { sql, type Kysely } from 'kysely';
import { ConversationClosedError, ConversationNotFoundError } from './errors';
import { precompiled } from './precompiled';
import { ConversationRepository } from './repositories/conversation.repository';
import { MessageRepository } from './repositories/message.repository';
import type { OutboxInput } from './repositories/outbox.repository';
import {
  ConversationStatus,
  type Conversation,
  type DB,
  type DeliveryState,
  type Message,
  type MessageKind,
  type OutboxRow,
} from './schema';

export interface AppendMessageInput {
  tenantId: string;
  conversationId: string;
  kind: MessageKind;
  text: string;
  delivery: DeliveryState;
  at?: Date | undefined;
  /** The sender's idempotency key: the same clientId twice stores one message. */
  clientId?: string | undefined;
  authorName?: string | null | undefined;
  agentId?: number | null | undefined;
  telegramChatId?: number | null | undefined;
  telegramMessageId?: number | null | undefined;
  /** Refuse with ConversationClosedError when the conversation is closed. */
  requireOpen?: boolean | undefined;
}

export interface AppendMessageResult {
  message: Message;
  conversation: Conversation;
  /** True when the clientId had been stored before; nothing new was written. */
  duplicate: boolean;
  /** No message of the same kind came before it in the conversation (false for a duplicate). */
  firstOfKind: boolean;
}

/**
 * Appends one message to a conversation's log with the next gap-free seq. Must run inside a
 * transaction: the conversation row lock orders concurrent writers, and a rollback takes the
 * seq back with it.
 *
 * Two statements: the row lock, then one statement that checks the clientId, bumps the seq,
 * inserts and tells whether the message is the first of its kind. The lock must be a statement
 * of its own: a statement's snapshot is taken when it starts, so checks folded into the
 * statement that waits for the lock would not see what the writer it waited for committed (a
 * duplicate clientId stored twice, a second "first" visitor message). After the lock, the next
 * statement's snapshot holds every earlier writer's commit, and no later writer gets in.
 */
export async function appendMessage(
  trx: Kysely<DB>,
  input: AppendMessageInput,
): Promise<AppendMessageResult> {
  const conversation = await new ConversationRepository(trx).lock(
    input.tenantId,
    input.conversationId,
  );
  if (input.requireOpen && conversation.status === ConversationStatus.closed) {
    // A resend of what was stored before the conversation closed is still acked as stored.
    const existing =
      input.clientId === undefined
        ? undefined
        : await new MessageRepository(trx).findByClientId(
            input.tenantId,
            conversation.id,
            input.clientId,
          );
    if (existing) return { message: existing, conversation, duplicate: true, firstOfKind: false };
    throw new ConversationClosedError(conversation.id);
  }
  const at = input.at ?? new Date();
  const row = await appendLocked(trx, conversation, input, at);
  const { duplicate, first_of_kind: firstOfKind, ...message } = row;
  if (duplicate) return { message, conversation, duplicate: true, firstOfKind: false };
  return {
    message,
    conversation: { ...conversation, last_seq: message.seq },
    duplicate: false,
    firstOfKind,
  };
}

/** What one append puts into its statement. */
interface AppendValues {
  [name: string]: unknown;
  tenantId: string;
  conversationId: string;
  clientId: string | null;
  kind: MessageKind;
  text: string;
  authorName: string | null;
  agentId: number | null;
  telegramChatId: number | null;
  telegramMessageId: number | null;
  delivery: DeliveryState;
  at: Date;
}

/**
 * The append's one statement, built and compiled once per shape (with a clientId to look up or
 * without): it looks the clientId up, bumps `last_seq` only when it inserts, inserts, and tells
 * whether the message is the first of its kind.
 */
const appendStatement = (withClientId: boolean) =>
  precompiled<AppendValues, Message & { duplicate: boolean; first_of_kind: boolean }>(
    (trx, value) =>
      trx
        .with('existing', (db) =>
          db
            .selectFrom('messages')
            .selectAll()
            .where('conversation_id', '=', value('conversationId'))
            .where(
              withClientId ? sql<boolean>`client_id = ${value('clientId')}` : sql<boolean>`false`,
            ),
        )
        .with('bumped', (db) =>
          db
            .updateTable('conversations')
            .set({
              last_seq: sql`last_seq + 1`,
              last_activity_at: value('at'),
              updated_at: value('at'),
            })
            .where('tenant_id', '=', value('tenantId'))
            .where('id', '=', value('conversationId'))
            .where((eb) => eb.not(eb.exists(eb.selectFrom('existing').select('id'))))
            .returning('last_seq'),
        )
        .with('inserted', (db) =>
          db
            .insertInto('messages')
            .columns([
              'tenant_id',
              'conversation_id',
              'seq',
              'kind',
              'text',
              'author_name',
              'agent_id',
              'client_id',
              'telegram_chat_id',
              'telegram_message_id',
              'delivery',
              'delivery_error',
              'created_at',
            ])
            .expression(
              db
                .selectFrom('bumped')
                .select([
                  value('tenantId').as('tenant_id'),
                  value('conversationId').as('conversation_id'),
                  'bumped.last_seq',
                  value('kind').as('kind'),
                  value('text').as('text'),
                  value('authorName').as('author_name'),
                  value('agentId').as('agent_id'),
                  value('clientId').as('client_id'),
                  value('telegramChatId').as('telegram_chat_id'),
                  value('telegramMessageId').as('telegram_message_id'),
                  value('delivery').as('delivery'),
                  sql.val(null).as('delivery_error'),
                  value('at').as('created_at'),
                ]),
            )
            .returningAll(),
        )
        .selectFrom('inserted')
        .selectAll()
        .select((eb) => [
          sql<boolean>`false`.as('duplicate'),
          eb
            .not(
              eb.exists(
                eb
                  .selectFrom('messages as earlier')
                  .select('earlier.id')
                  .where('earlier.conversation_id', '=', value('conversationId'))
                  .where('earlier.kind', '=', value('kind'))
                  .whereRef('earlier.seq', '<', 'inserted.seq'),
              ),
            )
            .$castTo<boolean>()
            .as('first_of_kind'),
        ])
        .unionAll((db) =>
          db
            .selectFrom('existing')
            .selectAll()
            .select([sql<boolean>`true`.as('duplicate'), sql<boolean>`false`.as('first_of_kind')]),
        ),
  );

const APPEND = { withClientId: appendStatement(true), withoutClientId: appendStatement(false) };

/**
 * With the conversation row locked: the message stored under the clientId already, or the new
 * one with the next seq (last_seq bumped in the same statement, only when it is inserted).
 */
async function appendLocked(
  trx: Kysely<DB>,
  conversation: Conversation,
  input: AppendMessageInput,
  at: Date,
): Promise<Message & { duplicate: boolean; first_of_kind: boolean }> {
  const { clientId } = input;
  const append = clientId === undefined ? APPEND.withoutClientId : APPEND.withClientId;
  const [row] = await append(trx, {
    tenantId: conversation.tenant_id,
    conversationId: conversation.id,
    clientId: clientId ?? null,
    kind: input.kind,
    text: input.text,
    authorName: input.authorName ?? null,
    agentId: input.agentId ?? null,
    telegramChatId: input.telegramChatId ?? null,
    telegramMessageId: input.telegramMessageId ?? null,
    delivery: input.delivery,
    at,
  });
  if (!row) throw new Error(`no row appended to conversation ${conversation.id}`);
  return row;
}

export interface VisitorAppendInput {
  tenantId: string;
  conversationId: string;
  /** The sender's idempotency key: the same clientId twice stores one message. */
  clientId: string;
  text: string;
  at: Date;
  /**
   * The outbox rows that announce the message, written by the same statement; a payload with a
   * `seq` key gets the message's seq (it is not known before the row lock is held).
   */
  announce: readonly OutboxInput[];
}

export type VisitorAppendResult =
  | { outcome: 'stored'; message: Message; rows: OutboxRow[] }
  | { outcome: 'duplicate'; message: Message }
  /**
   * Nothing was written: the conversation holds no visitor message yet, and the first is
   * answered with the welcome, which the caller stores with it in one transaction.
   */
  | { outcome: 'first' };

/** What `topicdesk_append_visitor_message` answers (migration 0021), dates as JSON strings. */
type AppendAnswer =
  | { outcome: 'stored'; message: Json<Message>; outbox: Json<OutboxRow>[] }
  | { outcome: 'duplicate'; message: Json<Message> }
  | { outcome: 'first' | 'closed' | 'missing' };

/** A row as `to_jsonb` gives it: its timestamps are strings. */
type Json<T> = {
  [K in keyof T]: T[K] extends Date ? string : T[K] extends Date | null ? string | null : T[K];
};

/** The row `to_jsonb` gave: its timestamps (every `…_at` column) as dates again. */
function messageOf(json: Json<Message>): Message {
  const row: Record<string, unknown> = { ...json };
  for (const [key, value] of Object.entries(row))
    if (key.endsWith('_at') && typeof value === 'string') row[key] = new Date(value);
  return row as unknown as Message;
}

const appendVisitorStatement = precompiled<
  {
    tenantId: string;
    conversationId: string;
    clientId: string;
    text: string;
    at: Date;
    outbox: string;
  },
  { answer: AppendAnswer }
>((db, value) =>
  db.selectNoFrom(
    sql<AppendAnswer>`topicdesk_append_visitor_message(${value('tenantId')}, ${value('conversationId')}, ${value('clientId')}, ${value('text')}, ${value('at')}, ${value('outbox')})`.as(
      'answer',
    ),
  ),
);

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * A JSON.stringify replacer: a lone surrogate becomes U+FFFD, as the message's text column
 * stores it (pg encodes text as UTF-8), where jsonb would refuse the whole array for it.
 */
function wellFormedStrings(_key: string, value: unknown): unknown {
  return typeof value === 'string' ? value.replace(LONE_SURROGATE, '\uFFFD') : value;
}

/**
 * A visitor's text message (no files) in one statement and one commit, with the outbox rows
 * that announce it: the row lock, the clientId look-up, the seq, the insert and the rows, as
 * `appendMessage` and `OutboxRepository.add` in a transaction would, but in one round trip
 * instead of five (migration 0021). Runs outside a transaction (`UnitOfWork.single`). A
 * conversation's first visitor message is left to the caller (`first`): it comes with the
 * welcome. Throws ConversationClosedError for a new message to a closed conversation (a resend
 * of one stored before it closed is a `duplicate`), ConversationNotFoundError for none.
 */
export async function appendVisitorMessage(
  db: Kysely<DB>,
  input: VisitorAppendInput,
): Promise<VisitorAppendResult> {
  const [row] = await appendVisitorStatement(db, {
    tenantId: input.tenantId,
    conversationId: input.conversationId,
    clientId: input.clientId,
    text: input.text,
    at: input.at,
    outbox: JSON.stringify(
      input.announce.map((row) => ({
        destination: row.destination,
        topic: row.topic,
        payload: row.payload,
      })),
      wellFormedStrings,
    ),
  });
  if (!row) throw new Error(`no answer appending to conversation ${input.conversationId}`);
  const { answer } = row;
  switch (answer.outcome) {
    case 'stored':
      return {
        outcome: 'stored',
        message: messageOf(answer.message),
        rows: answer.outbox.map((json) => ({ ...json, created_at: new Date(json.created_at) })),
      };
    case 'duplicate':
      return { outcome: 'duplicate', message: messageOf(answer.message) };
    case 'first':
      return { outcome: 'first' };
    case 'closed':
      throw new ConversationClosedError(input.conversationId);
    case 'missing':
      throw new ConversationNotFoundError(input.conversationId);
    default: {
      const never: never = answer;
      throw new Error(`unknown append outcome ${JSON.stringify(never)}`);
    }
  }
}
