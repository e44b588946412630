import type { DescMessage, MessageShape } from '@topicdesk/contracts';
import type {
  Bus,
  BusLogger,
  ConsumeOptions,
  Consumption,
  Delivery,
  SignalSubscription,
} from './bus';
import { encode } from './codec';
import { InFlight } from './concurrency';
import { processDelivery, type Processor } from './delivery';
import { BusClosedError, BusConsumerConflictError } from './errors';
import { consoleBusLogger } from './logger';
import { assertName, assertSubject } from './naming';
import { checkMsgId, normalizeConsumeOptions, streamDefaults } from './options';
import type { Settlement } from './retry-policy';
import { dispatchSignal } from './signal';
import type { DurableTopic } from './topics';
import { injectTraceContext, withPublishSpan, type HeaderRecord } from './tracing';

const system = 'topicdesk_in_process';

interface StoredMessage {
  readonly seq: number;
  readonly payload: Uint8Array;
  readonly headers: HeaderRecord;
  readonly msgId: string | undefined;
  readonly publishedAt: Date;
  deliveryCount: number;
}

interface QueueSubscriber {
  deliver(message: StoredMessage): Promise<Settlement>;
}

/** The in-memory counterpart of one work-queue stream and its one durable consumer. */
interface WorkQueue {
  readonly subject: string;
  /** Not yet handed out (or back after a redelivery found no subscriber), in publish order. */
  readonly ready: StoredMessage[];
  /** Handed out and not yet acked or terminated: in flight, or waiting for a delayed redelivery. */
  pending: number;
  durable: string | undefined;
  maxAckPending: number;
  readonly subscribers: QueueSubscriber[];
  nextSubscriber: number;
  /** msgId → when it leaves the duplicate window (insertion order is expiry order). */
  readonly dedupe: Map<string, number>;
  pumpScheduled: boolean;
}

type SignalReceiver = (payload: Uint8Array, headers: HeaderRecord) => void;

/**
 * What several in-process buses share, as several processes share one NATS: the queues, the
 * durable consumers and the signal subscriptions. Outlives the buses attached to it (a bus's
 * `close()` leaves queued messages here), but not the process.
 */
export class InProcessBroker {
  private readonly queues = new Map<string, WorkQueue>();
  private readonly signalReceivers = new Map<
    string,
    Set<{ queue: string | undefined; receive: SignalReceiver }>
  >();
  private readonly queueGroupCursor = new Map<string, number>();
  private sequence = 0;

  /** Stores a message unless its `msgId` was seen within the duplicate window. */
  enqueue(
    subject: string,
    message: { payload: Uint8Array; headers?: HeaderRecord; msgId?: string | undefined },
  ): { duplicate: boolean } {
    const queue = this.queue(subject);
    const now = Date.now();
    if (message.msgId !== undefined) {
      for (const [id, expiresAt] of queue.dedupe) {
        if (expiresAt > now) break;
        queue.dedupe.delete(id);
      }
      if (queue.dedupe.has(message.msgId)) return { duplicate: true };
      queue.dedupe.set(message.msgId, now + streamDefaults.duplicateWindowMs);
    }
    queue.ready.push({
      seq: ++this.sequence,
      payload: message.payload,
      headers: message.headers ?? {},
      msgId: message.msgId,
      publishedAt: new Date(now),
      deliveryCount: 0,
    });
    this.schedulePump(queue);
    return { duplicate: false };
  }

  /** Adds a subscriber to the subject's durable; returns its detach function. */
  attach(
    subject: string,
    durable: string,
    maxAckPending: number,
    subscriber: QueueSubscriber,
  ): () => void {
    const queue = this.queue(subject);
    if (queue.durable !== undefined && queue.durable !== durable) {
      throw new BusConsumerConflictError(
        `${subject} already has the durable ${queue.durable}; a work queue has exactly one, ` +
          `shared by all replicas (got ${durable})`,
      );
    }
    queue.durable = durable;
    // Like a consumer update on the server: the last attach sets the limit.
    queue.maxAckPending = maxAckPending;
    queue.subscribers.push(subscriber);
    this.schedulePump(queue);
    return () => {
      const index = queue.subscribers.indexOf(subscriber);
      if (index !== -1) queue.subscribers.splice(index, 1);
    };
  }

