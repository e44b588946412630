import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiError,
  jetstream,
  jetstreamManager,
  PubHeaders,
  ReplayPolicy,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import {
  connect,
  errors as natsErrors,
  headers as natsHeaders,
  nanos,
  type MsgHdrs,
  type NatsConnection,
} from '@nats-io/transport-node';
import { metrics, type BatchObservableResult, type ObservableGauge } from '@opentelemetry/api';
import type { DescMessage, MessageInitShape, MessageShape } from '@topicdesk/contracts';
import type {
  Bus,
  BusHealth,
  BusLogger,
  ConsumeOptions,
  Consumption,
  Delivery,
  SignalSubscription,
} from './bus';
import { encode } from './codec';
import { cancellableDelay, InFlight, Semaphore } from './concurrency';
import { processDelivery, type Processor } from './delivery';
import {
  assertNever,
  BusClosedError,
  BusConsumerConflictError,
  type BusOperationError,
  BusPublishFailedError,
  BusSetupFailedError,
  BusUnavailableError,
} from './errors';
import { consoleBusLogger } from './logger';
import { assertName, createNaming, type Naming } from './naming';
import {
  checkMsgId,
  normalizeConsumeOptions,
  streamDefaults,
  type NormalizedConsumeOptions,
} from './options';
import { dispatchSignal } from './signal';
import { durableTopics, type DurableTopic, type SignalTopic } from './topics';
import { injectTraceContext, withPublishSpan, type HeaderRecord } from './tracing';

const system = 'nats';

/** JetStream API error codes this module reacts to (nats-server's errors.json). */
const apiCode = {
  streamNameInUse: 10058,
  consumerNameInUse: 10013,
  consumerAlreadyExists: 10148,
  workQueueMultipleUnfiltered: 10099,
  workQueueFilterNotUnique: 10100,
} as const;

export interface NatsBusOptions {
  /** `nats://host:4222`, several comma-separated, or a list. */
  servers: string | readonly string[];
  /** Prefix of every subject (`<ns>.`), stream and durable (`<ns>_`). `^[A-Za-z0-9_-]+$`. */
  namespace: string;
  /** Connection name shown by the server's monitoring (e.g. `gateway-7f9c`). */
  name?: string;
  logger?: BusLogger;
  /** Stream replicas: 1 on a single server, 3 on a 3-node cluster. Default 1. */
  replicas?: number;
  /** How long `publish` waits for the PubAck. Default 5 s. */
  publishTimeoutMs?: number;
  /** Streams created (or updated) at start. Default: the durable topics of the catalogue. */
  durableTopics?: readonly DurableTopic[];
}

/**
 * Connects to NATS, creates or updates the streams of the durable topics, and returns the bus.
 * Rejects with `BusUnavailableError` when NATS or JetStream cannot be reached and with
 * `BusSetupFailedError` when a stream cannot be set up. Once connected it reconnects forever.
 */
export async function createNatsBus(options: NatsBusOptions): Promise<Bus> {
  const naming = createNaming(options.namespace);
  const logger = options.logger ?? consoleBusLogger;
  const servers =
    typeof options.servers === 'string'
      ? options.servers
          .split(',')
          .map((server) => server.trim())
          .filter(Boolean)
      : [...options.servers];
  const replicas = options.replicas ?? 1;
  const publishTimeoutMs = options.publishTimeoutMs ?? 5_000;

  let nc: NatsConnection;
  try {
    nc = await connect({
      servers,
      ...(options.name === undefined ? {} : { name: options.name }),
      // The client gives up after 10 attempts by default and closes for good; a service must not.
      maxReconnectAttempts: -1,
      reconnectTimeWait: 1_000,
      // A connection that went silent without closing (a partition, a hung server) is noticed
      // within about 30 s instead of the default 4 minutes, so /readyz reports it.
      pingInterval: 10_000,
      maxPingOut: 3,
    });
  } catch (error) {
    throw new BusUnavailableError(`cannot connect to NATS at ${servers.join(',')}`, {
      cause: error,
    });
  }
  let jsm: JetStreamManager;
  try {
    jsm = await jetstreamManager(nc);
  } catch (error) {
    await nc.close().catch(() => undefined);
    throw new BusUnavailableError('JetStream is not available on this NATS server', {
      cause: error,
    });
  }
  const js = jetstream(nc, { timeout: publishTimeoutMs });
  const bus = new NatsBus(nc, js, jsm, naming, logger, replicas);
  try {
    await Promise.all(
      (options.durableTopics ?? durableTopics).map((topic) => bus.ensureStream(topic)),
    );
  } catch (error) {
    await bus.close();
    throw error;
  }
  return bus;
}

