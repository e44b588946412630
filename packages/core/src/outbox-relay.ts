import { topics, type Bus, type DurableTopic } from '@topicdesk/bus';
import {
  OutboxDestination,
  OutboxRepository,
  type DB,
  type Kysely,
  type OutboxInput,
  type OutboxRow,
} from '@topicdesk/data';
import type { Fanout } from '@topicdesk/fanout';
import type { ConversationEvent } from '@topicdesk/protocol';
import { meter, type Logger } from '@topicdesk/telemetry';
import { ActivitySignal } from './console/activity';

/** Published rows deleted at once without waiting for the delay. */
const FLUSH_BATCH = 500;

export type BusTopicName = Extract<keyof typeof topics, string>;

/** An outbox row announcing a bus message (published to JetStream with the row id as dedupe id). */
export function busOutbox(
  tenantId: string,
  topic: BusTopicName,
  data: Record<string, unknown>,
): OutboxInput {
  return { tenantId, destination: OutboxDestination.bus, topic, payload: data };
}

/** An outbox row announcing a visitor-facing event on a conversation's fanout channel. */
export function fanoutOutbox(
  tenantId: string,
  conversationId: string,
  event: ConversationEvent,
): OutboxInput {
  return { tenantId, destination: OutboxDestination.fanout, topic: conversationId, payload: event };
}

export interface OutboxRelayOptions {
  db: Kysely<DB>;
  bus: Bus;
  fanout: Fanout;
  logger: Logger;
  /** Rows older than this are taken to be orphaned by their writer and published by the sweeper. */
  staleAfterMs?: number;
  /**
   * How often the sweeper looks while there is reason to (default 1 s): after the start, after
   * a publish here failed (until a sweep has had time to find those rows), after a sweep found
   * rows or failed.
   */
  sweepIntervalMs?: number;
  /**
   * How often it looks otherwise (default 10 s): then only a writer that died between its
   * commit and its publish leaves rows, and they are published at most staleAfterMs + this
   * after their commit (12 s; the writer's own process sweeps 1 s after it starts again).
   */
  idleSweepIntervalMs?: number;
  /** How long published rows wait to be deleted together (well under staleAfterMs). */
  flushDelayMs?: number;
  /** How often at most a tenant's activity is told to the console (default 250 ms). */
  activityIntervalMs?: number;
}

/**
 * Publishes outbox rows: right after the writer's commit (fast path), and from a sweeper that
 * picks up rows whose writer died or could not reach NATS/Redis (any replica may sweep: rows are
 * claimed with SKIP LOCKED, bus messages carry the row id as dedupe id, and fanout consumers
 * dedupe by seq).
 */
