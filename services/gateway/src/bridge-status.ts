import { topics, type Bus, type SignalSubscription } from '@topicdesk/bus';
import {
  BotRole,
  BotState,
  timestampMs,
  type BotStatus,
  type BridgeStatus,
  type Timestamp,
} from '@topicdesk/contracts';
import type { Logger } from '@topicdesk/telemetry';
import { z } from 'zod';
import { instant, int, shape } from './answer-components';

/**
 * The `telegram` part of the overview: the bridges' bots and their send queues, as
 * /openapi.json shows it. `available` is false when no bridge told its status in time (none
 * running, or NATS away); `replicas` the bridges heard from; `sending` the calls waiting for
 * room in the budgets over every replica (null when unavailable). A bot is `paused` while a 429
 * holds it (until `pausedUntil`) and `failing` when left out (`problem` says why); `sent` counts
 * the calls of the current group window (every replica's) against `budget`.
 */
export const overviewTelegramAnswer = shape(
  'OverviewTelegram',
  z.strictObject({
    available: z.boolean(),
    at: instant.nullable(),
    replicas: int.min(0),
    sending: z
      .strictObject({ normal: int.min(0), cosmetic: int.min(0), oldestWaitSeconds: z.number() })
      .nullable(),
    bots: z.array(
      shape(
        'OverviewBot',
        z.strictObject({
          id: z.string(),
          username: z.string().nullable(),
          role: z.enum(['main', 'sender']),
          state: z.enum(['ok', 'paused', 'failing']),
          pausedUntil: instant.nullable(),
          problem: z.string().nullable(),
          sent: int.min(0),
          budget: int.min(0),
          windowSeconds: z.number(),
          lastError: z.strictObject({ code: z.string(), at: instant }).nullable(),
          chats: z.array(
            z.strictObject({
              chatId: int,
              sent: int.min(0),
              budget: int.min(0),
              pausedUntil: instant.nullable(),
            }),
          ),
        }),
      ),
    ),
  }),
);

export type TelegramView = z.output<typeof overviewTelegramAnswer>;
export type BotView = TelegramView['bots'][number];

export interface BridgeStatusBoardOptions {
  /** How long a read waits for a first status when none is fresh (1 s). */
  waitMs?: number;
  logger?: Logger;
}

/** A replica is forgotten after this many of its intervals without a status. */
const MISSED_INTERVALS = 3;
const MIN_TTL_MS = 3000;
/** How long reads stop waiting for bridges after none answered. */
const QUIET_MS = 10_000;

interface Heard {
  status: BridgeStatus;
  receivedAt: number;
  /** The status without its time, to tell a change from a repeat. */
  key: string;
}

/**
 * The Telegram bridges' statuses as this gateway replica hears them (`bridge.status`, signalled
 * by every bridge replica every few seconds and on change, one per tenant it serves). Each
 * tenant's replicas are kept apart: a tenant's view shows its own bots and queues only. A
 * replica's latest is kept until it misses a few intervals; a read with none fresh asks the
 * bridges for that tenant and waits a moment (not again for 10 s when none answered: every
 * bridge signals on start anyway). Budget use and pauses are read by the bridges from Redis (the
 * same for every replica); queues are per replica, so they are summed.
 */
export class BridgeStatusBoard {
  /** Per tenant, each bridge replica's latest status. */
  readonly #tenants = new Map<string, Map<string, Heard>>();
  readonly #listeners = new Set<(tenantId: string) => void>();
  readonly #waiters = new Set<(tenantId: string) => void>();
  #subscription: SignalSubscription | undefined;
  #sweep: NodeJS.Timeout | undefined;
  readonly #waitMs: number;
  readonly #logger: Logger | undefined;
  /** Per tenant: after an ask nobody answered, reads answer at once for a while. */
  readonly #quietUntil = new Map<string, number>();

