import { EventEmitter } from 'node:events';
import { READ_ONLY_METHODS, resolveMethod, runMethod, type BotApiMethod } from './bot-api';
import { SandboxError, sandboxError, type BotApiErrorBody } from './errors';
import { DEFAULT_LIMITS, RATE_LIMITED_METHODS, RateLimiter, type Limits } from './limits';
import { isRecord, requiredChatId, type Params } from './params';
import { JsonFileStore } from './persistence';
import { ChatType, type Message, type Update } from './telegram.types';
import {
  botView,
  chatView,
  messageView,
  topicView,
  type MessageView,
  type StateSummary,
  type TopicView,
} from './views';
import { WebhookDelivery } from './webhook';
import {
  DEFAULT_SUPERGROUP_ID,
  DEFAULT_SUPERGROUP_TITLE,
  GENERAL_THREAD_ID,
  type BotMembership,
  type BotRecord,
  type CallbackAnswer,
  type MemberRights,
  type MemberStatus,
  type WorldEvent,
  toWorldSnapshot,
  type WorldSnapshot,
} from './world/records';
import { World } from './world/world';
import type {
  CallFilter,
  EditUserMessageInput,
  InjectMessageInput,
  MessageFilter,
  OpenMiniAppInput,
  PressButtonInput,
} from './control-inputs';
import type { OpenedMiniApp } from './world/callbacks';

export type {
  CallFilter,
  EditUserMessageInput,
  InjectMessageInput,
  MessageFilter,
  OpenMiniAppInput,
  PressButtonInput,
} from './control-inputs';
export type { OpenedMiniApp } from './world/callbacks';

// The sandbox's state and its programmatic API: the simulated Telegram world plus what
// surrounds it (Bot API dispatch, flood limits, the call log, webhook delivery,
// long polls, persistence and events). The HTTP plugin and tests both drive this class.

export interface SandboxStateOptions {
  /** A JSON file to load at start (if present) and to keep saved after every change. */
  statePath?: string;
  /** The id of the forum supergroup that always exists. */
  supergroupId?: number;
  supergroupTitle?: string;
  limits?: Partial<Limits>;
  /** Where persistence and delivery problems are reported; console.error by default. */
  log?: (message: string, error?: unknown) => void;
  /** How long a webhook may take to answer before the delivery counts as failed. */
  webhookTimeoutMs?: number;
}

export interface BotApiSuccessBody {
  ok: true;
  result: unknown;
}

export interface BotApiResponse {
  /** The HTTP status Telegram would use: 200, or the error's error_code. */
  status: number;
  body: BotApiSuccessBody | BotApiErrorBody;
}

export interface CallLogEntry {
  /** The bot's id; null when the token was refused. */
  botId: number | null;
  method: string;
  params: Params;
  status: number;
  errorCode?: number;
  description?: string;
  /** When the sandbox received the call (ms since the epoch). */
  at: number;
}

export interface SandboxEvents {
  call: [CallLogEntry];
  message: [{ chatId: number; message: Message; byBot: boolean }];
  update: [{ botId: number; update: Update }];
  change: [];
}

export const BOT_TOKEN = /^(\d+):[A-Za-z0-9_-]{3,}$/;
const MAX_CALL_LOG = 10_000;

interface PendingPoll {
  release(): void;
  fail(error: SandboxError): void;
}

export class SandboxState extends EventEmitter<SandboxEvents> {
  readonly supergroupId: number;
  private readonly supergroupTitle: string;
  readonly world: World;
  private limitsConfig: Limits;
  private readonly limiter: RateLimiter;
  private callLog: CallLogEntry[] = [];
  private rateLimitedCounts = new Map<string, number>();
  private readonly polls = new Map<number, PendingPoll>();
  private readonly deliveries = new Map<number, WebhookDelivery>();
  private readonly store: JsonFileStore<WorldSnapshot> | undefined;
  private readonly log: (message: string, error?: unknown) => void;
  private readonly webhookTimeoutMs: number | undefined;
  private closed = false;

