import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';
import type { TenantTable } from './tenant.schema';

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

/** An agent's presence: only `online` agents are given conversations automatically. */
export const AgentPresence = { online: 'online', away: 'away', offline: 'offline' } as const;
export type AgentPresence = (typeof AgentPresence)[keyof typeof AgentPresence];

/** A conversation's priority: orders the assignment queue (high first). */
export const ConversationPriority = { high: 'high', normal: 'normal', low: 'low' } as const;
export type ConversationPriority = (typeof ConversationPriority)[keyof typeof ConversationPriority];

export const OutboxDestination = { bus: 'bus', fanout: 'fanout' } as const;
export type OutboxDestination = (typeof OutboxDestination)[keyof typeof OutboxDestination];

export interface DeadLetterTable {
  id: Generated<Int8>;
  tenant_id: string;
  /** The bus topic's catalogue name (conversationSync, telegramUpdate, topicRemoval). */
  topic: string;
  durable: string;
  reason: string;
  deliveries: number;
  error_code: string;
  error: string;
  /** The raw protobuf payload, base64. */
  payload: string;
  conversation_id: string | null;
  created_at: Generated<Date>;
  replayed_at: NullableTimestamp;
  replays: Generated<number>;
}

export interface ConversationTable {
  id: string;
  tenant_id: string;
  ticket: string;
  channel: ConversationChannel;
  status: ConversationStatus;
  visitor_name: string | null;
  /** From the widget's pre-chat form, where PRECHAT_FIELDS allows it (migration 0009). */
  visitor_email: string | null;
  locale: string | null;
  page_url: string | null;
  page_title: string | null;
  /**
   * The role or segment a bot channel's plugin passed (client, provider, vip…; issue 19): in
   * the topic header and the priority rules. Never a name. Null: none (every web conversation).
   */
  segment: Generated<string | null>;
  /** The support group whose topic the conversation lives in; null: the default group. */
  group_chat_id: NullableInt8;
  /** Forum topic (message_thread_id) in the support group, once created. */
  topic_id: NullableInt8;
  topic_closed: Generated<boolean>;
  /** Highest seq handed out; the next message takes last_seq + 1 under the row lock. */
  last_seq: Generated<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
  last_activity_at: Timestamp;
  closed_at: NullableTimestamp;
  claimed_by_agent_id: NullableInt8;
  claimed_by_telegram_user_id: NullableInt8;
  /** Display name of the claiming agent ("Support" for unregistered members). */
  claimed_by_name: string | null;
  claimed_at: NullableTimestamp;
  /** The escalation level, 1–3 (migration 0015; /escalate moves it up). */
  level: Generated<number>;
  /** Since when it waits for an agent: its start, an unclaim, an escalation (0015). */
  waiting_since: Generated<Date>;
  /** The first agent reply, for the first-response-time statistic. */
  first_response_at: NullableTimestamp;
  /** The pinned header in the topic and its last text (edited when the status changes). */
  header_message_id: NullableInt8;
  header_text: string | null;
  /** The bot that posted the header (only it can edit it); NULL: the main bot. */
  header_bot_id: string | null;
  header_pinned: Generated<boolean>;
  /** Renames, header edits or pins put off under load are due again from then (the sweep). */
  cosmetic_due_at: NullableTimestamp;
  /** Its sync ran out of retries (a dead letter): the sweep leaves it until new work comes. */
  sync_given_up_at: NullableTimestamp;
  /** The topic's name as last set in Telegram (it carries the status). */
  topic_name: string | null;
  /** Unclaimed reminders posted so far. */
  reminders_sent: Generated<number>;
  /** Visitor tokens of this generation are valid; a refresh moves it on (`rotateToken`). */
  token_generation: Generated<number>;
  /** When `token_generation` last moved on. */
  token_rotated_at: NullableTimestamp;
  /** The highest seq the visitor has seen (the widget's `read` frame); only grows. */
  visitor_read_seq: Generated<number>;
  /** The agent message whose 👀 reaction the topic shows (its seq; 0: none yet); only grows. */
  seen_reaction_seq: Generated<number>;
  /** Orders the assignment queue; set with /priority (migration 0011). */
  priority: ColumnType<
    ConversationPriority,
    ConversationPriority | undefined,
    ConversationPriority
  >;
  /** Its personal data was erased (a data-subject request, migration 0019); the row stays. */
  erased_at: NullableTimestamp;
}