  constructor(
    private readonly bus: Bus,
    options: BridgeStatusBoardOptions = {},
  ) {
    this.#waitMs = options.waitMs ?? 1000;
    this.#logger = options.logger;
  }

  /** The tenant's merged view; never throws nor waits on NATS longer than about `waitMs` twice. */
  async view(tenantId: string): Promise<TelegramView> {
    try {
      // The subscription's confirmation is a round trip to NATS, which may be away: bounded.
      await within(this.#listen(), this.#waitMs);
      return await this.#read(tenantId);
    } catch (error) {
      this.#logger?.warn(
        { err: error, tenantId },
        'could not hear the telegram bridges; the overview shows their bots as unavailable',
      );
      return mergeStatuses([]);
    }
  }

  async #read(tenantId: string): Promise<TelegramView> {
    this.#expire();
    if (
      this.#replicas(tenantId).size === 0 &&
      Date.now() >= (this.#quietUntil.get(tenantId) ?? 0)
    ) {
      await this.#ask(tenantId);
      if (this.#replicas(tenantId).size === 0)
        this.#quietUntil.set(tenantId, Date.now() + QUIET_MS);
    }
    return mergeStatuses([...this.#replicas(tenantId).values()].map((heard) => heard.status));
  }

  #replicas(tenantId: string): ReadonlyMap<string, Heard> {
    return this.#tenants.get(tenantId) ?? new Map<string, Heard>();
  }

  /** Called with the tenant whose replica's status changes, appears or is forgotten. */
  onChange(listener: (tenantId: string) => void): () => void {
    this.#listeners.add(listener);
    this.#listen().catch((error: unknown) =>
      this.#logger?.warn({ err: error }, 'could not listen to the telegram bridges’ status'),
    );
    // Forgetting a replica that stopped is a change too: looked for while someone listens.
    this.#sweep ??= setInterval(() => {
      for (const tenantId of this.#expire()) this.#changed(tenantId);
    }, 1000);
    this.#sweep.unref();
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size > 0) return;
      clearInterval(this.#sweep);
      this.#sweep = undefined;
    };
  }

  close(): void {
    clearInterval(this.#sweep);
    this.#subscription?.stop();
    this.#subscription = undefined;
  }

  async #listen(): Promise<void> {
    this.#subscription ??= this.bus.onSignal(topics.bridgeStatus, (status) => this.#heard(status));
    await this.#subscription.ready;
  }

  #heard(status: BridgeStatus): void {
    const tenantId = status.tenantId;
    const key = JSON.stringify({ ...status, at: undefined }, (_, value: unknown) =>
      typeof value === 'bigint' ? value.toString() : value,
    );
    let replicas = this.#tenants.get(tenantId);
    if (!replicas) this.#tenants.set(tenantId, (replicas = new Map<string, Heard>()));
    const before = replicas.get(status.replicaId);
    replicas.set(status.replicaId, { status, receivedAt: Date.now(), key });
    for (const wake of this.#waiters) wake(tenantId);
    if (before?.key !== key) this.#changed(tenantId);
  }

  #changed(tenantId: string): void {
    for (const listener of this.#listeners) listener(tenantId);
  }

  /** Forgets replicas that stopped signalling; the tenants that lost one. */
  #expire(): string[] {
    const now = Date.now();
    const changed: string[] = [];
    for (const [tenantId, replicas] of this.#tenants) {
      let forgot = false;
      for (const [id, heard] of replicas) {
        const ttl = Math.max(MIN_TTL_MS, MISSED_INTERVALS * heard.status.intervalMs);
        if (now - heard.receivedAt > ttl) forgot = replicas.delete(id) || forgot;
      }
      if (replicas.size === 0) this.#tenants.delete(tenantId);
      if (forgot) changed.push(tenantId);
    }
    return changed;
  }

  /** Asks every bridge for the tenant's status and waits for the first answer, or `waitMs`. */
  async #ask(tenantId: string): Promise<void> {
    let wake = (_tenantId: string) => {};
    const heard = new Promise<void>((resolve) => {
      wake = (from) => {
        if (from === tenantId) resolve();
      };
    });
    this.#waiters.add(wake);
    const timer = setTimeout(() => wake(tenantId), this.#waitMs);
    try {
      this.bus.signal(topics.bridgeStatusRequest, { tenantId });
      await heard;
      // The other replicas answer within a moment of the first.
      if (this.#replicas(tenantId).size > 0)
        await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      clearTimeout(timer);
      this.#waiters.delete(wake);
    }
  }
}

