import type { Logger } from '@topicdesk/telemetry';
import { GrammyError, type Api } from 'grammy';
import type { ChatMember } from 'grammy/types';
import { botIdOf } from './telegram-api';

/** What a call needs from the bot that makes it, in a group. */
export const BotRight = {
  /** Post a message (any member that may write). */
  post: 'post',
  /** Create, rename, close and reopen topics (an admin with "Manage topics"). */
  topics: 'topics',
  /** Pin a message (an admin with "Pin messages"). */
  pin: 'pin',
  /** Delete a topic (an admin with "Delete messages"). */
  delete: 'delete',
} as const;
export type BotRight = (typeof BotRight)[keyof typeof BotRight];

/** One bot of the pool: the main bot (receives agents' messages) or a send-only sender bot. */
export interface PoolBot {
  readonly id: string;
  readonly main: boolean;
  /** An owner's bot of a bot channel (issue 19): it talks to its own users only, never a group. */
  readonly channel?: boolean | undefined;
  readonly api: Api;
  /** From getMe at start; absent until known. */
  username?: string | undefined;
}

/** What a bot may do in one group, from getChatMember (or learnt from Telegram's refusals). */
export type GroupAccess =
  | { status: 'ok'; topics: boolean; pin: boolean; delete: boolean }
  | { status: 'out'; reason: string };

export interface BotPoolOptions {
  main: { token: string; api: Api };
  senders: ReadonlyArray<{ token: string; api: Api }>;
  logger: Logger;
}

/** How often a bot left out of a group is asked again (it may have been added since). */
const RECHECK_MS = 10 * 60_000;

/**
 * The bots that may send for this bridge and what each may do in each support group. A bot that
 * is not in a group, or lacks the rights a call needs, is left out of that group's calls — told
 * once in the log and in /readyz — never a crash loop. Private chats belong to the main bot:
 * a user has only ever started that one.
 */
export class BotPool {
  readonly main: PoolBot;
  readonly bots: readonly PoolBot[];
  /** Bot channels' bots, by id: budgets and pausing like any bot, private chats only. */
  readonly #channelBots = new Map<string, PoolBot>();
  readonly #access = new Map<string, GroupAccess & { at: number }>();
  /** Bots whose token Telegram refused (getMe 401): out of every chat. */
  readonly #invalid = new Map<string, string>();
  /** Each bot's last failed call in this process (the console's Overview). */
  readonly #lastError = new Map<string, { code: string; at: number }>();
  readonly #listeners = new Set<() => void>();

  constructor(private readonly options: BotPoolOptions) {
    this.main = { id: botIdOf(options.main.token), main: true, api: options.main.api };
    const seen = new Set([this.main.id]);
    const senders: PoolBot[] = [];
    for (const sender of options.senders) {
      const id = botIdOf(sender.token);
      if (seen.has(id)) {
        options.logger.warn(
          { botId: id },
          'sender bot listed twice (or is the main bot); used once',
        );
        continue;
      }
      seen.add(id);
      senders.push({ id, main: false, api: sender.api });
    }
    this.bots = [this.main, ...senders];
  }

  /** Told when a bot's place changes (left out, a failed call): the status is worth sending. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #changed(): void {
    for (const listener of this.#listeners) listener();
  }

  /** A call of this bot failed with Telegram's `code` (`429`, `403`…) or `network`. */
  noteError(bot: PoolBot, code: string): void {
    this.#lastError.set(bot.id, { code, at: Date.now() });
    this.#changed();
  }

  lastError(botId: string): { code: string; at: number } | undefined {
    return this.#lastError.get(botId);
  }

  bot(id: string): PoolBot | undefined {
    return this.bots.find((bot) => bot.id === id) ?? this.#channelBots.get(id);
  }