class NatsBus implements Bus {
  private readonly streams = new Map<string, Promise<void>>();
  private readonly consumptions = new Set<RunningConsumption>();
  /** relative subject → relative durable attached through this bus. */
  private readonly durables = new Map<string, string>();
  private disconnectedSince: Date | undefined;
  private closing: Promise<void> | undefined;
  private readonly consumerGauges = consumerGauges();

  constructor(
    readonly nc: NatsConnection,
    readonly js: JetStreamClient,
    readonly jsm: JetStreamManager,
    readonly naming: Naming,
    readonly logger: BusLogger,
    private readonly replicas: number,
  ) {
    this.watchConnection().catch((error: unknown) =>
      logger.error({ err: error }, 'NATS status watch failed'),
    );
    void nc.closed().then((error) => {
      if (!this.closing) {
        logger.error({ err: error }, 'NATS connection closed unexpectedly');
      }
    });
    metrics
      .getMeter('@topicdesk/bus')
      .addBatchObservableCallback(this.observeConsumers, this.consumerGauges);
  }

  /**
   * `topicdesk_nats_consumer_pending` / `_ack_pending`, per durable this process consumes, from
   * the server's consumer info (the same numbers for every replica of a shared durable).
   */
  private readonly observeConsumers = async (result: BatchObservableResult): Promise<void> => {
    if (this.closing || this.disconnectedSince || this.nc.isClosed()) return;
    const [pending, ackPending] = this.consumerGauges;
    const seen = new Set<string>();
    for (const consumption of this.consumptions) {
      if (seen.has(consumption.durable)) continue;
      seen.add(consumption.durable);
      try {
        const info = await this.jsm.consumers.info(
          consumption.serverStream,
          consumption.serverDurable,
        );
        const attributes = { durable: consumption.durable };
        result.observe(pending, info.num_pending, attributes);
        result.observe(ackPending, info.num_ack_pending, attributes);
      } catch (error) {
        this.logger.debug(
          { durable: consumption.durable, err: error },
          'consumer info unavailable for metrics',
        );
      }
    }
  };

  async publish<S extends DescMessage>(
    topic: DurableTopic<S>,
    data: MessageInitShape<S>,
    publishOptions?: { msgId?: string },
  ): Promise<void> {
    if (this.closing) throw new BusClosedError();
    const subject = this.naming.subject(topic.subject);
    const msgId = checkMsgId(publishOptions?.msgId);
    const payload = encode(topic.schema, data);
    await this.ensureStream(topic);
    await withPublishSpan(
      { system, destination: subject },
      { msgId, size: payload.byteLength },
      async (traceHeaders) => {
        const send = () =>
          this.js.publish(subject, payload, {
            headers: toMsgHdrs(traceHeaders),
            ...(msgId === undefined ? {} : { msgID: msgId }),
          });
        try {
          let ack;
          try {
            ack = await send();
          } catch (error) {
            if (!isNoStream(error) || this.isUnreachable(error)) throw error;
            // Nobody answered for the subject: the stream is gone (e.g. the server lost its
            // store). Set it up again and retry once; msgId makes the retry safe.
            this.logger.warn({ subject }, 'no stream for subject; recreating it');
            this.forgetStream(topic);
            await this.ensureStream(topic);
            ack = await send();
          }
          if (ack.duplicate) this.logger.debug({ subject, msgId }, 'duplicate publish ignored');
        } catch (error) {
          throw this.publishError(subject, error);
        }
      },
    );
  }

