import type { Limits } from './limits';
import type { InlineKeyboardMarkup, Message, User } from './telegram.types';
import type {
  BotRecord,
  ChatRecord,
  MessageVersion,
  StoredMessage,
  TopicRecord,
} from './world/records';

// The control API's read models: camelCase summaries for tests and the agent page,
// with the raw Telegram objects alongside where a test wants the exact shape.

export const ServiceKind = {
  forum_topic_created: 'forum_topic_created',
  forum_topic_edited: 'forum_topic_edited',
  forum_topic_closed: 'forum_topic_closed',
  forum_topic_reopened: 'forum_topic_reopened',
} as const;
export type ServiceKind = (typeof ServiceKind)[keyof typeof ServiceKind];

export interface MessageView {
  chatId: number;
  messageId: number;
  /** The forum topic the message is in; null for General and private chats. */
  threadId: number | null;
  from: User | null;
  fromBot: boolean;
  text: string | null;
  /** Unix seconds. */
  date: number;
  editDate: number | null;
  /** Earlier texts, oldest first. */
  edits: MessageVersion[];
  pinned: boolean;
  /** Reactions on it, in the order they were set: whose (user or bot id) and which emoji. */
  reactions: Array<{ userId: number; emoji: string; isBig: boolean }>;
  replyMarkup: InlineKeyboardMarkup | null;
  /** An explicit reply; a topic message's implicit reply to the topic's root is left out. */
  replyToMessageId: number | null;
  service: ServiceKind | null;
  /** A photo, document, voice note or video it carries (its caption is `caption`); null for none. */
  media: MediaView | null;
  caption: string | null;
  /** The Message object exactly as the Bot API returns it. */
  message: Message;
}

export interface MediaView {
  kind: 'photo' | 'document' | 'voice' | 'video';
  fileId: string;
  name: string | null;
  mimeType: string | null;
  size: number | null;
  width: number | null;
  height: number | null;
}

export interface TopicView {
  chatId: number;
  threadId: number;
  name: string;
  iconColor: number;
  iconCustomEmojiId: string | null;
  closed: boolean;
  deleted: boolean;
}

export interface WebhookView {
  url: string;
  hasSecretToken: boolean;
  maxConnections: number;
  pendingUpdateCount: number;
  lastErrorDate: number | null;
  lastErrorMessage: string | null;
}

export interface BotView {
  id: number;
  username: string;
  pendingUpdateCount: number;
  nextUpdateId: number;
  webhook: WebhookView | null;
  commands: Array<{ command: string; description: string }>;
}

export interface ChatView {
  id: number;
  type: string;
  title: string | null;
  firstName: string | null;
  username: string | null;
  isForum: boolean;
  messageCount: number;
}

export interface StateSummary {
  supergroupId: number;
  bots: BotView[];
  chats: ChatView[];
  topics: TopicView[];
  limits: Limits;
  /** 429 answers per Bot API method since the start or the last reset. */
  rateLimited: Record<string, number>;
}

export function messageView(chatId: number, stored: StoredMessage): MessageView {
  const { message } = stored;
  const threadId = message.is_topic_message ? (message.message_thread_id ?? null) : null;
  const replied = message.reply_to_message;
  const explicitReply = replied && !(threadId !== null && replied.message_id === threadId);
  return {
    chatId,
    messageId: message.message_id,
    threadId,
    from: message.from ?? null,
    fromBot: message.from?.is_bot ?? false,
    text: message.text ?? null,
    date: message.date,
    editDate: message.edit_date ?? null,
    edits: [...stored.edits],
    pinned: stored.pinned,
    reactions: (stored.reactions ?? []).map((r) => ({ ...r })),
    replyMarkup: message.reply_markup ?? null,
    replyToMessageId: explicitReply ? replied.message_id : null,
    service: serviceKind(message),
    media: mediaView(message),
    caption: message.caption ?? null,
    message,
  };
}

function mediaView(message: Message): MediaView | null {
  const photo = message.photo?.[message.photo.length - 1];
  if (photo) {
    const { file_id: fileId, width, height, file_size: size } = photo;
    return { kind: 'photo', fileId, name: null, mimeType: null, size: size ?? null, width, height };
  }
  const { document: doc, voice, video } = message;
  const file = doc ?? video ?? voice;
  if (!file) return null;
  return {
    kind: doc ? 'document' : video ? 'video' : 'voice',
    fileId: file.file_id,
    name: ('file_name' in file ? file.file_name : undefined) ?? null,
    mimeType: file.mime_type ?? null,
    size: file.file_size ?? null,
    width: video?.width ?? null,
    height: video?.height ?? null,
  };
}

function serviceKind(message: Message): ServiceKind | null {
  for (const kind of Object.values(ServiceKind)) {
    if (message[kind] !== undefined) return kind;
  }
  return null;
}

export function topicView(chatId: number, topic: TopicRecord): TopicView {
  return {
    chatId,
    threadId: topic.threadId,
    name: topic.name,
    iconColor: topic.iconColor,
    iconCustomEmojiId: topic.iconCustomEmojiId ?? null,
    closed: topic.closed,
    deleted: topic.deleted,
  };
}

export function botView(bot: BotRecord): BotView {
  const { webhook } = bot;
  return {
    id: bot.user.id,
    username: bot.user.username,
    pendingUpdateCount: bot.updates.length,
    nextUpdateId: bot.nextUpdateId,
    webhook: webhook
      ? {
          url: webhook.url,
          hasSecretToken: webhook.secretToken !== undefined,
          maxConnections: webhook.maxConnections,
          pendingUpdateCount: bot.updates.length,
          lastErrorDate: webhook.lastErrorDate ?? null,
          lastErrorMessage: webhook.lastErrorMessage ?? null,
        }
      : null,
    commands: bot.commands,
  };
}

export function chatView(chat: ChatRecord): ChatView {
  return {
    id: chat.chat.id,
    type: chat.chat.type,
    title: chat.chat.title ?? null,
    firstName: chat.chat.first_name ?? null,
    username: chat.chat.username ?? null,
    isForum: chat.chat.is_forum === true,
    messageCount: chat.messages.size,
  };
}
