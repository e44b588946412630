/** Stable codes; callers branch on these, never on messages. */
export const CoordinationErrorCode = {
  /** Redis could not be reached (or answered with an error) within the client's retries. */
  Unavailable: 'COORDINATION_UNAVAILABLE',
  /** A caller passed something unusable: bad namespace, empty key, non-positive limit, non-JSON event. */
  InvalidArgument: 'COORDINATION_INVALID_ARGUMENT',
  /** The coordination (or fanout) was closed; it does not reopen. */
  Closed: 'COORDINATION_CLOSED',
  /** A lock could not be extended: it expired or someone deleted it. Used as `lock.signal.reason`. */
  LockLost: 'COORDINATION_LOCK_LOST',
} as const;
export type CoordinationErrorCode =
  (typeof CoordinationErrorCode)[keyof typeof CoordinationErrorCode];

const CODES: ReadonlySet<string> = new Set(Object.values(CoordinationErrorCode));

export class CoordinationError extends Error {
  override name = 'CoordinationError';
  readonly code: CoordinationErrorCode;

  constructor(code: CoordinationErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }

  /** True for any error of this package, optionally of one code (works across module copies). */
  static is(err: unknown, code?: CoordinationErrorCode): err is CoordinationError {
    if (typeof err !== 'object' || err === null) return false;
    const candidate = (err as { code?: unknown }).code;
    if (typeof candidate !== 'string' || !CODES.has(candidate)) return false;
    return code === undefined || candidate === code;
  }
}

export class CoordinationUnavailableError extends CoordinationError {
  override name = 'CoordinationUnavailableError';
  constructor(message: string, options?: ErrorOptions) {
    super(CoordinationErrorCode.Unavailable, message, options);
  }
}

export class InvalidCoordinationArgumentError extends CoordinationError {
  override name = 'InvalidCoordinationArgumentError';
  constructor(message: string, options?: ErrorOptions) {
    super(CoordinationErrorCode.InvalidArgument, message, options);
  }
}

export class CoordinationClosedError extends CoordinationError {
  override name = 'CoordinationClosedError';
  constructor(message = 'coordination is closed') {
    super(CoordinationErrorCode.Closed, message);
  }
}

export class LockLostError extends CoordinationError {
  override name = 'LockLostError';
  readonly key: string;
  constructor(key: string, options?: ErrorOptions) {
    super(CoordinationErrorCode.LockLost, `lock "${key}" was lost`, options);
    this.key = key;
  }
}