export class OutboxRelay {
  readonly #db: Kysely<DB>;
  readonly #bus: Bus;
  readonly #fanout: Fanout;
  readonly #logger: Logger;
  readonly #staleAfterMs: number;
  readonly #sweepIntervalMs: number;
  readonly #idleSweepIntervalMs: number;
  readonly #flushDelayMs: number;
  /** Every published row is a change of a conversation: the console's overview hears of it. */
  readonly #activity: ActivitySignal;
  #running = false;
  #timer: NodeJS.Timeout | undefined;
  /** When the timer's sweep runs (performance.now()). */
  #sweepAt = 0;
  #sweeping: Promise<void> | undefined;
  /** When this relay last had reason to sweep soon (performance.now()): see sweepIntervalMs. */
  #troubleAt = Number.NEGATIVE_INFINITY;
  /** Rows the fast path published, waiting for the flusher's delete. */
  readonly #toDelete = new Set<number>();
  /**
   * Rows handed to the fast path and not published yet. Under load they can wait longer than
   * staleAfterMs for their turn; the sweep leaves them alone instead of publishing them a second
   * time (and holding their row locks, which the flusher's delete would wait for).
   */
  readonly #inFlight = new Set<number>();
  #flushTimer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();
  readonly #published = meter().createCounter('topicdesk_outbox_published_total', {
    description: 'Outbox rows published, by destination and path (fast or sweep)',
  });
  readonly #failures = meter().createCounter('topicdesk_outbox_publish_failures_total', {
    description: 'Outbox rows that could not be published on a try',
  });

  constructor(options: OutboxRelayOptions) {
    this.#db = options.db;
    this.#bus = options.bus;
    this.#fanout = options.fanout;
    this.#logger = options.logger;
    this.#staleAfterMs = options.staleAfterMs ?? 2_000;
    this.#sweepIntervalMs = options.sweepIntervalMs ?? 1_000;
    this.#idleSweepIntervalMs = Math.max(
      this.#sweepIntervalMs,
      options.idleSweepIntervalMs ?? 10_000,
    );
    this.#flushDelayMs = options.flushDelayMs ?? 100;
    this.#activity = new ActivitySignal(options.fanout, options.logger, options.activityIntervalMs);
    const repository = new OutboxRepository(this.#db);
    meter()
      .createObservableGauge('topicdesk_outbox_pending', {
        description: 'Outbox rows not yet published',
      })
      .addCallback(async (result) => {
        const stats = await repository
          .stats()
          .catch((err: unknown) => void this.#logger.debug({ err }, 'outbox stats unavailable'));
        if (stats) result.observe(stats.pending);
      });
  }

  /**
   * Fast path: publish rows just committed, in order; failures stay for the sweeper. The rows
   * published are deleted in batches by the flusher (one statement for every row published in
   * the last flushDelayMs), not one commit per publish.
   */
  async publish(rows: readonly OutboxRow[]): Promise<void> {
    for (const row of rows) this.#inFlight.add(row.id);
    try {
      for (const row of rows) {
        const published = await this.#publishOne(row, 'fast');
        this.#inFlight.delete(row.id);
        if (published) this.#toDelete.add(row.id);
        else break; // keep order: later rows of the batch wait for the sweeper too
      }
    } finally {
      for (const row of rows) this.#inFlight.delete(row.id);
    }
    if (this.#toDelete.size >= FLUSH_BATCH) void this.#flush();
    else if (this.#toDelete.size > 0) this.#flushSoon();
  }

  #flushSoon(): void {
    if (this.#flushTimer) return;
    this.#flushTimer = setTimeout(() => void this.#flush(), this.#flushDelayMs);
    this.#flushTimer.unref();
  }

  /**
   * Deletes the rows published so far. One delete at a time; a failed one keeps its ids for
   * the next (a row published but not deleted is only published again, and consumers dedupe:
   * the bus by the row's msg id, the fanout's sockets by seq). Rows a sweep holds (this
   * process's or another's) are skipped, not waited for: that sweep deletes them itself, or
   * they stay to be published again.
   */
  #flush(): Promise<void> {
    if (this.#flushTimer) clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    this.#flushing = this.#flushing.then(async () => {
      const ids = [...this.#toDelete];
      if (ids.length === 0) return;
      try {
        await new OutboxRepository(this.#db).deleteUnclaimed(ids);
        for (const id of ids) this.#toDelete.delete(id);
      } catch (error) {
        this.#logger.warn(
          { err: error, rows: ids.length },
          'outbox rows published but not deleted; deleting them again later',
        );
        if (this.#running) this.#flushSoon();
      }
    });
    return this.#flushing;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    // Rows this process's previous run left behind (it died after a commit) are found soon.
    this.#trouble();
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#activity.stop();
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#sweeping;
    await this.#flush();
  }

  /** A reason to sweep soon: rows may be left behind (see sweepIntervalMs). */
  #trouble(): void {
    this.#troubleAt = performance.now();
    this.#scheduleSweep(this.#sweepIntervalMs);
  }

  /** The next sweep in `ms` at the latest; one at a time (a running one schedules the next). */
  #scheduleSweep(ms: number): void {
    if (!this.#running || this.#sweeping) return;
    const at = performance.now() + ms;
    if (this.#timer && this.#sweepAt <= at) return;
    clearTimeout(this.#timer);
    this.#sweepAt = at;
    this.#timer = setTimeout(() => this.#tick(), ms);
  }

  #tick(): void {
    this.#timer = undefined;
    const began = performance.now();
    this.#sweeping = this.sweep()
      .then((published) => {
        if (published > 0) this.#troubleAt = began;
      })
      .catch((error: unknown) => {
        this.#troubleAt = began;
        this.#logger.warn({ err: error }, 'outbox sweep failed');
      })
      .finally(() => {
        this.#sweeping = undefined;
        // Soon again while rows left behind here may not have been stale for this sweep yet.
        const calm = began - this.#troubleAt > this.#staleAfterMs + this.#sweepIntervalMs;
        this.#scheduleSweep(calm ? this.#idleSweepIntervalMs : this.#sweepIntervalMs);
      });
  }

  /** Publishes every stale row once; returns how many were published (or found published). */
  async sweep(): Promise<number> {
    let published = 0;
    // Nothing stale (the usual case): one statement, not a transaction of three.
    if (!(await new OutboxRepository(this.#db).hasStale(this.#staleBefore()))) return 0;
    for (;;) {
      const count = await this.#db.transaction().execute(async (trx) => {
        const outbox = new OutboxRepository(trx);
        const rows = await outbox.claimStale(this.#staleBefore(), 100);
        const done: number[] = [];
        let late = false;
        for (const row of rows) {
          // The fast path here is about to publish it: not stale, only late. Later rows wait
          // too (the next tick), so none is published before it.
          if (this.#inFlight.has(row.id)) {
            late = true;
            break;
          }
          // Published by the fast path here, its delete not flushed yet: delete, do not resend.
          if (this.#toDelete.has(row.id) || (await this.#publishOne(row, 'sweep'))) {
            done.push(row.id);
            continue;
          }
          // NATS or Redis is away: the rest of the batch would wait out the same timeout.
          await outbox.recordFailure(row.id, 'publish failed');
          break;
        }
        await outbox.delete(done);
        return { claimed: rows.length, done, late };
      });
      for (const id of count.done) this.#toDelete.delete(id);
      published += count.done.length;
      if (count.claimed < 100 || count.late || count.done.length < count.claimed) return published;
    }
  }

  #staleBefore(): Date {
    return new Date(Date.now() - this.#staleAfterMs);
  }

  async #publishOne(row: OutboxRow, path: 'fast' | 'sweep'): Promise<boolean> {
    try {
      switch (row.destination) {
        case OutboxDestination.bus: {
          const topic = topics[row.topic as BusTopicName] as
            (typeof topics)[BusTopicName] | undefined;
          if (!topic || topic.kind !== 'durable') {
            this.#logger.error(
              { outboxId: row.id, topic: row.topic },
              'outbox row names no durable bus topic; dropped',
            );
            return true;
          }
          // The payload was written from this topic's init shape (see busOutbox).
          const durable: DurableTopic = topic;
          await this.#bus.publish(durable, row.payload, { msgId: `outbox-${row.id}` });
          break;
        }
        case OutboxDestination.fanout:
          await this.#fanout.publish(row.topic, row.payload);
          break;
        default: {
          const never: never = row.destination;
          throw new Error(`unknown outbox destination ${String(never)}`);
        }
      }
      this.#published.add(1, { destination: row.destination, path });
      this.#activity.changed(row.tenant_id);
      return true;
    } catch (error) {
      // The row stays: the sweeper looks soon (again).
      this.#trouble();
      this.#failures.add(1, { destination: row.destination });
      this.#logger.warn(
        { err: error, outboxId: row.id, destination: row.destination },
        'outbox publish failed; will retry',
      );
      return false;
    }
  }
}
