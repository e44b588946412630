import {
  jetstream,
  jetstreamManager,
  type JetStreamClient,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { connect, errors as natsErrors, type NatsConnection } from '@nats-io/transport-node';
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
import {
  assertNever,
  BusClosedError,
  BusConsumerConflictError,
  type BusOperationError,
  BusPublishFailedError,
  BusUnavailableError,
} from './errors';
import { consoleBusLogger } from './logger';
import { NatsConsumption, type ConsumptionHost, type RunningConsumption } from './nats-consumption';
import { toMsgHdrs, toRecord } from './nats-headers';
import { JetStreamSetup } from './nats-provisioning';
import { assertName, createNaming, type Naming } from './naming';
import { checkMsgId, normalizeConsumeOptions } from './options';
import { dispatchSignal } from './signal';
import { durableTopics, type DurableTopic, type SignalTopic } from './topics';
import { injectTraceContext, withPublishSpan } from './tracing';

// The distributed bus: JetStream for durable topics (publishing here, consuming in
// nats-consumption.ts, streams and consumers set up by nats-provisioning.ts) and core NATS for
// signals, over one connection that reconnects forever and reports its state to /readyz.

const system = 'nats';

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
    await nc
      .close()
      .catch((closeError: unknown) => logger.debug({ err: closeError }, 'close failed'));
    throw new BusUnavailableError('JetStream is not available on this NATS server', {
      cause: error,
    });
  }
  const js = jetstream(nc, { timeout: publishTimeoutMs });
  const bus = new NatsBus(nc, js, jsm, naming, logger, replicas);
  try {
    await Promise.all(
      (options.durableTopics ?? durableTopics).map((topic) => bus.setup.ensureStream(topic)),
    );
  } catch (error) {
    await bus.close();
    throw error;
  }
  return bus;
}

class NatsBus implements Bus, ConsumptionHost {
  private readonly consumptions = new Set<RunningConsumption>();
  /** relative subject → relative durable attached through this bus. */
  private readonly durables = new Map<string, string>();
  private disconnectedSince: Date | undefined;
  private closing: Promise<void> | undefined;
  private readonly consumerGauges = consumerGauges();
  readonly setup: JetStreamSetup;

  constructor(
    readonly nc: NatsConnection,
    readonly js: JetStreamClient,
    readonly jsm: JetStreamManager,
    readonly naming: Naming,
    readonly logger: BusLogger,
    replicas: number,
  ) {
    this.setup = new JetStreamSetup(jsm, naming, replicas, (error) => this.isUnreachable(error));
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
    await this.setup.ensureStream(topic);
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
            this.setup.forgetStream(topic);
            await this.setup.ensureStream(topic);
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