  /**
   * Adds a bot channel's bot (its users' private chats only); the same bot again keeps the
   * first. A channel bot that is also in the pool stays the pool's bot.
   */
  addChannelBot(id: string, api: Api): PoolBot {
    const known = this.bot(id);
    if (known) return known;
    const bot: PoolBot = { id, main: false, channel: true, api };
    this.#channelBots.set(id, bot);
    return bot;
  }

  /**
   * The bots that may make a call needing `right` in `chatId`, main bot first. A private chat
   * (positive id) is the main bot's alone. A group nobody checked yet is open to every bot
   * with a valid token; a refusal from Telegram narrows it (`learn`).
   */
  eligible(chatId: number, right: BotRight, only?: string): PoolBot[] {
    // A bot channel's user has started that bot only: its calls name it (`only`).
    const channelBot = only !== undefined ? this.#channelBots.get(only) : undefined;
    const candidates = chatId > 0 ? [channelBot ?? this.main] : this.bots;
    return candidates.filter((bot) => {
      if (only !== undefined && bot.id !== only) return false;
      if (this.#invalid.has(bot.id)) return false;
      const access = this.#accessOf(bot.id, chatId);
      if (!access) return true;
      if (access.status === 'out') return false;
      switch (right) {
        case BotRight.post:
          return true;
        case BotRight.topics:
          return access.topics;
        case BotRight.pin:
          return access.pin;
        case BotRight.delete:
          return access.delete;
        default: {
          const never: never = right;
          throw new Error(`unknown right ${String(never)}`);
        }
      }
    });
  }

  #accessOf(botId: string, chatId: number): GroupAccess | undefined {
    const access = this.#access.get(`${botId}:${chatId}`);
    if (access?.status === 'out' && Date.now() - access.at > RECHECK_MS) return undefined;
    return access;
  }

  /** Checks every bot (getMe) and its membership and rights in each group (getChatMember). */
  async check(groupIds: readonly number[]): Promise<void> {
    await Promise.all(
      this.bots.map(async (bot) => {
        try {
          const me = await bot.api.getMe();
          bot.username = me.username;
          this.#invalid.delete(bot.id);
        } catch (error) {
          if (
            error instanceof GrammyError &&
            (error.error_code === 401 || error.error_code === 404)
          ) {
            this.#invalid.set(bot.id, 'Telegram refused its token');
            this.options.logger.error(
              { botId: bot.id, main: bot.main },
              `${bot.main ? 'main bot' : 'sender bot'} ${bot.id} left out: Telegram refused its token`,
            );
            return;
          }
          // Telegram unreachable: the bot stays in; a refusal of a real call narrows it later.
          this.options.logger.warn({ botId: bot.id, err: error }, 'could not check a bot; kept');
          return;
        }
        for (const groupId of groupIds) await this.#checkGroup(bot, groupId);
      }),
    );
  }

