import { createHash, randomInt } from 'node:crypto';
import { sandboxError } from './errors';
import {
  ChatType,
  type BotCommand,
  type BotUser,
  type CallbackQuery,
  type Chat,
  type ChatMember,
  type ForumTopic,
  type InlineKeyboardMarkup,
  type LinkPreviewOptions,
  type Message,
  type MessageEntity,
  type Update,
  type UpdateKind,
  type User,
} from './telegram.types';

// The Telegram world the sandbox simulates: bots, chats, forum topics, messages,
// per-bot update queues and callback queries. Every operation applies Telegram's
// rules and throws a SandboxError as Telegram would answer. It knows nothing of HTTP,
// persistence or limits; SandboxState composes those around it.

export const DEFAULT_SUPERGROUP_ID = -1001000000001;
export const DEFAULT_SUPERGROUP_TITLE = 'Support (sandbox)';
/** The General topic's thread id; not a real topic for the Bot API. */
export const GENERAL_THREAD_ID = 1;
export const MAX_TEXT_LENGTH = 4096;
/** The six colours Telegram allows for topic icons; the first is its default. */
export const TOPIC_ICON_COLORS = [
  0x6fb9f0, 0xffd67e, 0xcb86db, 0x8eee98, 0xff93b2, 0xfb6f5f,
] as const;
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

export interface StoredMessage {
  message: Message;
  /** Earlier texts, oldest first. */
  edits: MessageVersion[];
  pinned: boolean;
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
const DEFAULT_BOT_MEMBERSHIP: Readonly<BotMembership> = {
  status: MemberStatus.administrator,
  can_manage_topics: true,
  can_pin_messages: true,
  can_delete_messages: true,
};

type Right = keyof MemberRights;

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

const DEFAULT_ALLOWED = new Set<string>(['message', 'edited_message', 'callback_query']);

const unixNow = (): number => Math.floor(Date.now() / 1000);

export class World {
  readonly supergroupId: number;
  private readonly bots = new Map<number, BotRecord>();
  private readonly chats = new Map<number, ChatRecord>();
  private readonly callbacks = new Map<string, CallbackRecord>();
  /** Updates that happened before any bot existed; the first bot takes them. */
  private orphanUpdates: Array<Omit<Update, 'update_id'>> = [];

  constructor(
    options: { supergroupId: number; supergroupTitle?: string },
    private readonly emit: (event: WorldEvent) => void,
  ) {
    this.supergroupId = options.supergroupId;
    this.addSupergroup(options.supergroupTitle ?? DEFAULT_SUPERGROUP_TITLE);
  }

  // ---- bots -------------------------------------------------------------------

  /** The bot for a token's id; Telegram knows every bot, the sandbox makes it on first use. */
  ensureBot(botId: number): BotRecord {
    const existing = this.bots.get(botId);
    if (existing) return existing;
    const bot: BotRecord = {
      user: botUser(botId),
      nextUpdateId: 1,
      updates: [],
      allowedUpdates: [],
      commands: [],
    };
    this.bots.set(botId, bot);
    const orphans = this.orphanUpdates;
    this.orphanUpdates = [];
    for (const orphan of orphans) this.pushUpdate(bot, orphan);
    return bot;
  }

  bot(botId: number): BotRecord | undefined {
    return this.bots.get(botId);
  }

  allBots(): BotRecord[] {
    return [...this.bots.values()];
  }

  // ---- chats ------------------------------------------------------------------

  chat(chatId: number): ChatRecord {
    const chat = this.chats.get(chatId);
    if (!chat) throw sandboxError('CHAT_NOT_FOUND');
    return chat;
  }

  findChat(chatId: number): ChatRecord | undefined {
    return this.chats.get(chatId);
  }

  allChats(): ChatRecord[] {
    return [...this.chats.values()];
  }

  /** A stable opaque id per chat, as Telegram's `chat_instance`. */
  chatInstance(chatId: number): string {
    const hash = createHash('sha256').update(`chat-instance:${chatId}`).digest();
    return hash.readBigInt64BE(0).toString();
  }

