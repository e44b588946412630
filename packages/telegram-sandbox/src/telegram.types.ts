// The subset of the Bot API's object types that the sandbox produces
// (https://core.telegram.org/bots/api#available-types). Field names are Telegram's.

export interface User {
  id: number;
  is_bot: boolean;
  first_name: string;
  last_name?: string;
  username?: string;
  language_code?: string;
}

/** What `getMe` answers: a User with the bot-only capability flags. */
export interface BotUser extends User {
  is_bot: true;
  username: string;
  can_join_groups: boolean;
  can_read_all_group_messages: boolean;
  supports_inline_queries: boolean;
  can_connect_to_business: boolean;
  has_main_web_app: boolean;
}

export const ChatType = {
  private: 'private',
  supergroup: 'supergroup',
} as const;
export type ChatType = (typeof ChatType)[keyof typeof ChatType];

export interface Chat {
  id: number;
  type: ChatType;
  title?: string;
  username?: string;
  first_name?: string;
  last_name?: string;
  is_forum?: true;
}

export interface MessageEntity {
  type: string;
  offset: number;
  length: number;
  url?: string;
  user?: User;
  language?: string;
  custom_emoji_id?: string;
}

export interface InlineKeyboardButton {
  text: string;
  callback_data?: string;
  url?: string;
  [field: string]: unknown;
}

export interface InlineKeyboardMarkup {
  inline_keyboard: InlineKeyboardButton[][];
}

export interface LinkPreviewOptions {
  is_disabled?: boolean;
  url?: string;
  prefer_small_media?: boolean;
  prefer_large_media?: boolean;
  show_above_text?: boolean;
}

export interface ForumTopicCreated {
  name: string;
  icon_color: number;
  icon_custom_emoji_id?: string;
}

export interface ForumTopicEdited {
  name?: string;
  icon_custom_emoji_id?: string;
}

export interface ForumTopic {
  message_thread_id: number;
  name: string;
  icon_color: number;
  icon_custom_emoji_id?: string;
}

/** One size of a photo (Telegram sends several; the sandbox keeps the original only). */
export interface PhotoSize {
  file_id: string;
  file_unique_id: string;
  width: number;
  height: number;
  file_size?: number;
}

export interface Document {
  file_id: string;
  file_unique_id: string;
  file_name?: string;
  mime_type?: string;
  file_size?: number;
}

export interface Voice {
  file_id: string;
  file_unique_id: string;
  duration: number;
  mime_type?: string;
  file_size?: number;
}

export interface Video {
  file_id: string;
  file_unique_id: string;
  width: number;
  height: number;
  duration: number;
  file_name?: string;
  mime_type?: string;
  file_size?: number;
}

export interface Message {
  message_id: number;
  message_thread_id?: number;
  from?: User;
  date: number;
  chat: Chat;
  edit_date?: number;
  is_topic_message?: true;
  reply_to_message?: Message;
  text?: string;
  entities?: MessageEntity[];
  photo?: PhotoSize[];
  document?: Document;
  voice?: Voice;
  video?: Video;
  caption?: string;
  caption_entities?: MessageEntity[];
  link_preview_options?: LinkPreviewOptions;
  reply_markup?: InlineKeyboardMarkup;
  pinned_message?: Message;
  forum_topic_created?: ForumTopicCreated;
  forum_topic_edited?: ForumTopicEdited;
  forum_topic_closed?: Record<string, never>;
  forum_topic_reopened?: Record<string, never>;
}

export interface CallbackQuery {
  id: string;
  from: User;
  message?: Message;
  chat_instance: string;
  data?: string;
}

export interface Update {
  update_id: number;
  message?: Message;
  edited_message?: Message;
  callback_query?: CallbackQuery;
}

/** Update kinds the sandbox can emit; the keys of Update besides update_id. */
export const UpdateKind = {
  message: 'message',
  edited_message: 'edited_message',
  callback_query: 'callback_query',
} as const;
export type UpdateKind = (typeof UpdateKind)[keyof typeof UpdateKind];

export interface BotCommand {
  command: string;
  description: string;
}

export interface WebhookInfo {
  url: string;
  has_custom_certificate: boolean;
  pending_update_count: number;
  last_error_date?: number;
  last_error_message?: string;
  max_connections?: number;
  allowed_updates?: string[];
}

export interface ChatMember {
  status: 'creator' | 'administrator' | 'member' | 'left';
  user: User;
  [field: string]: unknown;
}