  async #checkGroup(bot: PoolBot, groupId: number): Promise<void> {
    let member: ChatMember;
    try {
      member = await bot.api.getChatMember(groupId, Number(bot.id));
    } catch (error) {
      if (error instanceof GrammyError && error.error_code < 500 && error.error_code !== 429) {
        this.#set(bot, groupId, { status: 'out', reason: error.description });
        return;
      }
      this.options.logger.warn(
        { botId: bot.id, groupId, err: error },
        'could not check a bot in a group; kept',
      );
      return;
    }
    this.#set(bot, groupId, accessOf(member));
  }

  /** A refusal from Telegram says more than the last check: record it. */
  learn(bot: PoolBot, chatId: number, access: GroupAccess): void {
    if (chatId > 0) return;
    const current = this.#access.get(`${bot.id}:${chatId}`);
    if (access.status === 'ok' && current?.status === 'ok')
      this.#set(bot, chatId, {
        status: 'ok',
        topics: current.topics && access.topics,
        pin: current.pin && access.pin,
        delete: current.delete && access.delete,
      });
    else this.#set(bot, chatId, access);
  }

  /** Telegram refused the bot's token on a real call: out of every chat until the next check. */
  invalidate(bot: PoolBot, reason: string): void {
    if (this.#invalid.has(bot.id)) return;
    this.#invalid.set(bot.id, reason);
    this.options.logger.error(
      { botId: bot.id, main: bot.main },
      `${bot.main ? 'main bot' : 'sender bot'} ${bot.id} left out: ${reason}`,
    );
    this.#changed();
  }

  #set(bot: PoolBot, groupId: number, access: GroupAccess): void {
    const key = `${bot.id}:${groupId}`;
    const before = this.#access.get(key);
    this.#access.set(key, { ...access, at: Date.now() });
    const changed = JSON.stringify({ ...before, at: 0 }) !== JSON.stringify({ ...access, at: 0 });
    if (!changed) return;
    this.#changed();
    const who = bot.main ? 'main bot' : 'sender bot';
    if (access.status === 'out') {
      this.options.logger.error(
        { botId: bot.id, groupId, reason: access.reason },
        `${who} ${bot.id} left out of group ${groupId}: ${access.reason}`,
      );
    } else if (!access.topics || !access.pin || !access.delete) {
      const missing = [
        !access.topics && 'Manage topics',
        !access.pin && 'Pin messages',
        !access.delete && 'Delete messages',
      ]
        .filter(Boolean)
        .join(', ');
      this.options.logger.warn(
        { botId: bot.id, groupId, missing },
        `${who} ${bot.id} posts in group ${groupId} but lacks ${missing}; others do that`,
      );
    }
  }

  /**
   * For /readyz and /stats: each bot and where it is left out. Ready unless the main bot's
   * token is refused or it is out of the default group (`defaultGroupId`): a bot left out of
   * another group only narrows where it helps, and an unready bridge would get no updates.
   */
  report(defaultGroupId?: number): { ok: boolean; bots: BotReport[] } {
    const bots = this.bots.map((bot): BotReport => {
      const out: string[] = [];
      const invalid = this.#invalid.get(bot.id);
      if (invalid) out.push(invalid);
      for (const [key, access] of this.#access) {
        const [botId, chatId] = key.split(':');
        if (botId === bot.id && access.status === 'out')
          out.push(`not usable in ${String(chatId)}: ${access.reason}`);
      }
      return { id: bot.id, main: bot.main, username: bot.username, out };
    });
    const mainAccess =
      defaultGroupId === undefined ? undefined : this.#accessOf(this.main.id, defaultGroupId);
    const ok = !this.#invalid.has(this.main.id) && mainAccess?.status !== 'out';
    return { ok, bots };
  }

  /** One line for /readyz detail, naming every bot left out. */
  describe(): string | undefined {
    const lines = this.report()
      .bots.filter((bot) => bot.out.length > 0)
      .map(
        (bot) =>
          `${bot.main ? 'main bot' : 'sender bot'} ${bot.id} left out (${bot.out.join('; ')})`,
      );
    return lines.length > 0 ? lines.join('; ') : undefined;
  }
}

export interface BotReport {
  id: string;
  main: boolean;
  username: string | undefined;
  out: string[];
}

/** What getChatMember says a bot may do. */
export function accessOf(member: ChatMember): GroupAccess {
  switch (member.status) {
    case 'creator':
      return { status: 'ok', topics: true, pin: true, delete: true };
    case 'administrator':
      return {
        status: 'ok',
        topics: member.can_manage_topics === true,
        pin: member.can_pin_messages === true,
        delete: member.can_delete_messages,
      };
    case 'member':
      return { status: 'ok', topics: false, pin: false, delete: false };
    case 'restricted':
      return member.can_send_messages
        ? { status: 'ok', topics: false, pin: false, delete: false }
        : { status: 'out', reason: 'restricted: may not send messages' };
    case 'left':
      return { status: 'out', reason: 'not a member' };
    case 'kicked':
      return { status: 'out', reason: 'banned from the group' };
    default: {
      const never: never = member;
      throw new Error(`unknown member status ${JSON.stringify(never)}`);
    }
  }
}