  memberOf(chatId: number, userId: number): ChatMember {
    const chat = this.chat(chatId);
    const membership = this.botMembership(chat, userId);
    if (membership) return botMember(this.bots.get(userId)?.user ?? botUser(userId), membership);
    const bot = this.bots.get(userId);
    if (bot) return adminMember(bot.user);
    if (chat.chat.type === ChatType.private) {
      if (userId !== chat.chat.id) throw sandboxError('USER_NOT_FOUND');
      return { status: 'member', user: privateChatUser(chat.chat) };
    }
    const member = chat.members.get(userId);
    if (!member) throw sandboxError('USER_NOT_FOUND');
    return member.isAdmin ? adminMember(member.user) : { status: 'member', user: member.user };
  }

  administrators(chatId: number): ChatMember[] {
    const chat = this.chat(chatId);
    if (chat.chat.type === ChatType.private)
      throw sandboxError('CHAT_NOT_FOUND', {
        description: 'Bad Request: there are no administrators in the private chat',
      });
    const bots = [...this.bots.values()]
      .filter((bot) => this.botMembership(chat, bot.user.id)?.status === MemberStatus.administrator)
      .map((bot) =>
        botMember(bot.user, this.botMembership(chat, bot.user.id) ?? DEFAULT_BOT_MEMBERSHIP),
      );
    const people = [...chat.members.values()]
      .filter((member) => member.isAdmin)
      .map((member) => adminMember(member.user));
    return [...people, ...bots];
  }

  /** Bots still in a chat: all of them in a private chat, those that did not leave in a group. */
  botsIn(chatId: number): BotRecord[] {
    const chat = this.chats.get(chatId);
    return [...this.bots.values()].filter(
      (bot) => !chat || this.botMembership(chat, bot.user.id)?.status !== MemberStatus.left,
    );
  }

  /**
   * Sets a bot's standing in a supergroup. Administrators get every right unless `rights`
   * takes some away; members and bots that left have none (as in Telegram, rights belong
   * to administrators).
   */
  setBotMember(
    chatId: number,
    userId: number,
    status: MemberStatus,
    rights: MemberRights = {},
  ): BotMembership {
    const chat = this.chat(chatId);
    if (chat.chat.type !== ChatType.supergroup) throw sandboxError('MEMBER_CHAT_INVALID');
    const isAdmin = status === MemberStatus.administrator;
    const membership: BotMembership = {
      status,
      can_manage_topics: isAdmin && (rights.can_manage_topics ?? true),
      can_pin_messages: isAdmin && (rights.can_pin_messages ?? true),
      can_delete_messages: isAdmin && (rights.can_delete_messages ?? true),
    };
    chat.botMembers.set(userId, membership);
    return { ...membership };
  }

  /** Every bot's standing in a supergroup (bots that never called included when set). */
  botMembers(chatId: number): Array<BotMembership & { userId: number }> {
    const chat = this.chat(chatId);
    if (chat.chat.type !== ChatType.supergroup) throw sandboxError('MEMBER_CHAT_INVALID');
    const ids = new Set([...this.bots.keys(), ...chat.botMembers.keys()]);
    return [...ids].map((userId) => ({
      userId,
      ...(this.botMembership(chat, userId) ?? DEFAULT_BOT_MEMBERSHIP),
    }));
  }

  /**
   * Telegram's answer to a bot calling into a chat it is not in: 403 on every method.
   * Chats the sandbox does not know are left to the method ("chat not found").
   */
  requireInChat(botId: number, chatId: number): void {
    const chat = this.chats.get(chatId);
    if (chat && this.botMembership(chat, botId)?.status === MemberStatus.left) {
      throw sandboxError('BOT_NOT_MEMBER');
    }
  }

  /** A bot's standing in a supergroup (the default when never set); undefined elsewhere. */
  private botMembership(chat: ChatRecord, userId: number): BotMembership | undefined {
    if (chat.chat.type !== ChatType.supergroup) return undefined;
    const set = chat.botMembers.get(userId);
    if (set) return set;
    return this.bots.has(userId) ? DEFAULT_BOT_MEMBERSHIP : undefined;
  }

  /** Whether a bot has an administrator right in a chat (private chats need none). */
  private hasRight(chat: ChatRecord, botId: number, right: Right): boolean {
    if (chat.chat.type !== ChatType.supergroup) return true;
    return (chat.botMembers.get(botId) ?? DEFAULT_BOT_MEMBERSHIP)[right];
  }

  // ---- topics -----------------------------------------------------------------

