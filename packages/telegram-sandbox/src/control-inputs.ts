import type { User } from './telegram.types';
import type { InjectedMedia } from './world/media';
import type { InjectedUser } from './world/records';

// What the control API (SandboxState's methods that play people) takes.

export interface InjectMessageInput {
  chatId: number;
  /** The text, or with `media` the caption ('' for none). */
  text: string;
  media?: InjectedMedia;
  from: InjectedUser;
  messageThreadId?: number;
  replyToMessageId?: number;
  /**
   * In a private chat, the bot the person writes to (as in Telegram, where a private chat is
   * with one bot); only that bot gets the update. Unset: every bot (one bot per test, mostly).
   */
  toBot?: number;
}

export interface EditUserMessageInput {
  chatId: number;
  messageId: number;
  text: string;
}

export interface PressButtonInput {
  chatId: number;
  messageId: number;
  data: string;
  from: User;
}

export interface OpenMiniAppInput {
  chatId: number;
  messageId: number;
  from: User;
  /** The button's text, when the message has several `web_app` buttons. */
  text?: string;
}

export interface MessageFilter {
  chatId?: number;
  /** A topic's thread id, or 1 for General (messages outside any topic). */
  threadId?: number;
  fromBot?: boolean;
}

export interface CallFilter {
  method?: string;
}
