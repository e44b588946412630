/**
 * The bus's errors: named classes with a stable `code`. Callers branch on `code` (or the class),
 * never on `message`. Errors cross the bus as data (`{ code, message }`, the shape of the
 * `topicdesk.v1.BusError` message), see `busErrorData` and `BusOperationError.fromData`.
 */

export const BusErrorCode = {
  /** NATS cannot be reached (at connect, or while disconnected), or JetStream is not enabled. */
  Unavailable: 'BUS_UNAVAILABLE',
  /** JetStream did not acknowledge a publish (rejected, timed out). The message may not be stored. */
  PublishFailed: 'BUS_PUBLISH_FAILED',
  /** A payload could not be encoded to, or decoded from, its protobuf schema. */
  InvalidPayload: 'BUS_INVALID_PAYLOAD',
  /** A namespace, durable, queue or numeric option is out of range. A programming error. */
  InvalidOption: 'BUS_INVALID_OPTION',
  /** The bus was used after `close()`. */
  Closed: 'BUS_CLOSED',
  /**
   * A second durable was attached to a work-queue topic: each durable topic has exactly one
   * durable consumer, shared by all replicas.
   */
  ConsumerConflict: 'BUS_CONSUMER_CONFLICT',
  /** A stream or consumer could not be created or updated. */
  SetupFailed: 'BUS_SETUP_FAILED',
  /** A handler failed with an error that carries no `code` of its own (dead letters). */
  HandlerFailed: 'BUS_HANDLER_FAILED',
  /** A handler asked for a retry after a delay (`RetryLaterError`). */
  RetryLater: 'BUS_RETRY_LATER',
  /**
   * The server redelivered a message past `maxDeliver` because earlier deliveries never settled
   * (the handler outlived `ackWaitMs` without `working()`, or its process died).
   */
  DeliveriesExhausted: 'BUS_DELIVERIES_EXHAUSTED',
} as const;
export type BusErrorCode = (typeof BusErrorCode)[keyof typeof BusErrorCode];

/** An error as data: the shape of the `topicdesk.v1.BusError` protobuf message. */
export interface BusErrorData {
  readonly code: string;
  readonly message: string;
}

/** Base class of every error the bus throws or reports. */
export class BusOperationError extends Error {
  override readonly name: string = 'BusOperationError';
  readonly code: BusErrorCode;

  constructor(code: BusErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }

  toData(): BusErrorData {
    return { code: this.code, message: this.message };
  }

  /** Rebuilds the named error from data received over the bus; unknown codes give `null`. */
  static fromData(data: BusErrorData): BusOperationError | null {
    if (!isBusErrorCode(data.code)) return null;
    switch (data.code) {
      case BusErrorCode.Unavailable:
        return new BusUnavailableError(data.message);
      case BusErrorCode.PublishFailed:
        return new BusPublishFailedError(data.message);
      case BusErrorCode.InvalidPayload:
        return new BusInvalidPayloadError(data.message);
      case BusErrorCode.InvalidOption:
        return new BusInvalidOptionError(data.message);
      case BusErrorCode.Closed:
        return new BusClosedError(data.message);
      case BusErrorCode.ConsumerConflict:
        return new BusConsumerConflictError(data.message);
      case BusErrorCode.SetupFailed:
        return new BusSetupFailedError(data.message);
      case BusErrorCode.HandlerFailed:
        return new BusHandlerFailedError(data.message);
      case BusErrorCode.RetryLater:
        return new RetryLaterError(data.message, 0);
      case BusErrorCode.DeliveriesExhausted:
        return new BusDeliveriesExhaustedError(data.message);
      default:
        return assertNever(data.code);
    }
  }
}

export class BusUnavailableError extends BusOperationError {
  override readonly name = 'BusUnavailableError';
  constructor(message: string, options?: ErrorOptions) {
    super(BusErrorCode.Unavailable, message, options);
  }
}

export class BusPublishFailedError extends BusOperationError {
  override readonly name = 'BusPublishFailedError';
  constructor(message: string, options?: ErrorOptions) {
    super(BusErrorCode.PublishFailed, message, options);
  }
}

export class BusInvalidPayloadError extends BusOperationError {
  override readonly name = 'BusInvalidPayloadError';
  constructor(message: string, options?: ErrorOptions) {
    super(BusErrorCode.InvalidPayload, message, options);
  }
}

export class BusInvalidOptionError extends BusOperationError {
  override readonly name = 'BusInvalidOptionError';
  constructor(message: string, options?: ErrorOptions) {
    super(BusErrorCode.InvalidOption, message, options);
  }
}

export class BusClosedError extends BusOperationError {
  override readonly name = 'BusClosedError';
  constructor(message = 'the bus is closed', options?: ErrorOptions) {
    super(BusErrorCode.Closed, message, options);
  }
}

export class BusConsumerConflictError extends BusOperationError {
  override readonly name = 'BusConsumerConflictError';
  constructor(message: string, options?: ErrorOptions) {
    super(BusErrorCode.ConsumerConflict, message, options);
  }
}

export class BusSetupFailedError extends BusOperationError {
  override readonly name = 'BusSetupFailedError';
  constructor(message: string, options?: ErrorOptions) {
    super(BusErrorCode.SetupFailed, message, options);
  }
}

export class BusHandlerFailedError extends BusOperationError {
  override readonly name = 'BusHandlerFailedError';
  constructor(message: string, options?: ErrorOptions) {
    super(BusErrorCode.HandlerFailed, message, options);
  }
}

export class BusDeliveriesExhaustedError extends BusOperationError {
  override readonly name = 'BusDeliveriesExhaustedError';
  constructor(message: string, options?: ErrorOptions) {
    super(BusErrorCode.DeliveriesExhausted, message, options);
  }
}

/**
 * Thrown by a handler to ask for another delivery after `delayMs` instead of the consumer's
 * backoff (e.g. Telegram's `retry_after`). It still counts as a delivery toward `maxDeliver`.
 */
export class RetryLaterError extends BusOperationError {
  override readonly name = 'RetryLaterError';
  readonly delayMs: number;
  constructor(message: string, delayMs: number, options?: ErrorOptions) {
    super(BusErrorCode.RetryLater, message, options);
    this.delayMs = Number.isFinite(delayMs) && delayMs > 0 ? Math.ceil(delayMs) : 0;
  }
}

const codes: ReadonlySet<string> = new Set(Object.values(BusErrorCode));

export function isBusErrorCode(code: string): code is BusErrorCode {
  return codes.has(code);
}

/**
 * Any thrown value as data: a string `code` on the error is kept (domain errors such as
 * `BRIDGE_TOPIC_CLOSED` keep theirs), anything else becomes `BUS_HANDLER_FAILED`.
 */
export function busErrorData(error: unknown): BusErrorData {
  if (error instanceof BusOperationError) return error.toData();
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return {
      code: typeof code === 'string' && code.length > 0 ? code : BusErrorCode.HandlerFailed,
      message: error.message,
    };
  }
  return { code: BusErrorCode.HandlerFailed, message: String(error) };
}

export function assertNever(value: never): never {
  throw new Error(`unexpected value: ${String(value)}`);
}