  topics(chatId: number): TopicRecord[] {
    return [...this.chat(chatId).topics.values()];
  }

  createTopic(
    botId: number,
    chatId: number,
    input: { name: string; iconColor?: number; iconCustomEmojiId?: string },
  ): ForumTopic {
    const chat = this.forum(chatId);
    if (!this.hasRight(chat, botId, 'can_manage_topics')) {
      throw sandboxError('NOT_ENOUGH_RIGHTS_TOPICS');
    }
    validateTopicName(input.name);
    const iconColor = input.iconColor ?? TOPIC_ICON_COLORS[0];
    if (!(TOPIC_ICON_COLORS as readonly number[]).includes(iconColor)) {
      throw sandboxError('TOPIC_ICON_COLOR_INVALID');
    }
    const bot = this.ensureBot(botId);
    // A topic is the thread of the service message that created it: same id.
    const threadId = chat.nextMessageId;
    const topic: TopicRecord = {
      threadId,
      name: input.name,
      iconColor,
      closed: false,
      deleted: false,
      creatorId: botId,
      ...(input.iconCustomEmojiId ? { iconCustomEmojiId: input.iconCustomEmojiId } : {}),
    };
    chat.topics.set(threadId, topic);
    const message = this.append(chat, toUser(bot.user), {
      message_thread_id: threadId,
      is_topic_message: true,
      forum_topic_created: {
        name: topic.name,
        icon_color: topic.iconColor,
        ...(topic.iconCustomEmojiId ? { icon_custom_emoji_id: topic.iconCustomEmojiId } : {}),
      },
    });
    this.announceServiceMessage(chat, message);
    return {
      message_thread_id: threadId,
      name: topic.name,
      icon_color: topic.iconColor,
      ...(topic.iconCustomEmojiId ? { icon_custom_emoji_id: topic.iconCustomEmojiId } : {}),
    };
  }

  editTopic(
    botId: number,
    chatId: number,
    threadId: number,
    input: { name?: string; iconCustomEmojiId?: string },
  ): void {
    const chat = this.forum(chatId);
    const topic = this.liveTopic(chat, threadId, 'TOPIC_ID_INVALID');
    this.requireTopicRight(chat, topic, botId);
    const edited: { name?: string; icon_custom_emoji_id?: string } = {};
    if (input.name !== undefined && input.name !== '') {
      validateTopicName(input.name);
      if (input.name !== topic.name) edited.name = input.name;
    }
    if (input.iconCustomEmojiId !== undefined) {
      if (input.iconCustomEmojiId !== (topic.iconCustomEmojiId ?? '')) {
        edited.icon_custom_emoji_id = input.iconCustomEmojiId;
      }
    }
    if (Object.keys(edited).length === 0) throw sandboxError('TOPIC_NOT_MODIFIED');
    if (edited.name !== undefined) topic.name = edited.name;
    if (edited.icon_custom_emoji_id !== undefined) {
      if (edited.icon_custom_emoji_id === '') delete topic.iconCustomEmojiId;
      else topic.iconCustomEmojiId = edited.icon_custom_emoji_id;
    }
    this.topicServiceMessage(botId, chat, topic, { forum_topic_edited: edited });
  }

  setTopicClosed(botId: number, chatId: number, threadId: number, closed: boolean): void {
    const chat = this.forum(chatId);
    const topic = this.liveTopic(chat, threadId, 'TOPIC_ID_INVALID');
    this.requireTopicRight(chat, topic, botId);
    if (topic.closed === closed) throw sandboxError('TOPIC_NOT_MODIFIED');
    topic.closed = closed;
    this.topicServiceMessage(
      botId,
      chat,
      topic,
      closed ? { forum_topic_closed: {} } : { forum_topic_reopened: {} },
    );
  }

  deleteTopic(botId: number, chatId: number, threadId: number): void {
    const chat = this.forum(chatId);
    const topic = this.liveTopic(chat, threadId, 'TOPIC_ID_INVALID');
    // Deleting a topic deletes its messages: Telegram asks for can_delete_messages.
    if (!this.hasRight(chat, botId, 'can_delete_messages')) {
      throw sandboxError('NOT_ENOUGH_RIGHTS_TOPICS');
    }
    topic.deleted = true;
    for (const [id, stored] of chat.messages) {
      if (stored.message.is_topic_message && stored.message.message_thread_id === threadId) {
        chat.messages.delete(id);
      }
    }
  }

