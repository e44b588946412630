import { sandboxError } from '../errors';
import { MAX_CAPTION_LENGTH } from '../media-api';
import {
  ChatType,
  type InlineKeyboardMarkup,
  type Message,
  type MessageEntity,
} from '../telegram.types';
import {
  GENERAL_THREAD_ID,
  MAX_TEXT_LENGTH,
  unixNow,
  type ChatRecord,
  type InjectedUser,
  type NewMessage,
  type StoredMessage,
} from './records';
import { mediaFields, type InjectedMedia } from './media';
import { toUser } from './users';
import type { World } from './world';

/** Messages in a chat: sending, people writing, edits, deletes, pins, and where each one goes. */
export class Messages {
  constructor(private readonly world: World) {}

  /** A bot's sendMessage. Not delivered back to the bot as an update, as in Telegram. */
  sendBot(botId: number, chatId: number, input: NewMessage): Message {
    const bot = this.world.ensureBot(botId);
    const chat = this.world.chat(chatId);
    if (this.world.blocked.has(`${botId}:${chatId}`)) throw sandboxError('BOT_BLOCKED');
    validateText(input.text);
    const placement = this.placement(chat, input, { fromBot: true, isAdmin: true });
    const message = this.world.append(chat, toUser(bot.user), {
      ...placement,
      text: input.text,
      ...(input.entities?.length ? { entities: input.entities } : {}),
      ...(input.linkPreviewOptions ? { link_preview_options: input.linkPreviewOptions } : {}),
      ...(input.replyMarkup ? { reply_markup: input.replyMarkup } : {}),
    });
    this.world.emit({ type: 'message', chatId, message, byBot: true });
    return message;
  }

  /** A bot's sendPhoto / sendDocument: the file under a caption (never merged into a text). */
  sendMediaBot(
    botId: number,
    chatId: number,
    input: {
      threadId?: number;
      caption?: string | undefined;
      media: Pick<Message, 'photo' | 'document'>;
    },
  ): Message {
    const bot = this.world.ensureBot(botId);
    const chat = this.world.chat(chatId);
    if (this.world.blocked.has(`${botId}:${chatId}`)) throw sandboxError('BOT_BLOCKED');
    const placement = this.placement(
      chat,
      { text: '', ...input },
      { fromBot: true, isAdmin: true },
    );
    const message = this.world.append(chat, toUser(bot.user), {
      ...placement,
      ...input.media,
      ...(input.caption !== undefined ? { caption: input.caption } : {}),
    });
    this.world.emit({ type: 'message', chatId, message, byBot: true });
    return message;
  }

  /**
   * A person writes: an agent in the group, or a visitor in a private chat with the bot; with
   * `media`, a file under `input.text` as its caption (at most 1,024 characters).
   */
  injectUser(
    chatId: number,
    from: InjectedUser,
    input: NewMessage,
    media?: InjectedMedia,
    toBot?: number,
  ): Message {
    const user = toUser(from);
    let chat = this.world.findChat(chatId);
    if (chatId > 0) {
      if (chatId !== user.id) throw sandboxError('PRIVATE_CHAT_MISMATCH');
      chat ??= this.world.addPrivateChat(user);
    }
    if (!chat) throw sandboxError('CHAT_NOT_FOUND');
    if (!media) validateText(input.text);
    else if (input.text.length > MAX_CAPTION_LENGTH) throw sandboxError('CAPTION_TOO_LONG');
    const isAdmin = from.isAdmin ?? true;
    if (chat.chat.type === ChatType.supergroup) chat.members.set(user.id, { user, isAdmin });
    // People write into General with no thread; the Bot API's "thread 1" means the same.
    const threadId = input.threadId === GENERAL_THREAD_ID ? undefined : input.threadId;
    const placement = this.placement(chat, { ...input, threadId }, { fromBot: false, isAdmin });
    const content = media
      ? {
          ...mediaFields(this.world.files, media),
          ...(input.text === '' ? {} : { caption: input.text }),
        }
      : { text: input.text, ...entitiesOf(input.text, input.entities) };
    const message = this.world.append(chat, user, { ...placement, ...content });
    this.world.emit({ type: 'message', chatId, message, byBot: false });
    if (chatId > 0 && toBot !== undefined)
      this.world.pushUpdate(this.world.ensureBot(toBot), { message });
    else this.world.broadcast(chatId, { message });
    return message;
  }