  consume<S extends DescMessage>(
    topic: DurableTopic<S>,
    handler: (delivery: Delivery<MessageShape<S>>) => Promise<void>,
    consumeOptions: ConsumeOptions,
  ): Consumption {
    if (this.closing) throw new BusClosedError();
    const options = normalizeConsumeOptions(consumeOptions);
    const subject = this.naming.subject(topic.subject);
    const existing = this.durables.get(topic.subject);
    if (existing !== undefined && existing !== options.durable) {
      throw new BusConsumerConflictError(
        `${topic.subject} already has the durable ${existing}; a work queue has exactly one, ` +
          `shared by all replicas (got ${options.durable})`,
      );
    }
    this.durables.set(topic.subject, options.durable);
    const consumption = new NatsConsumption(this, topic, {
      topic,
      options,
      handler,
      target: {
        system,
        destination: subject,
        consumerGroup: this.naming.durable(options.durable),
      },
      logger: this.logger,
    });
    this.consumptions.add(consumption);
    void consumption.stopped.then(() => this.consumptions.delete(consumption));
    return consumption;
  }

  signal<S extends DescMessage>(topic: SignalTopic<S>, data: MessageInitShape<S>): void {
    const subject = this.naming.subject(topic.subject);
    const payload = encode(topic.schema, data);
    if (this.closing) {
      this.logger.debug({ subject }, 'signal dropped: the bus is closed');
      return;
    }
    try {
      this.nc.publish(subject, payload, { headers: toMsgHdrs(injectTraceContext()) });
    } catch (error) {
      // Ephemeral by contract: a typing signal lost while the connection closes is fine.
      this.logger.warn({ subject, err: error }, 'signal dropped');
    }
  }

  onSignal<S extends DescMessage>(
    topic: SignalTopic<S>,
    handler: (data: MessageShape<S>) => void | Promise<void>,
    signalOptions?: { queue?: string },
  ): SignalSubscription {
    if (this.closing) throw new BusClosedError();
    const subject = this.naming.subject(topic.subject);
    const queue =
      signalOptions?.queue === undefined ? undefined : assertName('queue', signalOptions.queue);
    const subscription = this.nc.subscribe(subject, {
      ...(queue === undefined ? {} : { queue }),
      callback: (error, msg) => {
        if (error) {
          this.logger.error({ subject, err: error }, 'signal subscription failed');
          return;
        }
        dispatchSignal(topic, handler, msg.data, toRecord(msg.headers), this.logger);
      },
    });
    // A round trip to the server: once it answers, the SUB before it has been processed.
    const ready = this.nc.flush().catch((error: unknown) => {
      this.logger.warn({ subject, err: error }, 'signal subscription not confirmed');
    });
    return {
      ready,
      stop: () => {
        subscription.unsubscribe();
      },
    };
  }