  // ---- messages -----------------------------------------------------------------

  /** A bot's sendMessage. Not delivered back to the bot as an update, as in Telegram. */
  sendBotMessage(botId: number, chatId: number, input: NewMessage): Message {
    const bot = this.ensureBot(botId);
    const chat = this.chat(chatId);
    validateText(input.text);
    const placement = this.placement(chat, input, { fromBot: true, isAdmin: true });
    const message = this.append(chat, toUser(bot.user), {
      ...placement,
      text: input.text,
      ...(input.entities?.length ? { entities: input.entities } : {}),
      ...(input.linkPreviewOptions ? { link_preview_options: input.linkPreviewOptions } : {}),
      ...(input.replyMarkup ? { reply_markup: input.replyMarkup } : {}),
    });
    this.emit({ type: 'message', chatId, message, byBot: true });
    return message;
  }

  /** A person writes: an agent in the group, or a visitor in a private chat with the bot. */
  injectUserMessage(chatId: number, from: InjectedUser, input: NewMessage): Message {
    const user = toUser(from);
    let chat = this.chats.get(chatId);
    if (chatId > 0) {
      if (chatId !== user.id) throw sandboxError('PRIVATE_CHAT_MISMATCH');
      chat ??= this.addPrivateChat(user);
    }
    if (!chat) throw sandboxError('CHAT_NOT_FOUND');
    validateText(input.text);
    const isAdmin = from.isAdmin ?? true;
    if (chat.chat.type === ChatType.supergroup) chat.members.set(user.id, { user, isAdmin });
    // People write into General with no thread; the Bot API's "thread 1" means the same.
    const threadId = input.threadId === GENERAL_THREAD_ID ? undefined : input.threadId;
    const placement = this.placement(chat, { ...input, threadId }, { fromBot: false, isAdmin });
    const message = this.append(chat, user, {
      ...placement,
      text: input.text,
      ...(input.entities?.length ? { entities: input.entities } : {}),
    });
    this.emit({ type: 'message', chatId, message, byBot: false });
    this.broadcast(chatId, { message });
    return message;
  }

  editBotMessage(
    botId: number,
    chatId: number,
    messageId: number,
    input: { text?: string; entities?: MessageEntity[]; replyMarkup?: InlineKeyboardMarkup },
  ): Message {
    const chat = this.chat(chatId);
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
    this.emit({ type: 'message', chatId, message: stored.message, byBot: true });
    return stored.message;
  }

  /** A person edits their message; bots get an `edited_message` update. */
  editUserMessage(chatId: number, messageId: number, text: string): Message {
    const chat = this.chat(chatId);
    const stored = chat.messages.get(messageId);
    if (!stored) throw sandboxError('MESSAGE_TO_EDIT_NOT_FOUND');
    const current = stored.message;
    if (!current.from || current.from.is_bot || current.text === undefined) {
      throw sandboxError('MESSAGE_NOT_FROM_USER');
    }
    validateText(text);
    if (text === current.text) throw sandboxError('MESSAGE_NOT_MODIFIED');
    const date = unixNow();
    stored.edits.push({ text: current.text, replacedAt: date });
    const { entities: _entities, ...rest } = current;
    stored.message = { ...rest, text, edit_date: date };
    this.emit({ type: 'message', chatId, message: stored.message, byBot: false });
    this.broadcast(chatId, { edited_message: stored.message });
    return stored.message;
  }

  deleteMessage(botId: number, chatId: number, messageId: number): void {
    const chat = this.chat(chatId);
    const stored = chat.messages.get(messageId);
    if (!stored) throw sandboxError('MESSAGE_TO_DELETE_NOT_FOUND');
    if (stored.message.forum_topic_created) throw sandboxError('MESSAGE_CANT_BE_DELETED');
    // A bot deletes its own messages freely; others' need can_delete_messages.
    const own = stored.message.from?.id === botId;
    if (!own && !this.hasRight(chat, botId, 'can_delete_messages')) {
      throw sandboxError('MESSAGE_CANT_BE_DELETED');
    }
    chat.messages.delete(messageId);
  }