/** What stays of an erased conversation (migration 0019); outlives the conversation's row. */
export interface ConversationTombstoneTable {
  tenant_id: string;
  conversation_id: string;
  ticket: string;
  erased_at: Timestamp;
  /** The audit actor: `admin` (the admin API) or `visitor` (the private chat's /forget). */
  erased_by_type: string;
  erased_by_id: string | null;
  topic_policy: 'delete' | 'keep';
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
  /** The bot that posted it into the topic (a visitor message). */
  telegram_bot_id: string | null;
  delivery: DeliveryState;
  delivery_error: string | null;
  created_at: Timestamp;
  edited_at: NullableTimestamp;
  /** Retracted by an agent (/delete): the visitor no longer sees the text. */
  deleted_at: NullableTimestamp;
  /** Files it carries (migration 0013); such a message goes to Telegram on its own. */
  attachment_count: Generated<number>;
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
  /** Set from Telegram (/online, /away, /offline) or by the idle job (migration 0011). */
  presence: ColumnType<AgentPresence, AgentPresence | undefined, AgentPresence>;
  presence_changed_at: NullableTimestamp;
  /** Their last message or command in a support group (the idle job reads it). */
  last_active_at: NullableTimestamp;
  /** Most open conversations at once; null: AGENT_CAPACITY_DEFAULT. */
  capacity: number | null;
  /** The support group they serve (null: every group). */
  group_chat_id: NullableInt8;
  /** The escalation level they serve (null: every level). */
  level: number | null;
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

/** Internal agent notes: stored and shown to agents, never sent to the visitor. */
export interface NoteTable {
  id: Generated<Int8>;
  tenant_id: string;
  conversation_id: string;
  agent_id: NullableInt8;
  author_name: string;
  text: string;
  telegram_message_id: NullableInt8;
  created_at: Timestamp;
}

export interface SystemTemplateTable {
  tenant_id: string;
  key: string;
  /** '' is the default locale. */
  locale: string;
  text: string;
  ws_banner: boolean;
  persist: boolean;
  telegram: boolean;
  pin: boolean;
  min_interval_ms: number;
  updated_at: Timestamp;
}

export interface SystemMessageMarkTable {
  tenant_id: string;
  conversation_id: string;
  key: string;
  last_at: Timestamp;
}

/** Bot posts for a topic (system messages, command answers), sent in order under the budgets. */
export interface TelegramPostTable {
  id: Generated<Int8>;
  tenant_id: string;
  conversation_id: string;
  text: string;
  pin: Generated<boolean>;
  reply_to_message_id: NullableInt8;
  created_at: Timestamp;
  sent_at: NullableTimestamp;
  telegram_message_id: NullableInt8;
  telegram_bot_id: string | null;
  /** Telegram message entities of the text (a `text_mention` of an assigned agent; 0011). */
  entities: ColumnType<PostEntity[] | null, string | null | undefined, string | null>;
  /**
   * Where it goes when not to the conversation's current topic (0015): the topic an escalation
   * moved the conversation away from. Both null: the current topic.
   */
  chat_id: NullableInt8;
  thread_id: NullableInt8;
}

/** Who moved a conversation up a level: an agent (/escalate) or the SLA job. */
export const EscalatedBy = { agent: 'agent', sla: 'sla' } as const;
export type EscalatedBy = (typeof EscalatedBy)[keyof typeof EscalatedBy];

/** One move of a conversation up a level, with the topic it left (migration 0015). */
export interface ConversationEscalationTable {
  id: Generated<Int8>;
  tenant_id: string;
  conversation_id: string;
  from_level: number;
  to_level: number;
  reason: string | null;
  by_type: EscalatedBy;
  /** The agent's Telegram user id (as text); null for the SLA job. */
  by_id: string | null;
  /** The topic it left when it moved to another group (null: it stayed in its topic). */
  from_group_chat_id: NullableInt8;
  from_topic_id: NullableInt8;
  /** The group it moved to (null: it stayed in its group). */
  to_group_chat_id: NullableInt8;
  created_at: Timestamp;
}

/** A message entity of a bot post, as the Bot API takes it (offsets in UTF-16 units). */
export interface PostEntity {
  type: 'text_mention';
  offset: number;
  length: number;
  user: { id: number; first_name: string };
}

/** A Telegram user of the bot's private chat: their id only encrypted, found by a keyed hash. */
export interface TelegramUserTable {
  id: string;
  tenant_id: string;
  /** HMAC-SHA256 (hex) of the Telegram user id under the lookup key of `key_id`. */
  lookup_hash: string;
  /** Fingerprint of the key that encrypted this row. */
  key_id: string;
  /** AES-256-GCM nonce and ciphertext+tag (base64) of the Telegram user id. */
  nonce: string;
  ciphertext: string;
  /** For the language of the bot's answers only; never shown to agents. */
  language_code: string | null;
  created_at: Timestamp;
  last_seen_at: Timestamp;
  /** The bot channel the user writes to (issue 19); null: Topicdesk's own bot. */
  bot_channel_id: string | null;
}

/** A bot an owner runs with the `@topicdesk/grammy` plugin (issue 19). */
export interface BotChannelTable {
  id: string;
  tenant_id: string;
  name: string | null;
  /** The token's prefix: the bot's Telegram id. */
  bot_id: string;
  /** The token, AES-256-GCM under a key derived from TELEGRAM_USER_KEY (`key_id` names it). */
  token_key_id: string;
  token_nonce: string;
  token_ciphertext: string;
  /** SHA-256 (hex) of the channel secret the plugin sends. */
  secret_hash: string;
  created_at: Timestamp;
  deleted_at: NullableTimestamp;
}

/** A `telegram` channel conversation: its user and what was sent to their private chat. */
export interface TelegramConversationTable {
  conversation_id: string;
  tenant_id: string;
  telegram_user_id: string;
  /** Agent and system messages up to this seq were sent to the private chat. */
  delivered_seq: Generated<number>;
  /** The message whose private copy carries the "End" button. */
  end_button_seq: number | null;
  /** When the rating prompt of the latest close was sent (the rating: `conversation_ratings`). */
  rating_prompted_at: NullableTimestamp;
  created_at: Timestamp;
}

/** The bot's copy of an agent or system message in a private chat (for edits and retractions). */
export interface TelegramPrivateMessageTable {
  message_id: Int8;
  tenant_id: string;
  conversation_id: string;
  telegram_message_id: Int8;
  /** The `edited_at` of the version the copy shows (null: the original). */
  synced_edit_at: NullableTimestamp;
  retracted: Generated<boolean>;
}

/** A support group besides the default one (SUPPORT_GROUP_ID), registered through the admin API. */
export interface SupportGroupTable {
  tenant_id: string;
  /** The forum supergroup's Telegram chat id (-100…). */
  chat_id: Int8;
  title: string | null;
  /** 1 takes new conversations (by segment, then locale); 2 and 3 are escalation levels. */
  level: Generated<number>;
  /** BCP 47 tags of the conversations routed here, as given; may be empty. */
  locales: ColumnType<string[], string | undefined, string>;
  /** Bot channel segments routed here before the locale rule, matched exactly (0025). */
  segments: ColumnType<string[], readonly string[] | undefined, readonly string[]>;
  /** Inactive: no new conversations are routed here; those already here stay. */
  active: Generated<boolean>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** A visitor's rating of a conversation (CSAT), one per conversation, from either channel. */
export interface ConversationRatingTable {
  conversation_id: string;
  tenant_id: string;
  /** 1–5. */
  score: number;
  comment: string | null;
  /** Where it was given: the widget (`web`) or the private chat (`telegram`). */
  channel: ConversationChannel;
  created_at: Timestamp;
}

/** One interval of a weekly schedule: `day` 0–6 (0 = Sunday), local `HH:MM` times. */
export interface BusinessInterval {
  day: number;
  start: string;
  end: string;
}

/** A tenant's business hours (reports' business-hours variants); no row: 24/7 in UTC. */
export interface BusinessHoursTable {
  tenant_id: string;
  /** IANA time zone the schedule's times are local to. */
  time_zone: string;
  schedule: ColumnType<BusinessInterval[], string, string>;
  updated_at: Timestamp;
}

/** A rule of the admin API: a new conversation whose page and locale match gets the priority. */
export interface PriorityRuleTable {
  tenant_id: string;
  /** The first matching rule (lowest position) wins. */
  position: number;
  /** The page URL starts with this (null: any page). */
  page_url_prefix: string | null;
  /** The locale is this tag or a subtag of it (`de` takes `de-AT`); null: any locale. */
  locale: string | null;
  /** The conversation's segment (a bot channel's role) is this; null: any, and web conversations. */
  segment: string | null;
  priority: ConversationPriority;
}

/** Where an attached file stands: uploaded or not yet, checked and shown, or refused. */
export const AttachmentState = { pending: 'pending', ready: 'ready', refused: 'refused' } as const;
export type AttachmentState = (typeof AttachmentState)[keyof typeof AttachmentState];

/** A file a visitor attaches (migration 0013); its bytes are in object storage. */
export interface AttachmentTable {
  id: string;
  tenant_id: string;
  conversation_id: string;
  /** The message that carries it; null until one does (an orphan after a while). */
  message_id: NullableInt8;
  /** Its place among the message's attachments. */
  position: Generated<number>;
  /** The file's name as the visitor gave it (shown as text, used for downloads). */
  name: string;
  declared_type: string;
  declared_size: Int8;
  state: ColumnType<AttachmentState, AttachmentState | undefined, AttachmentState>;
  /** Sniffed from the bytes once checked. */
  type: string | null;
  size: NullableInt8;
  width: number | null;
  height: number | null;
  refused_code: string | null;
  created_at: Generated<Date>;
  checked_at: NullableTimestamp;
}

/** What an SLA target measures: to the first agent reply, or to the close. */
export const SlaTarget = { firstResponse: 'first_response', resolution: 'resolution' } as const;
export type SlaTarget = (typeof SlaTarget)[keyof typeof SlaTarget];

/** What the scheduler posted about a target: the reminder before it, the notice once it passed. */
export const SlaEventKind = { reminder: 'reminder', breach: 'breach' } as const;
export type SlaEventKind = (typeof SlaEventKind)[keyof typeof SlaEventKind];

/** One priority's targets in seconds (absent: none), counted in business hours or not. */
export interface SlaTargetSet {
  first_response?: number | undefined;
  resolution?: number | undefined;
  business_hours: boolean;
}

/** A tenant's SLA targets by priority (migration 0016); no row: no SLA. */
export interface SlaPolicyTable {
  tenant_id: string;
  targets: ColumnType<Partial<Record<ConversationPriority, SlaTargetSet>>, string, string>;
  /** Reminders go out at this share of a target; null: no reminders. */
  remind_at_percent: number | null;
  updated_at: Timestamp;
}

/** A breach's automatic escalation: waiting for the escalator, done, or given up. */
export const SlaEscalationState = { pending: 'pending', done: 'done', failed: 'failed' } as const;
export type SlaEscalationState = (typeof SlaEscalationState)[keyof typeof SlaEscalationState];

/** A reminder or breach notice posted for a conversation's target, once (migration 0016). */
export interface SlaEventTable {
  conversation_id: string;
  tenant_id: string;
  target: SlaTarget;
  kind: SlaEventKind;
  priority: ConversationPriority;
  target_seconds: number;
  business_hours: boolean;
  created_at: Timestamp;
  escalation: SlaEscalationState | null;
  escalation_attempts: Generated<number>;
  escalation_error: string | null;
}

/** A one-time sign-in link to the console (migration 0018): only its token's hash is kept. */
export interface ConsoleLinkTable {
  id: Generated<Int8>;
  tenant_id: string;
  /** SHA-256 (hex) of the link's token. */
  token_hash: string;
  agent_id: Int8;
  created_at: Generated<Date>;
  expires_at: Timestamp;
  /** Set once, by the sign-in that consumed it. */
  used_at: NullableTimestamp;
}

/** A signed-in console browser (migration 0018): only the cookie secret's hash is kept. */
export interface ConsoleSessionTable {
  /** Public: lists and revocation name sessions by it. */
  id: string;
  tenant_id: string;
  /** SHA-256 (hex) of the cookie's secret. */
  secret_hash: string;
  agent_id: Int8;
  /** The agent's role at sign-in (requests use their role as it is now). */
  role: string;
  user_agent: string | null;
  created_at: Generated<Date>;
  last_seen_at: Timestamp;
  expires_at: Timestamp;
  revoked_at: NullableTimestamp;
}

export interface DB {
  attachments: AttachmentTable;
  tenants: TenantTable;
  conversations: ConversationTable;
  messages: MessageTable;
  message_edits: MessageEditTable;
  agents: AgentTable;
  audit_log: AuditLogTable;
  outbox: OutboxTable;
  telegram_updates: TelegramUpdateTable;
  notes: NoteTable;
  system_templates: SystemTemplateTable;
  system_message_marks: SystemMessageMarkTable;
  telegram_posts: TelegramPostTable;
  dead_letters: DeadLetterTable;
  telegram_users: TelegramUserTable;
  bot_channels: BotChannelTable;
  telegram_conversations: TelegramConversationTable;
  telegram_private_messages: TelegramPrivateMessageTable;
  support_groups: SupportGroupTable;
  conversation_ratings: ConversationRatingTable;
  business_hours: BusinessHoursTable;
  priority_rules: PriorityRuleTable;
  sla_policies: SlaPolicyTable;
  sla_events: SlaEventTable;
  console_links: ConsoleLinkTable;
  console_sessions: ConsoleSessionTable;
  conversation_escalations: ConversationEscalationTable;
  conversation_tombstones: ConversationTombstoneTable;
}

export type Conversation = Selectable<ConversationTable>;
export type NewConversation = Insertable<ConversationTable>;
export type ConversationUpdate = Updateable<ConversationTable>;
export type Message = Selectable<MessageTable>;
export type Agent = Selectable<AgentTable>;
export type AuditEntry = Selectable<AuditLogTable>;
export type OutboxRow = Selectable<OutboxTable>;
export type Note = Selectable<NoteTable>;
export type SystemTemplate = Selectable<SystemTemplateTable>;
export type TelegramPost = Selectable<TelegramPostTable>;
export type DeadLetterRow = Selectable<DeadLetterTable>;
export type TelegramUser = Selectable<TelegramUserTable>;
export type BotChannel = Selectable<BotChannelTable>;
export type TelegramConversation = Selectable<TelegramConversationTable>;
export type TelegramPrivateMessage = Selectable<TelegramPrivateMessageTable>;
export type SupportGroup = Selectable<SupportGroupTable>;
export type ConversationRating = Selectable<ConversationRatingTable>;
export type BusinessHours = Selectable<BusinessHoursTable>;
export type PriorityRule = Selectable<PriorityRuleTable>;
export type ConversationEscalation = Selectable<ConversationEscalationTable>;
export type Attachment = Selectable<AttachmentTable>;
export type SlaPolicy = Selectable<SlaPolicyTable>;
export type SlaEvent = Selectable<SlaEventTable>;
export type ConsoleLink = Selectable<ConsoleLinkTable>;
export type ConsoleSession = Selectable<ConsoleSessionTable>;
export type ConversationTombstone = Selectable<ConversationTombstoneTable>;

export const DEFAULT_TENANT_ID = 'default';
