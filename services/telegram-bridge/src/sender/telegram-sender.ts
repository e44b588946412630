import type { Budget, BudgetLimiter } from '@topicdesk/fanout';
import type { Logger } from '@topicdesk/telemetry';
import { GrammyError, type Api } from 'grammy';
import type { BridgeMetrics } from '../metrics';
import { BotRight, type BotPool, type GroupAccess, type PoolBot } from './bot-pool';
import { classifyTelegramError, type TelegramFailure } from './telegram-api';

// The one way out to Telegram. Every Bot API call of the bridge that shows up in a chat waits
// here for room in the budgets of some bot of the pool — per bot ~30/s, per bot and chat ~1/s
// (short bursts allowed, CHAT_BURST), per bot and group ~20/min, kept in Redis for every replica — in a fair order: normal work
// (new topics, visitor texts, bot posts, closing) before cosmetic work (renames, header edits,
// pins, typing), and within a class whoever waits longest first, a conversation that was just
// served going behind the others (round-robin). A 429 pauses only the bot that got it; its
// work moves to the other bots. A bot that turns out not to be in a group, or to lack a right,
// is left out of that group and the call moves on too. Retries are bounded.

/** Whether a call is part of the conversation itself or only how the topic looks. */
export const SendPriority = {
  /** New topics, visitor texts, bot posts, closing and reopening. */
  normal: 'normal',
  /** Renames, header edits, pins, typing, topic removal: superseded or dropped freely. */
  cosmetic: 'cosmetic',
} as const;
export type SendPriority = (typeof SendPriority)[keyof typeof SendPriority];

const PRIORITY_RANK: Record<SendPriority, number> = { normal: 0, cosmetic: 1 };

export interface SendRequest<T> {
  /** The Bot API method, for metrics and logs. */
  method: string;
  chatId: number;
  /** The chat's budget key; a private chat passes a pseudonym so no Redis key names a user. */
  chatKey?: string | undefined;
  priority: SendPriority;
  /** When the thing this call serves started waiting (ms since epoch): earlier goes first. */
  since: number;
  /** The conversation served: a conversation served just now waits behind the others. */
  conversationId?: string | undefined;
  /** False for a call that opens a conversation's turn (topic creation): its header follows at once. */
  endsTurn?: boolean | undefined;
  /** Only this bot may make the call (an edit of its own message). */
  bot?: string | undefined;
  /** What the call needs from the bot in a group (default `post`). */
  needs?: BotRight | undefined;
  call: (api: Api) => Promise<T>;
  /** Aborts the wait (the call itself, once started, is not aborted). */
  signal?: AbortSignal | undefined;
  /** Called every few seconds while waiting (keeps a bus delivery alive). */
  working?: (() => void) | undefined;
  /** Called once when the wait passes RETRYING_NOTICE_AFTER_MS. */
  onLongWait?: (() => void) | undefined;
  /** Gives up waiting for budget after this long (the result is `deferred`). */
  maxWaitMs?: number | undefined;
}

export type SendResult<T> =
  | { ok: true; value: T; bot: PoolBot }
  | { ok: false; failure: SendFailure; error?: unknown; bot?: PoolBot | undefined };

export type SendFailure =
  | TelegramFailure
  /** Not sent: `maxWaitMs` passed without room. */
  | { kind: 'deferred'; description: string }
  /** Not sent: no bot of the pool may make this call in that chat (membership, rights, token). */
  | { kind: 'no_bot'; description: string };

export interface TelegramSenderOptions {
  pool: BotPool;
  budgets: BudgetLimiter;
  logger: Logger;
  metrics: BridgeMetrics;
  limits: {
    groupPerWindow: number;
    groupWindowMs: number;
    chatPerSecond: number;
    globalPerSecond: number;
    safetyMs: number;
  };
}

const RETRYING_NOTICE_AFTER_MS = 1500;
const HEARTBEAT_MS = 5000;
/** 429s in a row for one call before it is handed back to its caller. */
const MAX_RATE_LIMITED = 8;
/** Transient failures (5xx, network) retried here before the caller hears of them. */
const TRANSIENT_RETRY_MS = [500, 2000] as const;
/** How long the round-robin remembers a conversation it served. */
const SERVED_MEMORY_MS = 10 * 60_000;
/**
 * Calls one chat may take back to back. Telegram asks for about one message a second per chat
 * and allows short bursts over it (Bot FAQ), so the chat budget is `chatPerSecond × CHAT_BURST`
 * per `CHAT_BURST` seconds: the same average, a burst of three. A new conversation's topic, its
 * header and a first text that came just after the header was read go out at once instead of a
 * second apart — the first message no longer waits out windows its own topic opened. In a group
 * the ~20 a minute budget still bounds everything (FACTS.md).
 */