  setPinned(botId: number, chatId: number, messageId: number | undefined, pinned: boolean): void {
    const chat = this.chat(chatId);
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
    const chat = this.chat(chatId);
    this.requirePinRight(chat, botId);
    for (const stored of chat.messages.values()) {
      if (threadId === undefined || stored.message.message_thread_id === threadId) {
        stored.pinned = false;
      }
    }
  }

  messagesOf(chatId: number): StoredMessage[] {
    const chat = this.chats.get(chatId);
    return chat ? [...chat.messages.values()] : [];
  }

  /** Throws unless the thread can take a chat action (the same rules as sending). */
  checkThread(chatId: number, threadId: number | undefined): void {
    const chat = this.chat(chatId);
    if (threadId === undefined) return;
    if (chat.chat.type !== ChatType.supergroup) return;
    this.liveTopic(chat, threadId, 'THREAD_NOT_FOUND');
  }

  // ---- callback queries --------------------------------------------------------

  pressButton(chatId: number, messageId: number, data: string, from: User): CallbackRecord {
    const chat = this.chat(chatId);
    const stored = chat.messages.get(messageId);
    if (!stored) throw sandboxError('MESSAGE_NOT_FOUND');
    const author = stored.message.from;
    const buttons = stored.message.reply_markup?.inline_keyboard.flat() ?? [];
    if (!author?.is_bot || !buttons.some((button) => button.callback_data === data)) {
      throw sandboxError('BUTTON_NOT_FOUND');
    }
    const user = toUser(from);
    const record: CallbackRecord = {
      id: `${randomInt(1, 2 ** 47)}${randomInt(0, 1_000_000)}`,
      botId: author.id,
      chatId,
      messageId,
      from: user,
      data,
      createdAt: Date.now(),
    };
    this.callbacks.set(record.id, record);
    const query: CallbackQuery = {
      id: record.id,
      from: user,
      message: stored.message,
      chat_instance: this.chatInstance(chatId),
      data,
    };
    const bot = this.bots.get(author.id);
    if (bot) this.pushUpdate(bot, { callback_query: query });
    return record;
  }

  answerCallback(botId: number, id: string, answer: Omit<CallbackAnswer, 'at'>): void {
    const record = this.callbacks.get(id);
    const expired = record !== undefined && Date.now() - record.createdAt > CALLBACK_QUERY_TTL_MS;
    if (!record || record.botId !== botId || record.answer || expired) {
      throw sandboxError('CALLBACK_QUERY_INVALID');
    }
    record.answer = { ...answer, at: Date.now() };
  }

  callback(id: string): CallbackRecord | undefined {
    return this.callbacks.get(id);
  }

  // ---- updates ---------------------------------------------------------------------

  /** Confirms (drops) updates below `offset`; a negative offset keeps the last -offset. */
  confirmUpdates(bot: BotRecord, offset: number): void {
    if (offset > 0) bot.updates = bot.updates.filter((update) => update.update_id >= offset);
    else if (offset < 0) bot.updates = bot.updates.slice(offset);
  }

  dropPendingUpdates(bot: BotRecord): void {
    bot.updates = [];
  }

  /** Removes one delivered update (webhook). */
  removeUpdate(bot: BotRecord, updateId: number): void {
    bot.updates = bot.updates.filter((update) => update.update_id !== updateId);
  }

  // ---- whole-world operations ----------------------------------------------------

  /** Empties chats, messages, topics, queues and callbacks; keeps bots and their settings. */
  reset(supergroupTitle = DEFAULT_SUPERGROUP_TITLE): void {
    this.chats.clear();
    this.callbacks.clear();
    this.orphanUpdates = [];
    for (const bot of this.bots.values()) {
      // update_id keeps growing: a client's offset must never hide new updates.
      bot.updates = [];
      if (bot.webhook) {
        delete bot.webhook.lastErrorDate;
        delete bot.webhook.lastErrorMessage;
      }
    }
    this.addSupergroup(supergroupTitle);
  }

  snapshot(): WorldSnapshot {
    return {
      version: 1,
      supergroupId: this.supergroupId,
      bots: [...this.bots.values()],
      chats: [...this.chats.values()].map((chat) => ({
        chat: chat.chat,
        nextMessageId: chat.nextMessageId,
        messages: [...chat.messages.values()],
        topics: [...chat.topics.values()],
        members: [...chat.members.values()],
        botMembers: [...chat.botMembers].map(([userId, membership]) => ({
          userId,
          ...membership,
        })),
      })),
      orphanUpdates: this.orphanUpdates,
    };
  }