  constructor(options: SandboxStateOptions = {}) {
    super();
    this.setMaxListeners(0);
    this.supergroupId = options.supergroupId ?? DEFAULT_SUPERGROUP_ID;
    this.supergroupTitle = options.supergroupTitle ?? DEFAULT_SUPERGROUP_TITLE;
    this.log =
      options.log ??
      ((message, error) => console.error(`[telegram-sandbox] ${message}`, error ?? ''));
    this.webhookTimeoutMs = options.webhookTimeoutMs;
    this.limitsConfig = { ...DEFAULT_LIMITS, ...options.limits };
    this.limiter = new RateLimiter(this.limitsConfig);
    this.world = new World(
      { supergroupId: this.supergroupId, supergroupTitle: this.supergroupTitle },
      (event) => this.onWorldEvent(event),
    );
    if (options.statePath) {
      this.store = new JsonFileStore(
        options.statePath,
        () => this.world.snapshot(),
        (error) => this.log(`could not save ${options.statePath}`, error),
      );
      const saved = this.store.load();
      if (saved !== undefined) this.world.restore(toWorldSnapshot(saved, options.statePath));
      // Updates left pending by the previous run go out again.
      for (const bot of this.world.allBots()) this.deliveryFor(bot)?.kick();
    }
  }

  // ---- Bot API ---------------------------------------------------------------------

  /** Serves one Bot API call as Telegram would; never throws. */
  async callBotApi(
    token: string,
    methodName: string,
    params: Params,
    signal?: AbortSignal,
  ): Promise<BotApiResponse> {
    const at = Date.now();
    const botId = parseBotId(token);
    const method = resolveMethod(methodName);
    let response: BotApiResponse;
    try {
      if (botId === undefined) throw sandboxError('UNAUTHORIZED');
      this.world.callbacks.rememberToken(botId, token);
      if (!method) throw sandboxError('METHOD_NOT_FOUND');
      const result = await this.dispatch(botId, method, params, at, signal);
      response = { status: 200, body: { ok: true, result } };
    } catch (error) {
      response = this.errorResponse(error, method ?? methodName);
    }
    this.logCall({
      botId: botId ?? null,
      method: method ?? methodName,
      params,
      status: response.status,
      ...(response.body.ok
        ? {}
        : { errorCode: response.body.error_code, description: response.body.description }),
      at,
    });
    return response;
  }

  private async dispatch(
    botId: number,
    method: BotApiMethod,
    params: Params,
    at: number,
    signal: AbortSignal | undefined,
  ): Promise<unknown> {
    const bot = this.world.ensureBot(botId);
    const chatId = chatIdOf(params);
    if (chatId !== undefined) this.world.members.requireInChat(botId, chatId);
    const target =
      RATE_LIMITED_METHODS.has(method) && chatId !== undefined
        ? this.rateTarget(botId, chatId)
        : undefined;
    if (target) {
      const retryAfter = this.limiter.retryAfter(target, at);
      if (retryAfter > 0) {
        throw sandboxError('TOO_MANY_REQUESTS', {
          description: `Too Many Requests: retry after ${retryAfter}`,
          parameters: { retry_after: retryAfter },
        });
      }
    }
    const result = await runMethod(method, {
      world: this.world,
      bot,
      params,
      waitForUpdates: (timeoutMs) => this.waitForUpdates(botId, timeoutMs, signal),
      webhookChanged: () => this.webhookChanged(bot),
    });
    if (target) this.limiter.record(target, at);
    if (!READ_ONLY_METHODS.has(method)) this.changed();
    return result;
  }

  private rateTarget(botId: number, chatId: number) {
    const chat = this.world.chat(chatId);
    return { botId, chatId: chat.chat.id, isGroup: chat.chat.type === ChatType.supergroup };
  }

