import { isRecord } from '../params';
import type {
  BotCommand,
  BotUser,
  Chat,
  InlineKeyboardMarkup,
  LinkPreviewOptions,
  Message,
  MessageEntity,
  Update,
  User,
} from '../telegram.types';

// What the simulated Telegram world holds: its records (bots, chats, topics, messages,
// callback queries), the shape it is saved in, and the constants of Telegram's rules.

export const DEFAULT_SUPERGROUP_ID = -1001000000001;
export const DEFAULT_SUPERGROUP_TITLE = 'Support (sandbox)';
/** The General topic's thread id; not a real topic for the Bot API. */
export const GENERAL_THREAD_ID = 1;
export const MAX_TEXT_LENGTH = 4096;
/** The six colours Telegram allows for topic icons; the first is its default. */
export const TOPIC_ICON_COLORS = [
  0x6fb9f0, 0xffd67e, 0xcb86db, 0x8eee98, 0xff93b2, 0xfb6f5f,
] as const;
/** The emoji Telegram takes as a `ReactionTypeEmoji` (Bot API, "ReactionTypeEmoji"). */
export const REACTION_EMOJI: ReadonlySet<string> = new Set([
  ...['👍', '👎', '❤', '🔥', '🥰', '👏', '😁', '🤔', '🤯', '😱', '🤬', '😢', '🎉', '🤩', '🤮'],
  ...['💩', '🙏', '👌', '🕊', '🤡', '🥱', '🥴', '😍', '🐳', '❤‍🔥', '🌚', '🌭', '💯', '🤣', '⚡'],
  ...['🍌', '🏆', '💔', '🤨', '😐', '🍓', '🍾', '💋', '🖕', '😈', '😴', '😭', '🤓', '👻', '👨‍💻'],
  ...['👀', '🎃', '🙈', '😇', '😨', '🤝', '✍', '🤗', '🫡', '🎅', '🎄', '☃', '💅', '🤪', '🗿'],
  ...['🆒', '💘', '🙉', '🦄', '😘', '💊', '🙊', '😎', '👾', '🤷‍♂', '🤷', '🤷‍♀', '😡'],
]);
/** Reactions a bot may set on one message (it is not a premium user). */
export const MAX_BOT_REACTIONS = 1;
/** Telegram forgets a callback query it was not answered for after about 15 minutes. */
export const CALLBACK_QUERY_TTL_MS = 15 * 60_000;

export interface TopicRecord {
  threadId: number;
  name: string;
  iconColor: number;
  iconCustomEmojiId?: string;
  closed: boolean;
  deleted: boolean;
  /** The bot that created the topic: it may edit, close and reopen it without can_manage_topics. */
  creatorId?: number;
}

export interface MessageVersion {
  text: string;
  /** Unix seconds at which this version was replaced. */
  replacedAt: number;
}

/** One user's or bot's reaction on a message (`setMessageReaction` replaces a bot's own). */
export interface ReactionRecord {
  userId: number;
  emoji: string;
  isBig: boolean;
}

export interface StoredMessage {
  message: Message;
  /** Earlier texts, oldest first. */
  edits: MessageVersion[];
  pinned: boolean;
  /** Absent in files written before reactions existed. */
  reactions?: ReactionRecord[];
}

export interface MemberRecord {
  user: User;
  isAdmin: boolean;
}

/** A bot's standing in a supergroup, as `state.setMember` sets it. */
export const MemberStatus = {
  administrator: 'administrator',
  member: 'member',
  left: 'left',
} as const;
export type MemberStatus = (typeof MemberStatus)[keyof typeof MemberStatus];

/** The administrator rights the sandbox enforces; the Bot API's names. */
export interface MemberRights {
  can_manage_topics?: boolean;
  can_pin_messages?: boolean;
  can_delete_messages?: boolean;
}

export interface BotMembership {
  status: MemberStatus;
  can_manage_topics: boolean;
  can_pin_messages: boolean;
  can_delete_messages: boolean;
}

/** Every bot's standing in a supergroup until told otherwise: an administrator with every right. */
export const DEFAULT_BOT_MEMBERSHIP: Readonly<BotMembership> = {
  status: MemberStatus.administrator,
  can_manage_topics: true,
  can_pin_messages: true,
  can_delete_messages: true,
};

export type Right = keyof MemberRights;

export interface ChatRecord {
  chat: Chat;
  nextMessageId: number;
  messages: Map<number, StoredMessage>;
  topics: Map<number, TopicRecord>;
  members: Map<number, MemberRecord>;
  /** Bots whose standing differs from the default (an administrator with every right). */
  botMembers: Map<number, BotMembership>;
}

export interface WebhookConfig {
  url: string;
  secretToken?: string;
  maxConnections: number;
  lastErrorDate?: number;
  lastErrorMessage?: string;
}

export interface BotRecord {
  user: BotUser;
  nextUpdateId: number;
  /** Updates not yet confirmed (getUpdates) or delivered (webhook), oldest first. */
  updates: Update[];
  /** Empty means Telegram's default set. */
  allowedUpdates: string[];
  webhook?: WebhookConfig;
  commands: BotCommand[];
}

export interface CallbackAnswer {
  text?: string;
  showAlert: boolean;
  url?: string;
  at: number;
}

export interface CallbackRecord {
  id: string;
  botId: number;
  chatId: number;
  messageId: number;
  from: User;
  data: string;
  createdAt: number;
  answer?: CallbackAnswer;
}

export interface NewMessage {
  text: string;
  entities?: MessageEntity[];
  threadId?: number;
  replyToMessageId?: number;
  allowSendingWithoutReply?: boolean;
  replyMarkup?: InlineKeyboardMarkup;
  linkPreviewOptions?: LinkPreviewOptions;
}

export interface InjectedUser extends Omit<User, 'is_bot'> {
  is_bot?: boolean;
  /** Admins may write in closed topics; injected agents are admins unless told otherwise. */
  isAdmin?: boolean;
}

/** Something that happened, for the state's event emitter and update delivery. */
export type WorldEvent =
  | { type: 'message'; chatId: number; message: Message; byBot: boolean }
  | { type: 'update'; botId: number; update: Update };

/** The JSON shape persisted to disk. */
export interface WorldSnapshot {
  version: 1;
  supergroupId: number;
  bots: BotRecord[];
  chats: Array<{
    chat: Chat;
    nextMessageId: number;
    messages: StoredMessage[];
    topics: TopicRecord[];
    members: MemberRecord[];
    /** Absent in files written before bots' membership existed. */
    botMembers?: Array<BotMembership & { userId: number }>;
  }>;
  orphanUpdates: Array<Omit<Update, 'update_id'>>;
}

/** The updates a bot gets when it never chose (allowed_updates empty): Telegram's default set. */
export const DEFAULT_ALLOWED = new Set<string>(['message', 'edited_message', 'callback_query']);

/** Telegram's dates are unix seconds. */
export const unixNow = (): number => Math.floor(Date.now() / 1000);

/** A saved state file's contents, checked to be a snapshot of this version. */
export function toWorldSnapshot(value: unknown, path: string): WorldSnapshot {
  if (
    isRecord(value) &&
    value['version'] === 1 &&
    Array.isArray(value['chats']) &&
    Array.isArray(value['bots'])
  ) {
    return value as unknown as WorldSnapshot;
  }
  throw new Error(`${path} is not a telegram-sandbox state file (version 1)`);
}