  restore(snapshot: WorldSnapshot): void {
    this.bots.clear();
    this.chats.clear();
    this.callbacks.clear();
    for (const bot of snapshot.bots) this.bots.set(bot.user.id, bot);
    for (const chat of snapshot.chats) {
      this.chats.set(chat.chat.id, {
        chat: chat.chat,
        nextMessageId: chat.nextMessageId,
        messages: new Map(chat.messages.map((stored) => [stored.message.message_id, stored])),
        topics: new Map(chat.topics.map((topic) => [topic.threadId, topic])),
        members: new Map(chat.members.map((member) => [member.user.id, member])),
        botMembers: new Map(
          (chat.botMembers ?? []).map(({ userId, ...membership }) => [userId, membership]),
        ),
      });
    }
    this.orphanUpdates = snapshot.orphanUpdates;
    if (!this.chats.has(this.supergroupId)) this.addSupergroup(DEFAULT_SUPERGROUP_TITLE);
  }

  // ---- internals -------------------------------------------------------------------

  private addSupergroup(title: string): void {
    this.chats.set(this.supergroupId, {
      chat: { id: this.supergroupId, type: ChatType.supergroup, title, is_forum: true },
      // Message 1 is the group's creation and the General topic's id.
      nextMessageId: 2,
      messages: new Map(),
      topics: new Map(),
      members: new Map(),
      botMembers: new Map(),
    });
  }

  private addPrivateChat(user: User): ChatRecord {
    const chat: ChatRecord = {
      chat: {
        id: user.id,
        type: ChatType.private,
        first_name: user.first_name,
        ...(user.last_name ? { last_name: user.last_name } : {}),
        ...(user.username ? { username: user.username } : {}),
      },
      nextMessageId: 1,
      messages: new Map(),
      topics: new Map(),
      members: new Map(),
      botMembers: new Map(),
    };
    this.chats.set(user.id, chat);
    return chat;
  }

  private requirePinRight(chat: ChatRecord, botId: number): void {
    if (!this.hasRight(chat, botId, 'can_pin_messages'))
      throw sandboxError('NOT_ENOUGH_RIGHTS_PIN');
  }

  /** Editing, closing or reopening a topic: can_manage_topics, unless the bot created it. */
  private requireTopicRight(chat: ChatRecord, topic: TopicRecord, botId: number): void {
    if (topic.creatorId === botId) return;
    if (!this.hasRight(chat, botId, 'can_manage_topics')) {
      throw sandboxError('NOT_ENOUGH_RIGHTS_TOPICS');
    }
  }

  private forum(chatId: number): ChatRecord {
    const chat = this.chat(chatId);
    if (!chat.chat.is_forum) throw sandboxError('CHAT_NOT_FORUM');
    return chat;
  }

