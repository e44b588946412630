import type { ServerResponse } from 'node:http';
import {
  activityChannel,
  may,
  Permission,
  type ConsoleAccess,
  type ConsoleReads,
  type Overview,
  type Principal,
} from '@topicdesk/core';
import type { Fanout } from '@topicdesk/fanout';
import type { Logger } from '@topicdesk/telemetry';
import type { FastifyPluginAsync } from 'fastify';
import { adminRoute, principalOf, sessionSecret } from './admin-access';
import type { BridgeStatusBoard } from './bridge-status';
import { overviewAnswer } from './answers';

export interface OverviewRoutesOptions {
  reads: ConsoleReads;
  /** Where every process tells the tenant's activity (the outbox relay: `activityChannel`). */
  fanout: Fanout;
  access: ConsoleAccess;
  logger: Logger;
  /** Least time between two snapshots on the stream (1 s). */
  minIntervalMs?: number;
  /** A comment line this often keeps proxies from closing the stream; the session is checked too. */
  heartbeatMs?: number;
  /** Counts streams opening (+1) and ending (-1) (topicdesk_console_overview_streams). */
  onStreams?: (delta: number) => void;
  /** The bridges' bots and send queues (`telegram`); a change of theirs is a change too. */
  telegram?: Pick<BridgeStatusBoard, 'view' | 'onChange'>;
}

/** The overview with the bridges' part, read side by side. */
async function readOverview(
  options: Pick<OverviewRoutesOptions, 'reads' | 'telegram'>,
  tenantId: string,
) {
  const [overview, telegram] = await Promise.all([
    options.reads.overview(tenantId),
    options.telegram?.view(tenantId),
  ]);
  return { ...overviewView(overview), ...(telegram ? { telegram } : {}) };
}

/** The overview as the API shows it (the JSON route and the stream's `overview` events). */
export function overviewView(o: Overview) {
  return {
    at: o.at.toISOString(),
    open: o.open,
    waiting: o.waiting,
    assigned: o.assigned,
    oldestWaitSeconds: o.oldestWaitSeconds,
    oldestWaitingSince: o.oldestWaitingSince?.toISOString() ?? null,
    agentsOnline: o.agentsOnline.map((a) => ({
      telegramUserId: a.telegramUserId,
      displayName: a.displayName,
      load: a.load,
      capacity: a.capacity,
    })),
    slaBreachesToday: o.slaBreachesSince,
    telegramQueue: {
      pendingMessages: o.pendingMessages,
      oldestPendingSeconds:
        o.oldestPendingMessageAt === null
          ? 0
          : Math.max(0, Math.floor((o.at.getTime() - o.oldestPendingMessageAt.getTime()) / 1000)),
      pendingPosts: o.pendingPosts,
    },
  };
}