export const CHAT_BURST = 3;

interface Waiting {
  request: SendRequest<unknown>;
  seq: number;
  enqueuedAt: number;
  rateLimited: number;
  told: boolean;
  resolve: (result: SendResult<unknown>) => void;
  reject: (error: unknown) => void;
  cleanup: () => void;
}

/** The order in which waiting calls get room: priority, then who waits longest, then arrival. */
export function compareWaiting(
  a: { priority: SendPriority; since: number; seq: number },
  b: { priority: SendPriority; since: number; seq: number },
): number {
  return (
    PRIORITY_RANK[a.priority] - PRIORITY_RANK[b.priority] || a.since - b.since || a.seq - b.seq
  );
}

export class TelegramSender {
  readonly pool: BotPool;
  readonly #waiting = new Set<Waiting>();
  readonly #served = new Map<string, number>();
  #seq = 0;
  #pumping = false;
  #again = false;
  #timer: NodeJS.Timeout | undefined;
  readonly #heartbeat: NodeJS.Timeout;
  #closed = false;

  constructor(private readonly options: TelegramSenderOptions) {
    this.pool = options.pool;
    this.#heartbeat = setInterval(() => this.#beat(), HEARTBEAT_MS);
    this.#heartbeat.unref();
  }

  /**
   * Makes a call that shows up in a chat, under the budgets, with some bot of the pool allowed
   * to make it. Resolves with the result or the failure (never throws for Telegram's answers);
   * rejects only when `signal` aborts or the sender is closed.
   */
  send<T>(request: SendRequest<T>): Promise<SendResult<T>> {
    if (this.#closed) return Promise.reject(new Error('the Telegram sender is closed'));
    request.signal?.throwIfAborted();
    return new Promise<SendResult<T>>((resolve, reject) => {
      const entry: Waiting = {
        request: request,
        seq: this.#seq++,
        enqueuedAt: Date.now(),
        rateLimited: 0,
        told: false,
        resolve: resolve as (result: SendResult<unknown>) => void,
        reject,
        cleanup: () => undefined,
      };
      const onAbort = () => {
        if (!this.#waiting.delete(entry)) return;
        this.options.metrics.waitingForBudget.add(-1);
        const reason: unknown = request.signal?.reason;
        reject(
          reason instanceof Error ? reason : new Error('the wait was aborted', { cause: reason }),
        );
      };
      request.signal?.addEventListener('abort', onAbort, { once: true });
      entry.cleanup = () => request.signal?.removeEventListener('abort', onAbort);
      this.#enqueue(entry);
    });
  }

  /**
   * A call that shows nothing in a chat (answerCallbackQuery, getters, setWebhook): no budget,
   * made by the given bot (the one that received the update it answers).
   */
  direct<T>(botId: string | undefined, call: (api: Api) => Promise<T>): Promise<T> {
    const bot = (botId !== undefined ? this.pool.bot(botId) : undefined) ?? this.pool.main;
    return call(bot.api);
  }

  /** Calls waiting for room, by priority, and the oldest wait (ms) — for /stats and metrics. */
  queue(): { waiting: number; byPriority: Record<SendPriority, number>; oldestWaitMs: number } {
    const now = Date.now();
    const byPriority: Record<SendPriority, number> = { normal: 0, cosmetic: 0 };
    let oldest = now;
    for (const entry of this.#waiting) {
      byPriority[entry.request.priority] += 1;
      oldest = Math.min(oldest, entry.enqueuedAt);
    }
    return { waiting: this.#waiting.size, byPriority, oldestWaitMs: now - oldest };
  }

  /** Rejects every waiting call; later sends are refused. */
  close(): void {
    this.#closed = true;
    clearInterval(this.#heartbeat);
    clearTimeout(this.#timer);
    for (const entry of [...this.#waiting]) {
      this.#waiting.delete(entry);
      entry.cleanup();
      entry.reject(new Error('the Telegram sender is closed'));
    }
  }

  #enqueue(entry: Waiting): void {
    this.#waiting.add(entry);
    this.options.metrics.waitingForBudget.add(1);
    void this.#pump();
  }

  #take(entry: Waiting): boolean {
    if (!this.#waiting.delete(entry)) return false;
    this.options.metrics.waitingForBudget.add(-1);
    this.options.metrics.sendWait.record((Date.now() - entry.enqueuedAt) / 1000, {
      priority: entry.request.priority,
    });
    return true;
  }

  #effectiveSince(request: SendRequest<unknown>): number {
    const served = request.conversationId ? this.#served.get(request.conversationId) : undefined;
    return served !== undefined ? Math.max(request.since, served) : request.since;
  }

  /**
   * Hands room to the waiting calls in order. One pass asks Redis once per call until a chat's
   * bots are all full; calls behind it for the same bots are skipped for that pass.
   */
  async #pump(): Promise<void> {
    if (this.#pumping) {
      this.#again = true;
      return;
    }
    this.#pumping = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    let nextMs = Number.POSITIVE_INFINITY;
    try {
      do {
        this.#again = false;
        nextMs = Number.POSITIVE_INFINITY;
        const now = Date.now();
        const order = [...this.#waiting]
          .map((entry) => ({
            entry,
            priority: entry.request.priority,
            since: this.#effectiveSince(entry.request),
            seq: entry.seq,
          }))
          .sort(compareWaiting);
        /** `<chatKey>|<botId>` found full in this pass. */
        const full = new Set<string>();
        for (const { entry } of order) {
          const { request } = entry;
          if (!this.#waiting.has(entry)) continue;
          const deadline =
            request.maxWaitMs !== undefined ? entry.enqueuedAt + request.maxWaitMs : undefined;
          const candidates = this.pool.eligible(
            request.chatId,
            request.needs ?? BotRight.post,
            request.bot,
          );
          if (candidates.length === 0) {
            if (this.#take(entry)) {
              entry.cleanup();
              entry.resolve({
                ok: false,
                failure: {
                  kind: 'no_bot',
                  description: request.bot
                    ? `bot ${request.bot} may not make ${request.method} in ${request.chatId} now`
                    : `no bot of the pool may ${request.method} (${request.needs ?? 'post'}) in ${request.chatId} now`,
                },
              });
            }
            continue;
          }
          const chatKey = request.chatKey ?? String(request.chatId);
          const open = candidates.filter((bot) => !full.has(`${chatKey}|${bot.id}`));
          if (open.length > 0) {
            const acquired = await this.options.budgets.tryAcquireAny(
              open.map((bot) => this.budgets(bot.id, request.chatId, chatKey)),
            );
            const bot = acquired.index >= 0 ? open[acquired.index] : undefined;
            if (bot) {
              if (this.#take(entry)) void this.#dispatch(entry, bot);
              continue;
            }
            for (const b of open) full.add(`${chatKey}|${b.id}`);
            nextMs = Math.min(nextMs, Math.max(1, acquired.waitMs));
          }
          if (deadline !== undefined && Date.now() >= deadline) {
            if (this.#take(entry)) {
              entry.cleanup();
              entry.resolve({
                ok: false,
                failure: { kind: 'deferred', description: 'no room within its wait' },
              });
            }
            continue;
          }
          if (deadline !== undefined) nextMs = Math.min(nextMs, Math.max(1, deadline - now));
          this.#noticeLongWait(entry);
        }
      } while (this.#again);
    } catch (error) {
      // Redis away: try again shortly; the waiting calls stay queued (their signals bound them).
      this.options.logger.warn({ err: error }, 'Telegram budgets unavailable; retrying');
      nextMs = 1000;
    } finally {
      this.#pumping = false;
    }
    if (this.#waiting.size > 0 && Number.isFinite(nextMs) && !this.#closed) {
      // A little jitter: replicas woken by the same window do not ask Redis in lockstep.
      const delay = nextMs + Math.floor(Math.random() * Math.min(50, Math.ceil(nextMs / 10) + 1));
      this.#timer = setTimeout(() => void this.#pump(), delay);
    }
  }

  #noticeLongWait(entry: Waiting): void {
    if (entry.told || Date.now() - entry.enqueuedAt < RETRYING_NOTICE_AFTER_MS) return;
    entry.told = true;
    entry.request.onLongWait?.();
  }

  #beat(): void {
    for (const entry of this.#waiting) {
      entry.request.working?.();
      this.#noticeLongWait(entry);
    }
    const now = Date.now();
    for (const [id, at] of this.#served) if (now - at > SERVED_MEMORY_MS) this.#served.delete(id);
  }

  /** The budgets one call of `bot` into a chat uses: the bot's, the chat's and the group's. */
  budgets(botId: string, chatId: number, chatKey = String(chatId)): Budget[] {
    const { limits } = this.options;
    const list: Budget[] = [
      { key: `tg:bot:${botId}`, limit: limits.globalPerSecond, windowMs: 1000 + limits.safetyMs },
      {
        key: `tg:chat:${botId}:${chatKey}`,
        limit: limits.chatPerSecond * CHAT_BURST,
        windowMs: CHAT_BURST * 1000 + limits.safetyMs,
      },
    ];
    if (chatId < 0)
      list.push({
        key: `tg:group:${botId}:${chatId}`,
        limit: limits.groupPerWindow,
        windowMs: limits.groupWindowMs + limits.safetyMs,
      });
    return list;
  }

  async #dispatch(entry: Waiting, bot: PoolBot): Promise<void> {
    const { request } = entry;
    const { metrics, logger, pool } = this.options;
    metrics.botSends.add(1, { bot: bot.id, priority: request.priority });
    let result: SendResult<unknown>;
    try {
      result = { ok: true, value: await this.#callWithRetries(request, bot), bot };
    } catch (error) {
      const failure = classifyTelegramError(error);
      const chatKey = request.chatKey ?? String(request.chatId);
      const code = error instanceof GrammyError ? String(error.error_code) : 'network';
      if (failure.kind === 'rate_limited') {
        // Only this bot waits; the call goes back in line (keeping its place) for any bot.
        logger.warn(
          {
            botId: bot.id,
            method: request.method,
            chatId: request.chatId < 0 ? request.chatId : undefined,
            retryAfterMs: failure.retryAfterMs,
          },
          'Telegram answered 429; that bot waits it out',
        );
        await this.options.budgets
          .penalize(this.budgets(bot.id, request.chatId, chatKey).slice(1), failure.retryAfterMs)
          .catch((err: unknown) => logger.warn({ err }, 'could not record a 429 pause'));
        // Told after the pause is in Redis: the status read on this news shows it.
        pool.noteError(bot, code);
        entry.rateLimited += 1;
        if (entry.rateLimited < MAX_RATE_LIMITED && this.#requeue(entry)) return;
        result = { ok: false, failure, error, bot };
      } else {
        pool.noteError(bot, code);
        if (error instanceof GrammyError && error.error_code === 401) {
          // A revoked token: out of the pool now, not at the next check; others take the call.
          pool.invalidate(bot, `Telegram refused its token (${error.description})`);
          if (this.#requeue(entry)) return;
        }
        const learnt = request.chatId < 0 ? accessLearnt(error, request.needs) : undefined;
        if (learnt) {
          pool.learn(bot, request.chatId, learnt);
          // Another bot may have what this one lacks.
          if (this.#requeue(entry)) return;
        }
        result = { ok: false, failure, error, bot };
      }
    }
    if (result.ok && request.conversationId && request.endsTurn !== false)
      this.#served.set(request.conversationId, Date.now());
    entry.cleanup();
    entry.resolve(result);
  }

  /** Puts a call back in line; false when its wait was aborted meanwhile. */
  #requeue(entry: Waiting): boolean {
    if (this.#closed || entry.request.signal?.aborted) return false;
    this.#enqueue(entry);
    return true;
  }

  /** 5xx and network errors are retried a little here (same bot, it already has the slot). */
  async #callWithRetries(request: SendRequest<unknown>, bot: PoolBot): Promise<unknown> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await request.call(bot.api);
      } catch (error) {
        const failure = classifyTelegramError(error);
        const delay = TRANSIENT_RETRY_MS[attempt];
        const serverSide = !(error instanceof GrammyError) || error.error_code >= 500;
        if (failure.kind !== 'transient' || !serverSide || delay === undefined) throw error;
        await new Promise((resolve) => setTimeout(resolve, delay));
        request.working?.();
      }
    }
  }
}

/** What a refusal says about the bot's place in a group, if anything. */
function accessLearnt(error: unknown, needs: BotRight | undefined): GroupAccess | undefined {
  if (!(error instanceof GrammyError)) return undefined;
  const description = error.description;
  if (
    error.error_code === 403 ||
    /bot is not a member|bot was kicked|have no rights to send|CHAT_WRITE_FORBIDDEN/i.test(
      description,
    )
  )
    return { status: 'out', reason: description };
  if (/not enough rights|CHAT_ADMIN_REQUIRED|RIGHT_FORBIDDEN/i.test(description)) {
    // Only the right this call needed is taken away.
    const all = { status: 'ok', topics: true, pin: true, delete: true } as const;
    switch (needs ?? BotRight.post) {
      case BotRight.topics:
        return { ...all, topics: false };
      case BotRight.pin:
        return { ...all, pin: false };
      case BotRight.delete:
        return { ...all, delete: false };
      case BotRight.post:
        return { status: 'out', reason: description };
      default: {
        const never: never = needs as never;
        throw new Error(`unknown right ${String(never)}`);
      }
    }
  }
  return undefined;
}
