import { createHash } from 'node:crypto';
import { sandboxError } from '../errors';
import {
  ChatType,
  type Chat,
  type Message,
  type Update,
  type UpdateKind,
  type User,
} from '../telegram.types';
import { Callbacks } from './callbacks';
import { Files } from './files';
import { Members } from './members';
import { Messages } from './messages';
import {
  DEFAULT_ALLOWED,
  DEFAULT_SUPERGROUP_TITLE,
  unixNow,
  type BotRecord,
  type ChatRecord,
  type TopicRecord,
  type WorldEvent,
  type WorldSnapshot,
} from './records';
import { Topics } from './topics';
import { botUser } from './users';

// The Telegram world the sandbox simulates: bots, chats, forum topics, messages,
// per-bot update queues and callback queries. Every operation applies Telegram's
// rules and throws a SandboxError as Telegram would answer. It knows nothing of HTTP,
// persistence or limits; SandboxState composes those around it.
//
// This class holds the records and the plumbing every operation shares (lookups,
// rights, appending a message, queueing updates, saving and restoring); the operations
// themselves live beside it, one file per kind: members, topics, messages, callbacks.

export class World {
  readonly supergroupId: number;
  readonly members = new Members(this);
  readonly topics = new Topics(this);
  readonly messages = new Messages(this);
  readonly callbacks = new Callbacks(this);
  /** Files bots uploaded (kept in memory only, not in the saved state). */
  readonly files = new Files();
  private readonly bots = new Map<number, BotRecord>();
  private readonly chats = new Map<number, ChatRecord>();
  /** Updates that happened before any bot existed; the first bot takes them. */
  private orphanUpdates: Array<Omit<Update, 'update_id'>> = [];
  /** `<bot id>:<user id>` of people who blocked a bot: its sends to them answer 403. */
  readonly blocked = new Set<string>();

  constructor(
    options: { supergroupId: number; supergroupTitle?: string },
    readonly emit: (event: WorldEvent) => void,
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

  forum(chatId: number): ChatRecord {
    const chat = this.chat(chatId);
    if (!chat.chat.is_forum) throw sandboxError('CHAT_NOT_FORUM');
    return chat;
  }

  liveTopic(
    chat: ChatRecord,
    threadId: number,
    notFound: 'TOPIC_ID_INVALID' | 'THREAD_NOT_FOUND',
  ): TopicRecord {
    const topic = chat.topics.get(threadId);
    if (!topic || topic.deleted) throw sandboxError(notFound);
    return topic;
  }

  /** A person's first message to the bot opens their private chat. */
  addPrivateChat(user: User): ChatRecord {
    const chat = emptyChat(
      {
        id: user.id,
        type: ChatType.private,
        first_name: user.first_name,
        ...(user.last_name ? { last_name: user.last_name } : {}),
        ...(user.username ? { username: user.username } : {}),
      },
      1,
    );
    this.chats.set(user.id, chat);
    return chat;
  }

  // ---- messages and updates ---------------------------------------------------

  /** Stores a new message under the chat's next id. */
  append(
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

  /** Bots in the group receive the topic service messages, including their own actions. */
  announceServiceMessage(chat: ChatRecord, message: Message): void {
    this.emit({ type: 'message', chatId: chat.chat.id, message, byBot: true });
    this.broadcast(chat.chat.id, { message });
  }

  /** An update from a chat goes to every bot in it; a bot that left the group gets none. */
  broadcast(chatId: number, payload: Omit<Update, 'update_id'>): void {
    if (this.bots.size === 0) {
      this.orphanUpdates.push(payload);
      return;
    }
    for (const bot of this.members.botsIn(chatId)) this.pushUpdate(bot, payload);
  }

  pushUpdate(bot: BotRecord, payload: Omit<Update, 'update_id'>): void {
    const kind = Object.keys(payload)[0] as UpdateKind;
    const allowed = bot.allowedUpdates.length > 0 ? new Set(bot.allowedUpdates) : DEFAULT_ALLOWED;
    if (!allowed.has(kind)) return;
    const update: Update = { update_id: bot.nextUpdateId, ...payload };
    bot.nextUpdateId += 1;
    bot.updates.push(update);
    this.emit({ type: 'update', botId: bot.user.id, update });
  }

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

  /**
   * Another forum supergroup besides the main one (a second support group, e.g. an escalation
   * level's), with bots as administrators by default like the main one. Nothing when it exists.
   */
  addForum(chatId: number, title: string): void {
    if (this.chats.has(chatId)) return;
    const chat: Chat = { id: chatId, type: ChatType.supergroup, title, is_forum: true };
    // Message 1 is the group's creation and the General topic's id.
    this.chats.set(chatId, emptyChat(chat, 2));
  }

  private addSupergroup(title: string): void {
    this.addForum(this.supergroupId, title);
  }
}

function emptyChat(chat: Chat, nextMessageId: number): ChatRecord {
  return {
    chat,
    nextMessageId,
    messages: new Map(),
    topics: new Map(),
    members: new Map(),
    botMembers: new Map(),
  };
}