  editBot(
    botId: number,
    chatId: number,
    messageId: number,
    input: { text?: string; entities?: MessageEntity[]; replyMarkup?: InlineKeyboardMarkup },
  ): Message {
    const chat = this.world.chat(chatId);
    const stored = chat.messages.get(messageId);
    if (!stored) throw sandboxError('MESSAGE_TO_EDIT_NOT_FOUND');
    if (stored.message.from?.id !== botId) throw sandboxError('MESSAGE_CANT_BE_EDITED');
    if (input.text !== undefined) {
      validateText(input.text);
      if (stored.message.text === undefined) throw sandboxError('MESSAGE_CANT_BE_EDITED');
    }
    const current = stored.message;
    const nextText = input.text ?? current.text;
    const nextEntities = input.text === undefined ? current.entities : input.entities;
    const sameText =
      nextText === current.text && sameJson(nextEntities ?? [], current.entities ?? []);
    if (sameText && sameJson(input.replyMarkup ?? null, current.reply_markup ?? null)) {
      throw sandboxError('MESSAGE_NOT_MODIFIED');
    }
    const date = unixNow();
    if (!sameText && current.text !== undefined) {
      stored.edits.push({ text: current.text, replacedAt: date });
    }
    const { reply_markup: _markup, entities: _entities, ...rest } = current;
    stored.message = {
      ...rest,
      ...(nextText === undefined ? {} : { text: nextText }),
      ...(nextEntities?.length ? { entities: nextEntities } : {}),
      ...(input.replyMarkup ? { reply_markup: input.replyMarkup } : {}),
      edit_date: date,
    };
    this.world.emit({ type: 'message', chatId, message: stored.message, byBot: true });
    return stored.message;
  }

  /** A person edits their message; bots get an `edited_message` update. */
  /** A person edits their message: its text, or the caption of the file it carries. */
  editUser(chatId: number, messageId: number, text: string): Message {
    const chat = this.world.chat(chatId);
    const stored = chat.messages.get(messageId);
    if (!stored) throw sandboxError('MESSAGE_TO_EDIT_NOT_FOUND');
    const current = stored.message;
    const withFile = current.text === undefined && mediaOf(current);
    if (!current.from || current.from.is_bot || (current.text === undefined && !withFile)) {
      throw sandboxError('MESSAGE_NOT_FROM_USER');
    }
    const before = (withFile ? current.caption : current.text) ?? '';
    if (withFile) {
      if (text.length > MAX_CAPTION_LENGTH) throw sandboxError('CAPTION_TOO_LONG');
    } else validateText(text);
    if (text === before) throw sandboxError('MESSAGE_NOT_MODIFIED');
    const date = unixNow();
    stored.edits.push({ text: before, replacedAt: date });
    const { entities: _entities, caption: _caption, ...rest } = current;
    stored.message = withFile
      ? { ...rest, ...(text === '' ? {} : { caption: text }), edit_date: date }
      : { ...rest, text, edit_date: date };
    this.world.emit({ type: 'message', chatId, message: stored.message, byBot: false });
    this.world.broadcast(chatId, { edited_message: stored.message });
    return stored.message;
  }

  delete(botId: number, chatId: number, messageId: number): void {
    const chat = this.world.chat(chatId);
    const stored = chat.messages.get(messageId);
    if (!stored) throw sandboxError('MESSAGE_TO_DELETE_NOT_FOUND');
    if (stored.message.forum_topic_created) throw sandboxError('MESSAGE_CANT_BE_DELETED');
    // A bot deletes its own messages freely; others' need can_delete_messages.
    const own = stored.message.from?.id === botId;
    if (!own && !this.world.members.hasRight(chat, botId, 'can_delete_messages')) {
      throw sandboxError('MESSAGE_CANT_BE_DELETED');
    }
    chat.messages.delete(messageId);
  }

  setPinned(botId: number, chatId: number, messageId: number | undefined, pinned: boolean): void {
    const chat = this.world.chat(chatId);
    this.requirePinRight(chat, botId);
    if (messageId === undefined) {
      // unpinChatMessage without an id unpins the most recent pinned message.
      const latest = [...chat.messages.values()].reverse().find((stored) => stored.pinned);
      if (latest) latest.pinned = false;
      return;
    }
    const stored = chat.messages.get(messageId);
    if (!stored) {
      throw sandboxError(pinned ? 'MESSAGE_TO_PIN_NOT_FOUND' : 'MESSAGE_TO_UNPIN_NOT_FOUND');
    }
    stored.pinned = pinned;
  }

  unpinAll(botId: number, chatId: number, threadId?: number): void {
    const chat = this.world.chat(chatId);
    this.requirePinRight(chat, botId);
    for (const stored of chat.messages.values()) {
      if (threadId === undefined || stored.message.message_thread_id === threadId) {
        stored.pinned = false;
      }
    }
  }

