import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

/** Timestamps are written as Date (or left to defaults) and read as Date. */
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<
  Date | null,
  Date | string | null | undefined,
  Date | string | null
>;
/** int8 columns are parsed to JS numbers by both drivers (Telegram ids stay below 2^53). */
type Int8 = number;
type NullableInt8 = number | null;
type Json<T> = ColumnType<T, string, string>;

export const ConversationStatus = { open: 'open', closed: 'closed' } as const;
export type ConversationStatus = (typeof ConversationStatus)[keyof typeof ConversationStatus];

export const ConversationChannel = { web: 'web', telegram: 'telegram' } as const;
export type ConversationChannel = (typeof ConversationChannel)[keyof typeof ConversationChannel];

export const MessageKind = { visitor: 'visitor', agent: 'agent', system: 'system' } as const;
export type MessageKind = (typeof MessageKind)[keyof typeof MessageKind];

/** Where a message stands toward the other side (Telegram for visitor messages). */
export const DeliveryState = {
  pending: 'pending',
  delivered: 'delivered',
  failed: 'failed',
  none: 'none',
} as const;
export type DeliveryState = (typeof DeliveryState)[keyof typeof DeliveryState];

export const OutboxDestination = { bus: 'bus', fanout: 'fanout' } as const;
export type OutboxDestination = (typeof OutboxDestination)[keyof typeof OutboxDestination];

export interface TenantTable {
  id: string;
  name: string;
  created_at: Generated<Date>;
}

export interface ConversationTable {
  id: string;
  tenant_id: string;
  ticket: string;
  channel: ConversationChannel;
  status: ConversationStatus;
  visitor_name: string | null;
  locale: string | null;
  page_url: string | null;
  page_title: string | null;
  /** Forum topic (message_thread_id) in the support group, once created. */
  topic_id: NullableInt8;
  topic_closed: Generated<boolean>;
  /** Highest seq handed out; the next message takes last_seq + 1 under the row lock. */
  last_seq: Generated<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
  last_activity_at: Timestamp;
  closed_at: NullableTimestamp;
}

export interface MessageTable {
  id: Generated<Int8>;
  tenant_id: string;
  conversation_id: string;
  seq: number;
  kind: MessageKind;
  text: string;
  /** Display name shown to the visitor (agents), never a Telegram name. */
  author_name: string | null;
  agent_id: NullableInt8;
  client_id: string | null;
  telegram_chat_id: NullableInt8;
  telegram_message_id: NullableInt8;
  delivery: DeliveryState;
  delivery_error: string | null;
  created_at: Timestamp;
  edited_at: NullableTimestamp;
}

export interface MessageEditTable {
  id: Generated<Int8>;
  tenant_id: string;
  message_id: Int8;
  previous_text: string;
  edited_at: Timestamp;
}

export interface AgentTable {
  id: Generated<Int8>;
  tenant_id: string;
  telegram_user_id: Int8;
  display_name: string;
  role: string;
  active: Generated<boolean>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface AuditLogTable {
  id: Generated<Int8>;
  tenant_id: string;
  actor_type: string;
  actor_id: string | null;
  action: string;
  conversation_id: string | null;
  details: Json<Record<string, unknown>>;
  created_at: Timestamp;
}

export interface OutboxTable {
  id: Generated<Int8>;
  tenant_id: string;
  destination: OutboxDestination;
  /** For `bus`: the topic name in the bus catalogue; for `fanout`: the conversation id. */
  topic: string;
  payload: Json<Record<string, unknown>>;
  attempts: Generated<number>;
  last_error: string | null;
  created_at: Timestamp;
}

export interface TelegramUpdateTable {
  tenant_id: string;
  bot_id: string;
  update_id: Int8;
  processed_at: Timestamp;
}

export interface DB {
  tenants: TenantTable;
  conversations: ConversationTable;
  messages: MessageTable;
  message_edits: MessageEditTable;
  agents: AgentTable;
  audit_log: AuditLogTable;
  outbox: OutboxTable;
  telegram_updates: TelegramUpdateTable;
}

export type Conversation = Selectable<ConversationTable>;
export type NewConversation = Insertable<ConversationTable>;
export type ConversationUpdate = Updateable<ConversationTable>;
export type Message = Selectable<MessageTable>;
export type Agent = Selectable<AgentTable>;
export type AuditEntry = Selectable<AuditLogTable>;
export type OutboxRow = Selectable<OutboxTable>;

export const DEFAULT_TENANT_ID = 'default';