  /** Delivers to every plain receiver and to one receiver of each queue group. */
  signal(subject: string, payload: Uint8Array, headers: HeaderRecord): void {
    const receivers = this.signalReceivers.get(subject);
    if (!receivers) return;
    const groups = new Map<string, SignalReceiver[]>();
    const chosen: SignalReceiver[] = [];
    for (const { queue, receive } of receivers) {
      if (queue === undefined) chosen.push(receive);
      else groups.set(queue, [...(groups.get(queue) ?? []), receive]);
    }
    for (const [queue, members] of groups) {
      const key = `${subject}\u0000${queue}`;
      const cursor = this.queueGroupCursor.get(key) ?? 0;
      this.queueGroupCursor.set(key, cursor + 1);
      const member = members[cursor % members.length];
      if (member) chosen.push(member);
    }
    // Asynchronous, as over the network: a signal never runs inside its sender's call.
    for (const receive of chosen) setImmediate(() => receive(payload, headers));
  }

  subscribeSignal(subject: string, queue: string | undefined, receive: SignalReceiver): () => void {
    const entry = { queue, receive };
    const receivers = this.signalReceivers.get(subject) ?? new Set();
    receivers.add(entry);
    this.signalReceivers.set(subject, receivers);
    return () => {
      receivers.delete(entry);
    };
  }

  private queue(subject: string): WorkQueue {
    let queue = this.queues.get(subject);
    if (!queue) {
      queue = {
        subject,
        ready: [],
        pending: 0,
        durable: undefined,
        maxAckPending: 1,
        subscribers: [],
        nextSubscriber: 0,
        dedupe: new Map(),
        pumpScheduled: false,
      };
      this.queues.set(subject, queue);
    }
    return queue;
  }

  private schedulePump(queue: WorkQueue): void {
    if (queue.pumpScheduled) return;
    queue.pumpScheduled = true;
    setImmediate(() => this.pump(queue));
  }

  private pump(queue: WorkQueue): void {
    queue.pumpScheduled = false;
    while (queue.subscribers.length > 0 && queue.pending < queue.maxAckPending) {
      const message = queue.ready.shift();
      if (!message) return;
      queue.pending++;
      this.dispatch(queue, message);
    }
  }

  /** Hands a message, already counted in `pending`, to the next subscriber in turn. */
  private dispatch(queue: WorkQueue, message: StoredMessage): void {
    const subscriber = queue.subscribers[queue.nextSubscriber++ % queue.subscribers.length];
    if (!subscriber) {
      this.requeue(queue, message);
      return;
    }
    message.deliveryCount++;
    subscriber.deliver(message).then(
      (settlement) => this.settle(queue, message, settlement),
      // processDelivery never rejects; redeliver if it ever does rather than lose the message.
      () => this.settle(queue, message, { kind: 'nak', delayMs: 0 }),
    );
  }

  private settle(queue: WorkQueue, message: StoredMessage, settlement: Settlement): void {
    switch (settlement.kind) {
      case 'ack':
      case 'term':
        queue.pending--;
        this.schedulePump(queue);
        return;
      case 'nak': {
        // Like JetStream, a nak'd message keeps its slot until redelivered, so with
        // maxAckPending 1 nothing overtakes it. unref: a pending retry alone keeps no process up.
        const timer = setTimeout(() => {
          if (queue.subscribers.length > 0) this.dispatch(queue, message);
          else this.requeue(queue, message);
        }, settlement.delayMs);
        timer.unref();
        return;
      }
      default: {
        const unexpected: never = settlement;
        throw new Error(`unexpected settlement ${JSON.stringify(unexpected)}`);
      }
    }
  }

  private requeue(queue: WorkQueue, message: StoredMessage): void {
    queue.pending--;
    const index = queue.ready.findIndex((other) => other.seq > message.seq);
    if (index === -1) queue.ready.push(message);
    else queue.ready.splice(index, 0, message);
    this.schedulePump(queue);
  }
}