  /**
   * A bot's `setMessageReaction`: its reactions on the message become `emoji` (none removes
   * them); other people's reactions stay.
   */
  react(botId: number, chatId: number, messageId: number, emoji: string[], isBig: boolean): void {
    const chat = this.world.chat(chatId);
    const stored = chat.messages.get(messageId);
    if (!stored) throw sandboxError('MESSAGE_TO_REACT_NOT_FOUND');
    const others = (stored.reactions ?? []).filter((r) => r.userId !== botId);
    stored.reactions = [...others, ...emoji.map((e) => ({ userId: botId, emoji: e, isBig }))];
  }

  of(chatId: number): StoredMessage[] {
    const chat = this.world.findChat(chatId);
    return chat ? [...chat.messages.values()] : [];
  }

  /** Throws unless the thread can take a chat action (the same rules as sending). */
  checkThread(chatId: number, threadId: number | undefined): void {
    const chat = this.world.chat(chatId);
    if (threadId === undefined) return;
    if (chat.chat.type !== ChatType.supergroup) return;
    this.world.liveTopic(chat, threadId, 'THREAD_NOT_FOUND');
  }

  private requirePinRight(chat: ChatRecord, botId: number): void {
    if (!this.world.members.hasRight(chat, botId, 'can_pin_messages'))
      throw sandboxError('NOT_ENOUGH_RIGHTS_PIN');
  }

  /**
   * Where a new message goes: its thread fields and the message it replies to.
   * Telegram's rules: a topic message carries `message_thread_id` and
   * `is_topic_message`, and replies to the topic's creation message unless it replies
   * to something else; a reply in General carries the reply chain's root as
   * `message_thread_id` but no `is_topic_message`.
   */
  private placement(
    chat: ChatRecord,
    input: NewMessage,
    sender: { fromBot: boolean; isAdmin: boolean },
  ): Pick<Message, 'message_thread_id' | 'is_topic_message' | 'reply_to_message'> {
    let replied: Message | undefined;
    if (input.replyToMessageId !== undefined) {
      replied = chat.messages.get(input.replyToMessageId)?.message;
      if (!replied && !input.allowSendingWithoutReply) throw sandboxError('REPLY_NOT_FOUND');
    }
    const isForum = chat.chat.is_forum === true;
    let threadId = input.threadId;
    if (threadId === undefined && replied?.is_topic_message) threadId = replied.message_thread_id;
    if (threadId !== undefined && isForum) {
      const topic = this.world.liveTopic(chat, threadId, 'THREAD_NOT_FOUND');
      if (topic.closed && (sender.fromBot || !sender.isAdmin)) throw sandboxError('TOPIC_CLOSED');
      if (replied && replied.message_thread_id !== threadId) {
        if (!input.allowSendingWithoutReply) throw sandboxError('REPLY_NOT_FOUND');
        replied = undefined;
      }
      const root = chat.messages.get(threadId)?.message;
      const reply = replied ?? root;
      return {
        message_thread_id: threadId,
        is_topic_message: true,
        ...(reply ? { reply_to_message: shallow(reply) } : {}),
      };
    }
    if (threadId !== undefined && !isForum) throw sandboxError('THREAD_NOT_FOUND');
    if (!replied) return {};
    const rootId =
      chat.chat.type === ChatType.supergroup
        ? (replied.message_thread_id ?? replied.message_id)
        : undefined;
    return {
      ...(rootId === undefined ? {} : { message_thread_id: rootId }),
      reply_to_message: shallow(replied),
    };
  }
}

export function validateText(text: string): void {
  if (text.trim().length === 0) throw sandboxError('TEXT_EMPTY');
  if (text.length > MAX_TEXT_LENGTH) throw sandboxError('TEXT_TOO_LONG');
}

/** A replied-to message as Telegram embeds it: without its own reply. */
export function shallow(message: Message): Message {
  const { reply_to_message: _reply, ...rest } = message;
  return rest;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function mediaOf(message: Message): boolean {
  return Boolean(message.photo ?? message.document ?? message.voice ?? message.video);
}

/**
 * What a person's text carries: the entities given, or — as Telegram's servers mark them — a
 * `bot_command` for a leading `/command` (grammY's `bot.command` matches on that entity).
 */
function entitiesOf(
  text: string,
  given: MessageEntity[] | undefined,
): { entities?: MessageEntity[] } {
  if (given?.length) return { entities: given };
  const command = /^\/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?/.exec(text);
  return command
    ? { entities: [{ type: 'bot_command', offset: 0, length: command[0].length }] }
    : {};
}