/** One browser's event stream. */
class OverviewStream {
  #open = true;
  readonly #timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly raw: ServerResponse,
    private readonly onEnd: (stream: OverviewStream) => void,
  ) {
    raw.once('close', () => this.end());
  }

  get open(): boolean {
    return this.#open;
  }

  /** A snapshot that cannot be written at once (a slow reader) is skipped: a newer one follows. */
  event(name: string, data: unknown): void {
    if (!this.#open || this.raw.writableNeedDrain) return;
    this.raw.write(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  comment(text: string): void {
    if (this.#open) this.raw.write(`: ${text}\n\n`);
  }

  every(ms: number, fn: () => void): void {
    const timer = setInterval(fn, ms);
    timer.unref();
    this.#timers.push(timer);
  }

  at(when: Date, fn: () => void): void {
    // setTimeout's longest delay is 2^31 - 1 ms (24.8 days); sessions end well before.
    const timer = setTimeout(fn, Math.min(Math.max(0, when.getTime() - Date.now()), 2 ** 31 - 1));
    timer.unref();
    this.#timers.push(timer);
  }

  /** Ends the stream, telling the browser why first (`end` event) where there is a reason. */
  end(reason?: { code: string; message: string }): void {
    if (!this.#open) return;
    this.#open = false;
    for (const timer of this.#timers) clearTimeout(timer);
    if (reason && !this.raw.destroyed)
      this.raw.write(`event: end\ndata: ${JSON.stringify(reason)}\n\n`);
    this.raw.end();
    this.onEnd(this);
  }
}

/**
 * The snapshots of one tenant's streams on this replica: one read per change for all of them,
 * at most one per `minIntervalMs`, whatever the number of changes (coalesced) or browsers. It
 * listens on the tenant's activity channel while it has a stream.
 */
class OverviewBroadcast {
  readonly #streams = new Set<OverviewStream>();
  #unsubscribe: Promise<(() => Promise<void>) | undefined> | undefined;
  #stopTelegram: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #reading = false;
  #again = false;
  #sentAt = 0;

  constructor(
    private readonly tenantId: string,
    private readonly options: Required<Pick<OverviewRoutesOptions, 'minIntervalMs'>> &
      Pick<OverviewRoutesOptions, 'reads' | 'fanout' | 'logger' | 'telegram'>,
  ) {}

  async add(stream: OverviewStream): Promise<void> {
    if (!stream.open) return;
    this.#streams.add(stream);
    this.#stopTelegram ??= this.options.telegram?.onChange((tenantId) => {
      if (tenantId === this.tenantId) this.changed();
    });
    this.#unsubscribe ??= this.options.fanout
      .subscribe(activityChannel(this.tenantId), () => this.changed())
      .catch((error: unknown) => {
        this.options.logger.warn(
          { err: error, tenantId: this.tenantId },
          'the console overview cannot hear activity; it shows changes at each heartbeat only',
        );
        return undefined;
      });
    await this.#unsubscribe;
  }

  /** No stream listens (the routes forget it). */
  get idle(): boolean {
    return this.#streams.size === 0;
  }

  remove(stream: OverviewStream): void {
    this.#streams.delete(stream);
    if (this.#streams.size > 0 || !this.#unsubscribe) return;
    const unsubscribe = this.#unsubscribe;
    this.#unsubscribe = undefined;
    this.#stopTelegram?.();
    this.#stopTelegram = undefined;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    void unsubscribe.then((stop) => stop?.());
  }

  /** Something changed: a snapshot for every stream, at most one per interval. */
  changed(): void {
    if (this.#streams.size === 0) return;
    if (this.#reading) {
      this.#again = true;
      return;
    }
    if (this.#timer) return;
    const wait = Math.max(0, this.#sentAt + this.options.minIntervalMs - Date.now());
    this.#timer = setTimeout(() => void this.#broadcast(), wait);
    this.#timer.unref();
  }

  async #broadcast(): Promise<void> {
    this.#timer = undefined;
    this.#reading = true;
    this.#sentAt = Date.now();
    try {
      const view = await readOverview(this.options, this.tenantId);
      for (const stream of this.#streams) stream.event('overview', view);
    } catch (error) {
      this.options.logger.warn({ err: error }, 'could not read the console overview');
    } finally {
      this.#reading = false;
      if (this.#again) {
        this.#again = false;
        this.changed();
      }
    }
  }

  endAll(reason: { code: string; message: string }): void {
    for (const stream of this.#streams) stream.end(reason);
  }
}

/**
 * The console's overview (reports.read): a snapshot, and a Server-Sent Events stream of them.
 * The stream's `overview` event comes at once and again after every change of a conversation
 * of the tenant, told on the activity channel by whichever process made it (so a change made
 * through another replica shows here), at most once a second. A comment line every 15 s keeps
 * the connection open through proxies and re-checks the session: an ended session (signed out,
 * revoked, expired, its agent deactivated or demoted below reports.read) ends the stream with
 * an `end` event. Cookie auth works for EventSource: a GET needs no CSRF token.
 */
export const overviewRoutes: FastifyPluginAsync<OverviewRoutesOptions> = async (app, options) => {
  const { access } = options;
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  /** One broadcast per tenant with open streams on this replica. */
  const broadcasts = new Map<string, OverviewBroadcast>();
  const broadcastOf = (tenantId: string) => {
    let broadcast = broadcasts.get(tenantId);
    if (!broadcast)
      broadcasts.set(
        tenantId,
        (broadcast = new OverviewBroadcast(tenantId, {
          ...options,
          minIntervalMs: options.minIntervalMs ?? 1_000,
        })),
      );
    return broadcast;
  };
  app.addHook('preClose', async () => {
    for (const broadcast of broadcasts.values())
      broadcast.endAll({ code: 'UNAVAILABLE', message: 'the gateway is shutting down; reconnect' });
  });

  app.get(
    '/v1/console/overview',
    adminRoute(
      Permission.reportsRead,
      'Open, waiting and assigned conversations, oldest wait, agents online, SLA breaches today, the Telegram queue',
      { answers: { 200: overviewAnswer } },
    ),
    async (request) => readOverview(options, principalOf(request).tenantId),
  );

  /** Whether the stream's principal may still read it; a session is asked again. */
  const stillAllowed = async (principal: Principal, secret: string | undefined) => {
    if (principal.kind !== 'session') return true;
    const session =
      secret === undefined ? undefined : await access.authenticate(principal.tenantId, secret);
    return session !== undefined && may(session.role, Permission.reportsRead);
  };

  app.get(
    '/v1/console/overview/stream',
    adminRoute(
      Permission.reportsRead,
      'The overview as Server-Sent Events: `overview` at once and after each change (≤ 1/s), a heartbeat comment every 15 s, `end` when the session ends',
      {
        responses: {
          200: { description: '`overview` events (Overview)', type: 'text/event-stream' },
        },
      },
    ),
    async (request, reply) => {
      const principal = principalOf(request);
      const secret = sessionSecret(request);
      reply.hijack();
      reply.raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        // nginx and its kin would buffer the stream otherwise.
        'x-accel-buffering': 'no',
      });
      reply.raw.write('retry: 5000\n\n');
      options.onStreams?.(1);
      const broadcast = broadcastOf(principal.tenantId);
      const stream = new OverviewStream(reply.raw, (ended) => {
        broadcast.remove(ended);
        if (broadcast.idle) broadcasts.delete(principal.tenantId);
        options.onStreams?.(-1);
      });
      const ended = { code: 'SESSION_INVALID', message: 'the console session ended' };
      stream.every(heartbeatMs, () => {
        stream.comment('heartbeat');
        stillAllowed(principal, secret)
          .then((allowed) => {
            if (!allowed) stream.end(ended);
          })
          .catch((error: unknown) => {
            request.log.warn({ err: error }, 'could not check the overview stream session');
          });
      });
      if (principal.kind === 'session')
        stream.at(principal.session.expiresAt, () => stream.end(ended));
      try {
        // Listening first: a change made while the first snapshot is read is heard.
        await broadcast.add(stream);
        stream.event('overview', await readOverview(options, principal.tenantId));
      } catch (error) {
        request.log.warn({ err: error }, 'could not start an overview stream');
        stream.end({ code: 'UNAVAILABLE', message: 'try again' });
      }
    },
  );
};
