import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiError,
  ReplayPolicy,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import {
  BusConsumerConflictError,
  type BusOperationError,
  BusSetupFailedError,
  BusUnavailableError,
} from './errors';
import type { Naming } from './naming';
import { streamDefaults, type NormalizedConsumeOptions } from './options';
import type { DurableTopic } from './topics';

// The NATS bus's streams and durable consumers on the server: created when missing, brought up
// to date when their settings changed, set up again when the server lost them.

/** JetStream API error codes this module reacts to (nats-server's errors.json). */
const apiCode = {
  streamNameInUse: 10058,
  consumerNameInUse: 10013,
  consumerAlreadyExists: 10148,
  workQueueMultipleUnfiltered: 10099,
  workQueueFilterNotUnique: 10100,
} as const;

/** Streams and durable consumers of one bus, each stream set up once per bus. */
export class JetStreamSetup {
  private readonly streams = new Map<string, Promise<void>>();

  constructor(
    private readonly jsm: JetStreamManager,
    private readonly naming: Naming,
    private readonly replicas: number,
    /** Whether an error means NATS cannot be reached (the bus knows its connection). */
    private readonly isUnreachable: (error: unknown) => boolean,
  ) {}

  /** Creates the topic's stream or brings its settings up to date, once per bus. */
  ensureStream(topic: DurableTopic): Promise<void> {
    const name = this.naming.stream(topic.stream);
    let ready = this.streams.get(name);
    if (!ready) {
      ready = this.provisionStream(name, this.naming.subject(topic.subject));
      this.streams.set(name, ready);
      // The caller gets the failure; the next call tries again.
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
}