export interface InProcessBusOptions {
  logger?: BusLogger;
  /** Share one broker between buses to model several replicas in one process. */
  broker?: InProcessBroker;
}

/**
 * The bus without NATS, for one-process mode: the same semantics in memory (work queues with a
 * shared durable, dedupe, ordered or concurrent delivery, retries, dead letters, signals).
 * Differences: nothing survives the process, and `ackWaitMs` is not enforced (a handler cannot
 * outlive the process that would redeliver its message).
 */
export function createInProcessBus(options: InProcessBusOptions = {}): Bus {
  const broker = options.broker ?? new InProcessBroker();
  const logger = options.logger ?? consoleBusLogger;
  const consumptions = new Set<Consumption>();
  const signalSubscriptions = new Set<SignalSubscription>();
  let closing: Promise<void> | undefined;

  return {
    async publish(topic, data, publishOptions) {
      if (closing) throw new BusClosedError();
      const subject = assertSubject(topic.subject);
      const msgId = checkMsgId(publishOptions?.msgId);
      const payload = encode(topic.schema, data);
      await withPublishSpan(
        { system, destination: subject },
        { msgId, size: payload.byteLength },
        async (headers) => {
          const { duplicate } = broker.enqueue(subject, { payload, headers, msgId });
          if (duplicate) logger.debug({ subject, msgId }, 'duplicate publish ignored');
        },
      );
    },

    consume<S extends DescMessage>(
      topic: DurableTopic<S>,
      handler: (delivery: Delivery<MessageShape<S>>) => Promise<void>,
      consumeOptions: ConsumeOptions,
    ): Consumption {
      if (closing) throw new BusClosedError();
      const subject = assertSubject(topic.subject);
      const normalized = normalizeConsumeOptions(consumeOptions);
      const processor: Processor<S> = {
        topic,
        options: normalized,
        handler,
        target: { system, destination: subject, consumerGroup: normalized.durable },
        logger,
      };
      const inFlight = new InFlight();
      const detach = broker.attach(subject, normalized.durable, normalized.maxAckPending, {
        deliver(message) {
          const settlement = processDelivery(processor, {
            payload: message.payload,
            headers: message.headers,
            deliveryCount: message.deliveryCount,
            msgId: message.msgId,
            publishedAt: message.publishedAt,
            working() {},
          });
          inFlight.track(settlement);
          return settlement;
        },
      });
      let stopping: Promise<void> | undefined;
      const consumption: Consumption = {
        durable: normalized.durable,
        ready: Promise.resolve(),
        stop() {
          stopping ??= (async () => {
            detach();
            await inFlight.idle();
            consumptions.delete(consumption);
          })();
          return stopping;
        },
      };
      consumptions.add(consumption);
      return consumption;
    },

    signal(topic, data) {
      const subject = assertSubject(topic.subject);
      const payload = encode(topic.schema, data);
      if (closing) {
        logger.debug({ subject }, 'signal dropped: the bus is closed');
        return;
      }
      broker.signal(subject, payload, injectTraceContext());
    },

    onSignal(topic, handler, signalOptions) {
      if (closing) throw new BusClosedError();
      const subject = assertSubject(topic.subject);
      const queue =
        signalOptions?.queue === undefined ? undefined : assertName('queue', signalOptions.queue);
      const unsubscribe = broker.subscribeSignal(subject, queue, (payload, headers) => {
        if (signalSubscriptions.has(subscription)) {
          dispatchSignal(topic, handler, payload, headers, logger);
        }
      });
      const subscription: SignalSubscription = {
        ready: Promise.resolve(),
        stop() {
          unsubscribe();
          signalSubscriptions.delete(subscription);
        },
      };
      signalSubscriptions.add(subscription);
      return subscription;
    },

    health() {
      return closing ? { ok: false, detail: 'closed' } : { ok: true };
    },

    close() {
      closing ??= (async () => {
        for (const subscription of [...signalSubscriptions]) subscription.stop();
        await Promise.all([...consumptions].map((consumption) => consumption.stop()));
      })();
      return closing;
    },
  };
}
