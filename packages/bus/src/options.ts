import type { ConsumeOptions, DeadLetter } from './bus';
import { BusInvalidOptionError } from './errors';
import { assertName } from './naming';

export const consumeDefaults = {
  maxAckPending: 1,
  ackWaitMs: 30_000,
  maxDeliver: 10,
  backoffMs: [1_000, 5_000, 15_000, 60_000, 300_000],
} as const;

/** Stream settings shared by both implementations. */
export const streamDefaults = {
  duplicateWindowMs: 2 * 60_000,
  maxAgeMs: 7 * 24 * 60 * 60_000,
} as const;

export interface NormalizedConsumeOptions {
  readonly durable: string;
  readonly maxAckPending: number;
  readonly ackWaitMs: number;
  /** A positive integer, or `Infinity`. */
  readonly maxDeliver: number;
  readonly backoffMs: readonly number[];
  readonly onDeadLetter: ((deadLetter: DeadLetter) => void | Promise<void>) | undefined;
}

export function normalizeConsumeOptions(options: ConsumeOptions): NormalizedConsumeOptions {
  const maxAckPending = options.maxAckPending ?? consumeDefaults.maxAckPending;
  const ackWaitMs = options.ackWaitMs ?? consumeDefaults.ackWaitMs;
  const maxDeliver = options.maxDeliver ?? consumeDefaults.maxDeliver;
  const backoffMs = options.backoffMs ?? consumeDefaults.backoffMs;
  if (!Number.isInteger(maxAckPending) || maxAckPending < 1) {
    throw new BusInvalidOptionError(`maxAckPending must be an integer ≥ 1, got ${maxAckPending}`);
  }
  if (!Number.isFinite(ackWaitMs) || ackWaitMs < 1) {
    throw new BusInvalidOptionError(`ackWaitMs must be a positive number, got ${ackWaitMs}`);
  }
  if (maxDeliver !== Infinity && (!Number.isInteger(maxDeliver) || maxDeliver < 1)) {
    throw new BusInvalidOptionError(
      `maxDeliver must be an integer ≥ 1 or Infinity, got ${maxDeliver}`,
    );
  }
  if (backoffMs.length === 0 || backoffMs.some((ms) => !Number.isFinite(ms) || ms < 0)) {
    throw new BusInvalidOptionError('backoffMs must be a non-empty list of delays ≥ 0');
  }
  return {
    durable: assertName('durable', options.durable),
    maxAckPending,
    ackWaitMs: Math.ceil(ackWaitMs),
    maxDeliver,
    backoffMs: [...backoffMs],
    onDeadLetter: options.onDeadLetter,
  };
}

export function checkMsgId(msgId: string | undefined): string | undefined {
  if (msgId !== undefined && msgId.length === 0) {
    throw new BusInvalidOptionError('msgId must not be empty');
  }
  return msgId;
}