  private errorResponse(error: unknown, method: string): BotApiResponse {
    if (error instanceof SandboxError) {
      if (error.status === 429) {
        this.rateLimitedCounts.set(method, (this.rateLimitedCounts.get(method) ?? 0) + 1);
      }
      return { status: error.status, body: error.toBotApiBody() };
    }
    this.log(`unexpected error in ${method}`, error);
    return {
      status: 500,
      body: { ok: false, error_code: 500, description: 'Internal Server Error' },
    };
  }

  private logCall(entry: CallLogEntry): void {
    this.callLog.push(entry);
    if (this.callLog.length > MAX_CALL_LOG)
      this.callLog.splice(0, this.callLog.length - MAX_CALL_LOG);
    this.emit('call', entry);
  }

  // ---- long polling and webhooks -----------------------------------------------------

  private waitForUpdates(
    botId: number,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    // Telegram answers an older long poll 409 when a newer one arrives.
    this.polls.get(botId)?.fail(sandboxError('TERMINATED_BY_GET_UPDATES'));
    if (this.closed || signal?.aborted) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const finish = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', release);
        if (this.polls.get(botId) === poll) this.polls.delete(botId);
      };
      const release = () => {
        finish();
        resolve();
      };
      const poll: PendingPoll = {
        release,
        fail: (error) => {
          finish();
          reject(error);
        },
      };
      const timer = setTimeout(release, timeoutMs);
      signal?.addEventListener('abort', release);
      this.polls.set(botId, poll);
    });
  }

  private webhookChanged(bot: BotRecord): void {
    const id = bot.user.id;
    if (bot.webhook) {
      this.polls.get(id)?.fail(sandboxError('TERMINATED_BY_SET_WEBHOOK'));
      delete bot.webhook.lastErrorDate;
      delete bot.webhook.lastErrorMessage;
      this.deliveryFor(bot)?.kick(true);
    } else {
      this.deliveries.get(id)?.stop();
      this.deliveries.delete(id);
    }
  }

  private deliveryFor(bot: BotRecord): WebhookDelivery | undefined {
    if (!bot.webhook || this.closed) return undefined;
    const id = bot.user.id;
    let delivery = this.deliveries.get(id);
    if (!delivery) {
      delivery = new WebhookDelivery(
        {
          next: () => {
            const { webhook } = bot;
            const update = bot.updates[0];
            if (!webhook || !update) return undefined;
            return {
              update,
              url: webhook.url,
              ...(webhook.secretToken ? { secretToken: webhook.secretToken } : {}),
            };
          },
          delivered: (updateId, reply) => {
            this.world.removeUpdate(bot, updateId);
            this.changed();
            if (isRecord(reply) && typeof reply['method'] === 'string') {
              void this.webhookReply(bot, reply['method'], reply);
            }
          },
          failed: (message) => {
            if (!bot.webhook) return;
            bot.webhook.lastErrorDate = Math.floor(Date.now() / 1000);
            bot.webhook.lastErrorMessage = message;
            this.changed();
          },
        },
        this.webhookTimeoutMs,
      );
      this.deliveries.set(id, delivery);
    }
    return delivery;
  }

  /** A webhook may answer with one method call; Telegram runs it (its result is not returned). */
  private async webhookReply(bot: BotRecord, method: string, params: Params): Promise<void> {
    const { method: _method, ...rest } = params;
    const at = Date.now();
    const canonical = resolveMethod(method);
    let response: BotApiResponse;
    try {
      if (!canonical) throw sandboxError('METHOD_NOT_FOUND');
      const result = await this.dispatch(bot.user.id, canonical, rest, at, undefined);
      response = { status: 200, body: { ok: true, result } };
    } catch (error) {
      response = this.errorResponse(error, canonical ?? method);
    }
    this.logCall({
      botId: bot.user.id,
      method: canonical ?? method,
      params: rest,
      status: response.status,
      ...(response.body.ok
        ? {}
        : { errorCode: response.body.error_code, description: response.body.description }),
      at,
    });
  }

  private onWorldEvent(event: WorldEvent): void {
    switch (event.type) {
      case 'message':
        this.emit('message', { chatId: event.chatId, message: event.message, byBot: event.byBot });
        return;
      case 'update': {
        const bot = this.world.bot(event.botId);
        if (bot?.webhook) this.deliveryFor(bot)?.kick();
        else this.polls.get(event.botId)?.release();
        this.emit('update', { botId: event.botId, update: event.update });
        return;
      }
      default: {
        const unknownEvent: never = event;
        throw new Error(`unhandled world event ${JSON.stringify(unknownEvent)}`);
      }
    }
  }

  private changed(): void {
    this.store?.schedule();
    this.emit('change');
  }

  // ---- control API ---------------------------------------------------------------------

  /** A person writes: an agent in the supergroup, or a visitor in a private chat (chatId = their id). */
  injectMessage(input: InjectMessageInput): Message {
    const message = this.world.messages.injectUser(
      input.chatId,
      input.from,
      {
        text: input.text,
        ...(input.messageThreadId === undefined ? {} : { threadId: input.messageThreadId }),
        ...(input.replyToMessageId === undefined
          ? {}
          : { replyToMessageId: input.replyToMessageId }),
      },
      input.media,
      input.toBot,
    );
    this.changed();
    return message;
  }

  /** A person blocks a bot (or unblocks it): the bot's messages to them answer 403. */
  blockBot(userId: number, botId: number, blocked = true): void {
    if (blocked) this.world.blocked.add(`${botId}:${userId}`);
    else this.world.blocked.delete(`${botId}:${userId}`);
  }

  /** A person edits their message; bots get an `edited_message` update. */
  editUserMessage(input: EditUserMessageInput): Message {
    const message = this.world.messages.editUser(input.chatId, input.messageId, input.text);
    this.changed();
    return message;
  }

  /** A person presses an inline button of a bot message; its bot gets a `callback_query`. Returns the query id. */
  pressButton(input: PressButtonInput): string {
    const record = this.world.callbacks.press(
      input.chatId,
      input.messageId,
      input.data,
      input.from,
    );
    this.changed();
    return record.id;
  }

  /** A person taps a `web_app` button: the Mini App's URL and the `initData` Telegram signs. */
  openMiniApp(input: OpenMiniAppInput): OpenedMiniApp {
    return this.world.callbacks.openMiniApp(input.chatId, input.messageId, input.from, input.text);
  }

  /**
   * Sets a bot's standing in a supergroup, as an owner would in Telegram: `administrator`
   * (every right unless `rights` takes some away), `member` (no administrator rights) or
   * `left` (every call into the chat answers 403, and no updates from it). By default
   * every bot is an administrator with every right.
   */
  setMember(
    chatId: number,
    userId: number,
    status: MemberStatus,
    rights?: MemberRights,
  ): BotMembership & { userId: number } {
    const membership = this.world.members.setBot(chatId, userId, status, rights);
    this.changed();
    return { userId, ...membership };
  }

  /** Every known bot's standing in a supergroup (the supergroup by default). */
  members(chatId: number = this.supergroupId): Array<BotMembership & { userId: number }> {
    return this.world.members.bots(chatId);
  }

  /** The bot's answerCallbackQuery for a pressed button, once it came. */
  callbackAnswer(callbackQueryId: string): CallbackAnswer | undefined {
    return this.world.callbacks.get(callbackQueryId)?.answer;
  }

  messages(filter: MessageFilter = {}): MessageView[] {
    const chatId = filter.chatId ?? this.supergroupId;
    return this.world.messages
      .of(chatId)
      .map((stored) => messageView(chatId, stored))
      .filter((view) => {
        if (filter.fromBot !== undefined && view.fromBot !== filter.fromBot) return false;
        if (filter.threadId === undefined) return true;
        if (filter.threadId === GENERAL_THREAD_ID) return view.threadId === null;
        return view.threadId === filter.threadId;
      });
  }

  /** The Bot API call log, oldest first (the last 10,000 calls). */
  calls(filter: CallFilter = {}): CallLogEntry[] {
    const method =
      filter.method === undefined ? undefined : (resolveMethod(filter.method) ?? filter.method);
    return method === undefined
      ? [...this.callLog]
      : this.callLog.filter((call) => call.method === method);
  }

  /** 429 answers per method. */
  rateLimited(): Record<string, number> {
    return Object.fromEntries(this.rateLimitedCounts);
  }

  topics(chatId: number = this.supergroupId): TopicView[] {
    return this.world.topics.list(chatId).map((topic) => topicView(chatId, topic));
  }

  /** Updates not yet confirmed or delivered for a bot (all bots' when omitted). */
  pendingUpdates(botId?: number): Update[] {
    const bots = botId === undefined ? this.world.allBots() : [this.world.bot(botId)];
    return bots.flatMap((bot) => bot?.updates ?? []);
  }

  get limits(): Limits {
    return { ...this.limitsConfig };
  }

  setLimits(limits: Partial<Limits>): Limits {
    this.limitsConfig = { ...this.limitsConfig, ...limits };
    this.limiter.configure(this.limitsConfig);
    this.emit('change');
    return this.limits;
  }

  /** Empties chats, topics, messages, queues, the call log and the limit windows; keeps the supergroup, bots and webhooks. */
  reset(): void {
    this.world.reset(this.supergroupTitle);
    this.callLog = [];
    this.rateLimitedCounts = new Map();
    this.limiter.clear();
    this.changed();
  }

  summary(): StateSummary {
    const chats = this.world.allChats();
    return {
      supergroupId: this.supergroupId,
      bots: this.world.allBots().map(botView),
      chats: chats.map(chatView),
      topics: chats.flatMap((chat) =>
        [...chat.topics.values()].map((topic) => topicView(chat.chat.id, topic)),
      ),
      limits: this.limits,
      rateLimited: this.rateLimited(),
    };
  }

  /**
   * Resolves with the first truthy value of `check`, evaluated now and after every call,
   * message, update or change; rejects after `timeoutMs`. For tests:
   * `await state.waitFor(() => state.calls({ method: 'sendMessage' })[0])`.
   */
  waitFor<T>(check: () => T | undefined | null | false, timeoutMs = 5_000): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const events = ['call', 'message', 'update', 'change'] as const;
      const cleanup = () => {
        clearTimeout(timer);
        for (const event of events) this.off(event, evaluate);
      };
      const evaluate = () => {
        let value: T | undefined | null | false;
        try {
          value = check();
        } catch (error) {
          cleanup();
          reject(error instanceof Error ? error : new Error(String(error)));
          return;
        }
        if (!value) return;
        cleanup();
        resolve(value);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`waitFor: condition not met within ${timeoutMs} ms`));
      }, timeoutMs);
      for (const event of events) this.on(event, evaluate);
      evaluate();
    });
  }

  /** Writes pending changes to the state file now (no-op without one). */
  async flush(): Promise<void> {
    await this.store?.flush();
  }

  /** Ends long polls and webhook deliveries and saves. The state stays readable. */
  async close(): Promise<void> {
    this.closed = true;
    for (const poll of this.polls.values()) poll.release();
    for (const delivery of this.deliveries.values()) delivery.stop();
    this.deliveries.clear();
    await this.flush();
  }
}

/** The chat a call is about, when it names one the way Telegram reads it; else undefined. */
function chatIdOf(params: Params): number | undefined {
  if (params['chat_id'] === undefined) return undefined;
  try {
    return requiredChatId(params);
  } catch (error) {
    // The method itself answers the malformed chat_id with Telegram's error.
    if (error instanceof SandboxError) return undefined;
    throw error;
  }
}

function parseBotId(token: string): number | undefined {
  const match = BOT_TOKEN.exec(token);
  if (!match?.[1]) return undefined;
  const id = Number(match[1]);
  return Number.isSafeInteger(id) && id > 0 ? id : undefined;
}
