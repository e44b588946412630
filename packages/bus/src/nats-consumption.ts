import {
  PubHeaders,
  type ConsumerMessages,
  type JetStreamClient,
  type JsMsg,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { DescMessage } from '@topicdesk/contracts';
import type { BusLogger, Consumption } from './bus';
import { cancellableDelay, InFlight, Semaphore } from './concurrency';
import { processDelivery, type Processor } from './delivery';
import { assertNever, BusConsumerConflictError } from './errors';
import { toRecord } from './nats-headers';
import type { JetStreamSetup } from './nats-provisioning';
import type { Naming } from './naming';
import type { DurableTopic } from './topics';

// The consuming side of the NATS bus: one pull loop per `consume()` call, its settlements, and
// the repairs the client does not make on its own.

const HEARTBEATS_MISSED = 'missed heartbeats';

/** What a consumption needs of its bus. */
export interface ConsumptionHost {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly naming: Naming;
  readonly logger: BusLogger;
  readonly setup: JetStreamSetup;
}

/** What the bus needs of its consumptions, whatever their message type. */
export interface RunningConsumption {
  readonly durable: string;
  /** Stream and durable names as the server knows them (namespaced). */
  readonly serverStream: string;
  readonly serverDurable: string;
  readonly issue: string | undefined;
  connectionRestored(): void;
  readonly stopped: Promise<void>;
  stop(): Promise<void>;
}

/**
 * One `consume()` call: a loop that sets up the durable consumer, pulls with the v3
 * `consume()` iterator (which re-pulls after reconnects and missed heartbeats), runs up to
 * `maxAckPending` handlers at once, and starts over if the iterator ever ends on its own.
 */
export class NatsConsumption<S extends DescMessage> implements Consumption, RunningConsumption {
  readonly durable: string;
  readonly serverStream: string;
  readonly serverDurable: string;
  readonly ready: Promise<void>;
  /** Resolves when `stop()` has finished. */
  readonly stopped: Promise<void>;
  /** Why this consumer is not healthy right now (health detail), if it is not. */
  issue: string | undefined = 'starting';
  private resolveReady!: () => void;
  private rejectReady!: (error: unknown) => void;
  private resolveStopped!: () => void;
  private stopping: Promise<void> | undefined;
  private messages: ConsumerMessages | undefined;
  private sleeper: { cancel(): void } | undefined;
  private readonly slots: Semaphore;
  private readonly inFlight = new InFlight();
  private readonly loop: Promise<void>;
  private restartRequested = false;
  /** Whether the loop has run once already (later runs are recoveries, worth a log line). */
  private startedOnce = false;

  constructor(
    private readonly bus: ConsumptionHost,
    private readonly topic: DurableTopic<S>,
    private readonly processor: Processor<S>,
  ) {
    this.durable = processor.options.durable;
    this.serverStream = bus.naming.stream(topic.stream);
    this.serverDurable = bus.naming.durable(processor.options.durable);
    this.slots = new Semaphore(processor.options.maxAckPending);
    this.ready = new Promise<void>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    // Callers may ignore `ready`; its rejection (run() logs why) must not go unhandled.
    this.ready.catch(() => undefined);
    this.stopped = new Promise((resolve) => (this.resolveStopped = resolve));
    this.loop = this.run();
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.sleeper?.cancel();
      // Stops pulling; messages already buffered are nak'd by the loop for another replica.
      void this.messages?.close();
      await this.loop;
      await this.inFlight.idle();
      this.resolveReady();
      this.resolveStopped();
    })();
    return this.stopping;
  }

  connectionRestored(): void {
    if (this.issue?.startsWith(HEARTBEATS_MISSED)) this.issue = undefined;
  }

  private get isStopping(): boolean {
    return this.stopping !== undefined;
  }

  private get fields() {
    return { subject: this.topic.subject, durable: this.durable };
  }

  private async run(): Promise<void> {
    const { bus, topic, processor } = this;
    const stream = bus.naming.stream(topic.stream);
    const subject = bus.naming.subject(topic.subject);
    let attempt = 0;
    while (!this.isStopping) {
      try {
        await bus.setup.ensureStream(topic);
        const durable = await bus.setup.ensureConsumer(stream, subject, processor.options);
        const consumer = await bus.js.consumers.get(stream, durable);
        if (this.isStopping) break;
        // Pull no more than can run: buffered messages would age toward ack_wait unprocessed.
        const messages = await consumer.consume({ max_messages: processor.options.maxAckPending });
        this.messages = messages;
        this.watch(messages).catch((error: unknown) =>
          bus.logger.error({ ...this.fields, err: error }, 'consumer status watch failed'),
        );
        if (this.isStopping) void messages.close();
        this.issue = undefined;
        if (attempt > 0 || this.startedOnce) bus.logger.info(this.fields, 'consumer running again');
        this.startedOnce = true;
        attempt = 0;
        this.resolveReady();
        for await (const msg of messages) {
          await this.slots.acquire();
          if (this.isStopping) {
            this.slots.release();
            settle(msg, 'nak', bus.logger);
            continue;
          }
          this.issue = undefined;
          this.inFlight.track(this.handle(msg).finally(() => this.slots.release()));
        }
        if (this.isStopping) break;
        if (this.restartRequested) {
          this.restartRequested = false;
          continue;
        }
        const reason = await messages.closed();
        throw reason ?? new Error('the consume iterator ended');
      } catch (error) {
        if (this.isStopping) break;
        if (error instanceof BusConsumerConflictError || bus.nc.isClosed()) {
          this.issue = error instanceof Error ? error.message : String(error);
          bus.logger.error({ ...this.fields, err: error }, 'consumer stopped for good');
          this.rejectReady(error);
          return;
        }
        const delayMs = Math.min(30_000, 500 * 2 ** attempt++);
        this.issue = error instanceof Error ? error.message : String(error);
        bus.logger.warn({ ...this.fields, err: error, retryInMs: delayMs }, 'consumer restarting');
        const sleeper = cancellableDelay(delayMs);
        this.sleeper = sleeper;
        await sleeper.promise;
      }
    }
  }

  private async handle(msg: JsMsg): Promise<void> {
    const msgId = msg.headers?.get(PubHeaders.MsgIdHdr) || undefined;
    const stuck = this.watchStuck(msg.info.deliveryCount, msgId);
    let settlement: Awaited<ReturnType<typeof processDelivery>>;
    try {
      settlement = await processDelivery(this.processor, {
        payload: msg.data,
        headers: toRecord(msg.headers),
        deliveryCount: msg.info.deliveryCount,
        msgId,
        publishedAt: msg.time,
        working: () => {
          stuck.working();
          msg.working();
        },
      });
    } finally {
      stuck.done();
    }
    switch (settlement.kind) {
      case 'ack':
        settle(msg, 'ack', this.bus.logger);
        break;
      case 'nak':
        settle(msg, 'nak', this.bus.logger, settlement.delayMs);
        break;
      case 'term':
        settle(msg, 'term', this.bus.logger);
        break;
      default:
        assertNever(settlement);
    }
  }

  /**
   * A handler that neither settles nor reports work for three ack waits holds one of the
   * consumer's slots (with `maxAckPending` 1, the whole consumer: the server redelivers it and
   * nothing else). Said in the log, each three ack waits it goes on, so the await that never
   * settles can be found; the handler is left running (settling it here would break the order).
   */
  private watchStuck(deliveryCount: number, msgId: string | undefined) {
    const everyMs = 3 * this.processor.options.ackWaitMs;
    const started = performance.now();
    let worked = false;
    const timer = setInterval(() => {
      if (!worked)
        this.bus.logger.warn(
          {
            ...this.fields,
            msgId,
            deliveryCount,
            runningMs: Math.round(performance.now() - started),
          },
          'handler still running without reporting work; it holds a consumer slot',
        );
      worked = false;
    }, everyMs);
    timer.unref();
    return {
      working: () => void (worked = true),
      done: () => clearInterval(timer),
    };
  }

  /** Logs the consume iterator's notifications and repairs what the client cannot. */
  private async watch(messages: ConsumerMessages): Promise<void> {
    const logger = this.bus.logger;
    for await (const status of messages.status()) {
      switch (status.type) {
        case 'heartbeats_missed':
          this.issue = `${HEARTBEATS_MISSED}: ${status.count}`;
          logger.warn({ ...this.fields, count: status.count }, 'consumer missed heartbeats');
          break;
        case 'consumer_not_found':
        case 'stream_not_found':
        case 'consumer_deleted':
          // The client keeps asking for the consumer but never recreates a durable one.
          this.issue = status.type.replaceAll('_', ' ');
          logger.warn({ ...this.fields, status: status.type }, 'consumer missing; recreating');
          this.recreate(messages);
          break;
        case 'no_responders':
        case 'exceeded_limits':
          logger.warn({ ...this.fields, status }, 'consumer pull failed');
          break;
        case 'heartbeat':
          this.issue = undefined;
          break;
        case 'next':
        case 'discard':
        case 'debug':
        case 'flow_control':
        case 'reset':
        case 'ordered_consumer_recreated':
        case 'consumer_pinned':
        case 'consumer_unpinned':
          logger.debug({ ...this.fields, status }, 'consumer status');
          break;
        default:
          assertNever(status);
      }
    }
  }

  /**
   * The client keeps asking for a consumer that is gone (a server that lost its store, an
   * operator's delete) but never recreates a durable one: end this iterator and let the loop
   * set the stream and consumer up again.
   */
  private recreate(messages: ConsumerMessages): void {
    if (this.isStopping || this.messages !== messages || this.restartRequested) return;
    this.restartRequested = true;
    this.bus.setup.forgetStream(this.topic);
    void messages.close();
  }
}

/** Sends a settlement; when the connection is gone the server redelivers after ack_wait. */
function settle(
  msg: JsMsg,
  kind: 'ack' | 'nak' | 'term',
  logger: BusLogger,
  delayMs?: number,
): void {
  try {
    if (kind === 'ack') msg.ack();
    else if (kind === 'nak') msg.nak(delayMs !== undefined && delayMs > 0 ? delayMs : undefined);
    // No reason text: nats-server before 2.10 only recognizes a bare `+TERM` and silently
    // ignores `+TERM <reason>`, which would leave the message pending until ack_wait.
    else msg.term();
  } catch (error) {
    logger.warn(
      { subject: msg.subject, seq: msg.seq, settlement: kind, err: error },
      'settlement not sent; the server will redeliver after ack wait',
    );
  }
}