  private liveTopic(
    chat: ChatRecord,
    threadId: number,
    notFound: 'TOPIC_ID_INVALID' | 'THREAD_NOT_FOUND',
  ): TopicRecord {
    const topic = chat.topics.get(threadId);
    if (!topic || topic.deleted) throw sandboxError(notFound);
    return topic;
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
      const topic = this.liveTopic(chat, threadId, 'THREAD_NOT_FOUND');
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

  private append(
    chat: ChatRecord,
    from: User,
    fields: Omit<Message, 'message_id' | 'chat' | 'date' | 'from'>,
  ): Message {
    const message: Message = {
      message_id: chat.nextMessageId,
      from,
      chat: chat.chat,
      date: unixNow(),
      ...fields,
    };
    chat.nextMessageId += 1;
    chat.messages.set(message.message_id, { message, edits: [], pinned: false });
    return message;
  }

  private topicServiceMessage(
    botId: number,
    chat: ChatRecord,
    topic: TopicRecord,
    service: Pick<Message, 'forum_topic_edited' | 'forum_topic_closed' | 'forum_topic_reopened'>,
  ): void {
    const bot = this.ensureBot(botId);
    const root = chat.messages.get(topic.threadId)?.message;
    const message = this.append(chat, toUser(bot.user), {
      message_thread_id: topic.threadId,
      is_topic_message: true,
      ...(root ? { reply_to_message: shallow(root) } : {}),
      ...service,
    });
    this.announceServiceMessage(chat, message);
  }

  /** Bots in the group receive the topic service messages, including their own actions. */
  private announceServiceMessage(chat: ChatRecord, message: Message): void {
    this.emit({ type: 'message', chatId: chat.chat.id, message, byBot: true });
    this.broadcast(chat.chat.id, { message });
  }

  /** An update from a chat goes to every bot in it; a bot that left the group gets none. */
  private broadcast(chatId: number, payload: Omit<Update, 'update_id'>): void {
    if (this.bots.size === 0) {
      this.orphanUpdates.push(payload);
      return;
    }
    for (const bot of this.botsIn(chatId)) this.pushUpdate(bot, payload);
  }

  private pushUpdate(bot: BotRecord, payload: Omit<Update, 'update_id'>): void {
    const kind = Object.keys(payload)[0] as UpdateKind;
    const allowed = bot.allowedUpdates.length > 0 ? new Set(bot.allowedUpdates) : DEFAULT_ALLOWED;
    if (!allowed.has(kind)) return;
    const update: Update = { update_id: bot.nextUpdateId, ...payload };
    bot.nextUpdateId += 1;
    bot.updates.push(update);
    this.emit({ type: 'update', botId: bot.user.id, update });
  }
}

function validateTopicName(name: string): void {
  if (name.length < 1 || name.length > 128) throw sandboxError('TOPIC_NAME_INVALID');
}

export function validateText(text: string): void {
  if (text.trim().length === 0) throw sandboxError('TEXT_EMPTY');
  if (text.length > MAX_TEXT_LENGTH) throw sandboxError('TEXT_TOO_LONG');
}

/** A replied-to message as Telegram embeds it: without its own reply. */
function shallow(message: Message): Message {
  const { reply_to_message: _reply, ...rest } = message;
  return rest;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function toUser(from: InjectedUser | User): User {
  return {
    id: from.id,
    is_bot: from.is_bot ?? false,
    first_name: from.first_name,
    ...(from.last_name ? { last_name: from.last_name } : {}),
    ...(from.username ? { username: from.username } : {}),
    ...(from.language_code ? { language_code: from.language_code } : {}),
  };
}

function privateChatUser(chat: Chat): User {
  return {
    id: chat.id,
    is_bot: false,
    first_name: chat.first_name ?? '',
    ...(chat.last_name ? { last_name: chat.last_name } : {}),
    ...(chat.username ? { username: chat.username } : {}),
  };
}

/** The bot Telegram would know for a token's id (the sandbox knows every id). */
function botUser(botId: number): BotUser {
  return {
    id: botId,
    is_bot: true,
    first_name: 'Sandbox Bot',
    username: `sandbox_${botId}_bot`,
    can_join_groups: true,
    can_read_all_group_messages: false,
    supports_inline_queries: false,
    can_connect_to_business: false,
    has_main_web_app: false,
  };
}

/** A bot's ChatMember: Telegram's administrator shape with its rights, or a plain member / left. */
function botMember(user: User, membership: BotMembership): ChatMember {
  const { status } = membership;
  switch (status) {
    case MemberStatus.administrator:
      return {
        ...adminMember(user),
        can_manage_topics: membership.can_manage_topics,
        can_pin_messages: membership.can_pin_messages,
        can_delete_messages: membership.can_delete_messages,
      };
    case MemberStatus.member:
    case MemberStatus.left:
      return { status, user: plainUser(user) };
    default: {
      const unknownStatus: never = status;
      throw new Error(`unhandled member status ${String(unknownStatus)}`);
    }
  }
}

function plainUser(user: User): User {
  return {
    id: user.id,
    is_bot: user.is_bot,
    first_name: user.first_name,
    ...(user.last_name ? { last_name: user.last_name } : {}),
    ...(user.username ? { username: user.username } : {}),
  };
}

function adminMember(user: User): ChatMember {
  return {
    status: 'administrator',
    user: plainUser(user),
    can_be_edited: false,
    is_anonymous: false,
    can_manage_chat: true,
    can_delete_messages: true,
    can_manage_video_chats: true,
    can_restrict_members: true,
    can_promote_members: false,
    can_change_info: true,
    can_invite_users: true,
    can_post_stories: false,
    can_edit_stories: false,
    can_delete_stories: false,
    can_pin_messages: true,
    can_manage_topics: true,
  };
}