/** Waits for `promise`, or `ms` at most (then goes on without it). */
async function within(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([promise, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

const iso = (ms: number) => new Date(ms).toISOString();
const msOf = (at: Timestamp | undefined) => (at === undefined ? 0 : timestampMs(at));

/**
 * One view of every replica's status. A bot's budget use comes from the newest status (Redis's
 * numbers, the same for every replica); a pause is the latest that is still running; a bot left
 * out by any replica is failing; the queues add up.
 */
export function mergeStatuses(statuses: readonly BridgeStatus[], now = Date.now()): TelegramView {
  if (statuses.length === 0)
    return { available: false, at: null, replicas: 0, sending: null, bots: [] };
  const newestFirst = [...statuses].sort((a, b) => msOf(b.at) - msOf(a.at));
  const byBot = new Map<string, BotStatus[]>();
  for (const status of newestFirst)
    for (const bot of status.bots) byBot.set(bot.botId, [...(byBot.get(bot.botId) ?? []), bot]);
  const bots = [...byBot.values()].map((seen) => botView(seen, now));
  bots.sort((a, b) => (a.role === b.role ? 0 : a.role === 'main' ? -1 : 1));
  return {
    available: true,
    at: iso(msOf(newestFirst[0]?.at)),
    replicas: statuses.length,
    sending: {
      normal: sum(statuses.map((s) => s.queue?.normal ?? 0)),
      cosmetic: sum(statuses.map((s) => s.queue?.cosmetic ?? 0)),
      oldestWaitSeconds: Math.floor(
        Math.max(0, ...statuses.map((s) => s.queue?.oldestWaitMs ?? 0)) / 1000,
      ),
    },
    bots,
  };
}

const sum = (values: readonly number[]) => values.reduce((total, value) => total + value, 0);

/** One bot from what each replica said of it, newest first. */
function botView(seen: readonly BotStatus[], now: number): BotView {
  const newest = seen[0] as BotStatus;
  const pausedUntil = Math.max(0, ...seen.map((bot) => msOf(bot.pausedUntil)));
  const problems = [...new Set(seen.map((bot) => bot.problem).filter((p) => p !== ''))];
  const lastError = seen
    .filter((bot) => bot.lastErrorCode !== '')
    .sort((a, b) => msOf(b.lastErrorAt) - msOf(a.lastErrorAt))[0];
  const failing = seen.some((bot) => bot.state === BotState.FAILING);
  const paused = pausedUntil > now;
  return {
    id: newest.botId,
    username: seen.find((bot) => bot.username !== '')?.username ?? null,
    role: newest.role === BotRole.MAIN ? 'main' : 'sender',
    state: failing ? 'failing' : paused ? 'paused' : 'ok',
    pausedUntil: paused ? iso(pausedUntil) : null,
    problem: problems.length > 0 ? problems.join('; ') : null,
    sent: newest.sent,
    budget: newest.budget,
    windowSeconds: newest.windowSeconds,
    lastError: lastError
      ? { code: lastError.lastErrorCode, at: iso(msOf(lastError.lastErrorAt)) }
      : null,
    chats: newest.chats.map((chat) => {
      const until = msOf(chat.pausedUntil);
      return {
        chatId: Number(chat.chatId),
        sent: chat.sent,
        budget: chat.budget,
        pausedUntil: until > now ? iso(until) : null,
      };
    }),
  };
}
