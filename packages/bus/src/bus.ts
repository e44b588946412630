import type { DescMessage, MessageInitShape, MessageShape } from '@topicdesk/contracts';
import type { BusErrorData } from './errors';
import type { DurableTopic, SignalTopic } from './topics';

/**
 * The one interface over NATS (`createNatsBus`) and its in-process twin (`createInProcessBus`).
 * Both encode every payload to protobuf binary, so both exercise the contracts identically.
 */
export interface Bus {
  /**
   * Resolves once the message is durable (JetStream PubAck). `msgId` dedupes within the stream's
   * duplicate window (2 minutes): a second publish with the same id resolves without storing.
   * Rejects with `BusUnavailableError`, `BusPublishFailedError`, `BusInvalidPayloadError` or
   * `BusClosedError`.
   */
  publish<S extends DescMessage>(
    topic: DurableTopic<S>,
    data: MessageInitShape<S>,
    options?: PublishOptions,
  ): Promise<void>;

  /**
   * Attaches to the topic's shared durable consumer: every replica that calls this with the
   * same `durable` shares the work, each message going to one of them. The handler resolving
   * acks; throwing naks with backoff (or `RetryLaterError`'s delay); after `maxDeliver`
   * deliveries the message is terminated and `onDeadLetter` is called. A payload that does not
   * decode is terminated and reported at once. Throws `BusConsumerConflictError` when this bus
   * already has another durable on the topic (a work queue has exactly one).
   */
  consume<S extends DescMessage>(
    topic: DurableTopic<S>,
    handler: (delivery: Delivery<MessageShape<S>>) => Promise<void>,
    options: ConsumeOptions,
  ): Consumption;

  /** Fire-and-forget over core NATS (ephemeral, e.g. typing). Never throws for transport errors. */
  signal<S extends DescMessage>(topic: SignalTopic<S>, data: MessageInitShape<S>): void;

  /**
   * Receives signals. With `queue`, subscribers sharing the queue name split the signals (one
   * of them gets each); without it, every subscriber gets every signal.
   */
  onSignal<S extends DescMessage>(
    topic: SignalTopic<S>,
    handler: (data: MessageShape<S>) => void | Promise<void>,
    options?: { queue?: string },
  ): SignalSubscription;

  /** For /readyz: connected, consumers running. */
  health(): BusHealth;

  /** Stops consumers (waiting for in-flight handlers), drains and closes. Idempotent. */
  close(): Promise<void>;
}

export interface PublishOptions {
  /** Dedupe id (`Nats-Msg-Id`): e.g. `telegram-update:<update_id>`, an outbox row id. */
  msgId?: string;
}

export interface ConsumeOptions {
  /** Relative durable name, shared by the replicas; on the server `<namespace>_<durable>`. */
  durable: string;
  /**
   * How many messages may be in flight (unacknowledged) at once, across all replicas; also the
   * concurrency within one process. 1 (the default) processes strictly in order: a message that
   * failed is retried before any later message is handed out.
   */
  maxAckPending?: number;
  /** How long a delivery may run without `working()` before it is redelivered. Default 30 s. */
  ackWaitMs?: number;
  /** Deliveries before a message is dead-lettered; `Infinity` never gives up. Default 10. */
  maxDeliver?: number;
  /**
   * Nak delays by attempt: the n-th failure waits `backoffMs[n-1]` (the last entry repeats).
   * Default 1 s, 5 s, 15 s, 1 min, 5 min.
   */
  backoffMs?: readonly number[];
  /** Called (and awaited) before a message is terminated for good. Errors are logged. */
  onDeadLetter?: (deadLetter: DeadLetter) => void | Promise<void>;
}

export interface Delivery<T> {
  readonly data: T;
  /** The topic's relative subject, e.g. `conversation.sync`. */
  readonly subject: string;
  /** 1 on the first delivery. */
  readonly deliveryCount: number;
  readonly msgId: string | undefined;
  /** When the message was stored (JetStream timestamp, or enqueue time in process). */
  readonly publishedAt: Date | undefined;
  /** Extends the ack deadline (`ackWaitMs`) while a long handler works. */
  working(): void;
}

export interface Consumption {
  /** The relative durable name. */
  readonly durable: string;
  /**
   * Resolves once messages are being pulled. Rejects (with `BusConsumerConflictError` or
   * `BusSetupFailedError`) if the consumer can never be set up; transient failures are retried.
   */
  readonly ready: Promise<void>;
  /** Stops taking messages and resolves once the in-flight handlers have settled. */
  stop(): Promise<void>;
}

export interface SignalSubscription {
  /** Resolves once the server has registered the subscription (signals sent later reach it). */
  readonly ready: Promise<void>;
  stop(): void;
}

export interface BusHealth {
  ok: boolean;
  detail?: string;
}

export const DeadLetterReason = {
  /** The handler failed on the last allowed delivery. */
  MaxDeliver: 'max_deliver',
  /** The payload does not decode with the topic's schema; retrying cannot help. */
  InvalidPayload: 'invalid_payload',
  /**
   * The handler stored it as a dead letter itself, at once, and acknowledged it: retrying cannot
   * help until an operator acts (e.g. a tenant without a bot), and a retry would hold a slot.
   */
  Refused: 'refused',
} as const;
export type DeadLetterReason = (typeof DeadLetterReason)[keyof typeof DeadLetterReason];

export interface DeadLetter {
  readonly reason: DeadLetterReason;
  /** Relative subject and durable. */
  readonly subject: string;
  readonly durable: string;
  readonly deliveryCount: number;
  readonly msgId: string | undefined;
  /** The last error as data (its own `code` when it has one, else `BUS_HANDLER_FAILED`). */
  readonly error: BusErrorData;
  /** The last thrown value itself. */
  readonly cause: unknown;
  /** The raw protobuf payload, for forensics or a manual replay. */
  readonly payload: Uint8Array;
}

/** A pino-compatible logger subset. */
export interface BusLogger {
  debug(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}