  health(): BusHealth {
    if (this.closing || this.nc.isClosed()) return { ok: false, detail: 'NATS connection closed' };
    if (this.disconnectedSince) {
      return {
        ok: false,
        detail: `disconnected from NATS since ${this.disconnectedSince.toISOString()}`,
      };
    }
    const issues = [...this.consumptions]
      .filter((consumption) => consumption.issue !== undefined)
      .map((consumption) => `consumer ${consumption.durable}: ${consumption.issue ?? ''}`);
    return issues.length > 0 ? { ok: false, detail: issues.join('; ') } : { ok: true };
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      metrics
        .getMeter('@topicdesk/bus')
        .removeBatchObservableCallback(this.observeConsumers, this.consumerGauges);
      await Promise.all([...this.consumptions].map((consumption) => consumption.stop()));
      if (this.nc.isClosed()) return;
      try {
        // Unsubscribes the signal subscriptions after their pending messages, flushes acks.
        await this.nc.drain();
      } catch (error) {
        this.logger.warn({ err: error }, 'NATS drain failed; closing');
        await this.nc.close();
      }
    })();
    return this.closing;
  }

  /** Creates the topic's stream or brings its settings up to date, once per bus. */
  ensureStream(topic: DurableTopic): Promise<void> {
    const name = this.naming.stream(topic.stream);
    let ready = this.streams.get(name);
    if (!ready) {
      ready = this.provisionStream(name, this.naming.subject(topic.subject));
      this.streams.set(name, ready);
      // A failure is retried on the next call.
      ready.catch(() => this.streams.delete(name));
    }
    return ready;
  }

  /** After the server lost a stream (e.g. a fresh server without its store), recreate it. */
  forgetStream(topic: DurableTopic): void {
    this.streams.delete(this.naming.stream(topic.stream));
  }

  private async provisionStream(name: string, subject: string): Promise<void> {
    const settings = {
      subjects: [subject],
      // Nothing is dropped silently: a full stream rejects publishes (the publisher's outbox
      // retries) instead of discarding unprocessed work. max_age still expires old messages.
      discard: DiscardPolicy.New,
      duplicate_window: nanos(streamDefaults.duplicateWindowMs),
      max_age: nanos(streamDefaults.maxAgeMs),
      num_replicas: this.replicas,
    };
    try {
      await this.jsm.streams.add({
        name,
        retention: RetentionPolicy.Workqueue,
        storage: StorageType.File,
        ...settings,
      });
    } catch (error) {
      if (!(error instanceof JetStreamApiError && error.code === apiCode.streamNameInUse)) {
        throw this.setupError(`cannot create stream ${name}`, error);
      }
      try {
        await this.jsm.streams.update(name, settings);
      } catch (updateError) {
        throw this.setupError(`cannot update stream ${name}`, updateError);
      }
    }
  }

  /** Creates the durable consumer or updates its settings (the last replica to start wins). */
  async ensureConsumer(stream: string, subject: string, options: NormalizedConsumeOptions) {
    const durable = this.naming.durable(options.durable);
    const settings = {
      ack_wait: nanos(options.ackWaitMs),
      // One more than maxDeliver: when earlier deliveries never settled (process died), the
      // extra delivery reaches processDelivery, which dead-letters it instead of leaving it
      // stuck in the work queue until max_age.
      max_deliver: options.maxDeliver === Infinity ? -1 : options.maxDeliver + 1,
      max_ack_pending: options.maxAckPending,
    } satisfies Partial<ConsumerConfig>;
    try {
      await this.jsm.consumers.add(stream, {
        durable_name: durable,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        replay_policy: ReplayPolicy.Instant,
        filter_subject: subject,
        ...settings,
      });
    } catch (error) {
      const code = error instanceof JetStreamApiError ? error.code : undefined;
      if (
        code === apiCode.workQueueFilterNotUnique ||
        code === apiCode.workQueueMultipleUnfiltered
      ) {
        throw new BusConsumerConflictError(
          `${subject} already has another durable consumer than ${durable}; ` +
            'a work queue has exactly one, shared by all replicas',
          { cause: error },
        );
      }
      if (code !== apiCode.consumerNameInUse && code !== apiCode.consumerAlreadyExists) {
        throw this.setupError(`cannot create consumer ${durable} on ${stream}`, error);
      }
      try {
        await this.jsm.consumers.update(stream, durable, settings);
      } catch (updateError) {
        throw this.setupError(`cannot update consumer ${durable} on ${stream}`, updateError);
      }
    }
    return durable;
  }

  private setupError(message: string, cause: unknown): BusOperationError {
    if (this.isUnreachable(cause)) {
      return new BusUnavailableError(`${message}: NATS unreachable`, { cause });
    }
    const detail = cause instanceof Error ? cause.message : String(cause);
    return new BusSetupFailedError(`${message}: ${detail}`, { cause });
  }

  private publishError(subject: string, cause: unknown): BusOperationError {
    if (this.isUnreachable(cause)) {
      return new BusUnavailableError(`cannot publish to ${subject}: NATS unreachable`, { cause });
    }
    const detail = cause instanceof Error ? cause.message : String(cause);
    return new BusPublishFailedError(`publish to ${subject} was not acknowledged: ${detail}`, {
      cause,
    });
  }

  private isUnreachable(error: unknown): boolean {
    return (
      this.disconnectedSince !== undefined ||
      this.nc.isClosed() ||
      error instanceof natsErrors.ClosedConnectionError ||
      error instanceof natsErrors.DrainingConnectionError
    );
  }

  private async watchConnection(): Promise<void> {
    for await (const status of this.nc.status()) {
      switch (status.type) {
        case 'disconnect':
          this.disconnectedSince ??= new Date();
          this.logger.warn({ server: status.server }, 'disconnected from NATS');
          break;
        case 'reconnect':
          this.disconnectedSince = undefined;
          // Heartbeats missed while the connection was down say nothing about the new one; a
          // consumer that is really gone reports itself again within two heartbeats.
          for (const consumption of this.consumptions) consumption.connectionRestored();
          this.logger.info({ server: status.server }, 'reconnected to NATS');
          break;
        case 'reconnecting':
          this.logger.debug({}, 'reconnecting to NATS');
          break;
        case 'error':
          this.logger.error({ err: status.error }, 'NATS connection error');
          break;
        case 'ldm':
          this.logger.warn({ server: status.server }, 'NATS server entering lame duck mode');
          break;
        case 'staleConnection':
          this.logger.warn({}, 'stale NATS connection; reconnecting');
          break;
        case 'slowConsumer':
          this.logger.warn(
            { subject: status.sub.getSubject(), pending: status.pending },
            'slow NATS subscription',
          );
          break;
        case 'update':
        case 'ping':
        case 'forceReconnect':
        case 'close':
          this.logger.debug({ status: status.type }, 'NATS status');
          break;
        default:
          assertNever(status);
      }
    }
  }
}

/**
 * One `consume()` call: a loop that sets up the durable consumer, pulls with the v3
 * `consume()` iterator (which re-pulls after reconnects and missed heartbeats), runs up to
 * `maxAckPending` handlers at once, and starts over if the iterator ever ends on its own.
 */
const HEARTBEATS_MISSED = 'missed heartbeats';

/** The consumer gauges (created once per process; every bus adds its own callback). */
function consumerGauges(): [ObservableGauge, ObservableGauge] {
  const meter = metrics.getMeter('@topicdesk/bus');
  return [
    meter.createObservableGauge('topicdesk_nats_consumer_pending', {
      description: 'Messages in the stream not yet delivered to the durable consumer, by durable',
    }),
    meter.createObservableGauge('topicdesk_nats_consumer_ack_pending', {
      description: 'Messages delivered to the durable consumer and not yet acknowledged',
    }),
  ];
}

/** What the bus needs of its consumptions, whatever their message type. */
interface RunningConsumption {
  readonly durable: string;
  /** Stream and durable names as the server knows them (namespaced). */
  readonly serverStream: string;
  readonly serverDurable: string;
  readonly issue: string | undefined;
  connectionRestored(): void;
  readonly stopped: Promise<void>;
  stop(): Promise<void>;
}

class NatsConsumption<S extends DescMessage> implements Consumption, RunningConsumption {
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
    private readonly bus: NatsBus,
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
    // Callers may ignore `ready`; its rejection must not become an unhandled rejection.
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
        await bus.ensureStream(topic);
        const durable = await bus.ensureConsumer(stream, subject, processor.options);
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
    const settlement = await processDelivery(this.processor, {
      payload: msg.data,
      headers: toRecord(msg.headers),
      deliveryCount: msg.info.deliveryCount,
      msgId: msg.headers?.get(PubHeaders.MsgIdHdr) || undefined,
      publishedAt: msg.time,
      working: () => msg.working(),
    });
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
    this.bus.forgetStream(this.topic);
    void messages.close();
  }
}

/**
 * How the v3 client reports a JetStream publish that no stream answered: a `JetStreamNotEnabled`
 * ("jetstream is not enabled") wrapping the no-responders error, even when JetStream is enabled
 * and only the stream is missing.
 */
function isNoStream(error: unknown): boolean {
  return (
    // The class is not exported from @nats-io/jetstream's entry point; its name is stable.
    (error instanceof Error && error.name === 'JetStreamNotEnabled') ||
    error instanceof natsErrors.NoRespondersError ||
    (error instanceof Error && error.cause instanceof natsErrors.NoRespondersError)
  );
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

function toMsgHdrs(record: HeaderRecord): MsgHdrs {
  const msgHdrs = natsHeaders();
  for (const [key, value] of Object.entries(record)) msgHdrs.set(key, value);
  return msgHdrs;
}

function toRecord(msgHdrs: MsgHdrs | undefined): HeaderRecord {
  const record: HeaderRecord = {};
  if (!msgHdrs) return record;
  for (const key of msgHdrs.keys()) record[key] = msgHdrs.get(key);
  return record;
}
