import type { DeadLetterReason } from './bus';
import { RetryLaterError } from './errors';

/** What to tell the server about one delivery. */
export type Settlement =
  | { readonly kind: 'ack' }
  | { readonly kind: 'nak'; readonly delayMs: number }
  | { readonly kind: 'term'; readonly reason: DeadLetterReason };

/** The delay before the next delivery after the `deliveryCount`-th one failed. */
export function backoffDelay(backoffMs: readonly number[], deliveryCount: number): number {
  const index = Math.min(Math.max(deliveryCount, 1), backoffMs.length) - 1;
  return backoffMs[index] ?? 0;
}

/** After a handler failed: retry later, or give up when this was the last allowed delivery. */
export function settleFailure(
  error: unknown,
  deliveryCount: number,
  policy: { readonly maxDeliver: number; readonly backoffMs: readonly number[] },
): Exclude<Settlement, { kind: 'ack' }> {
  if (deliveryCount >= policy.maxDeliver) return { kind: 'term', reason: 'max_deliver' };
  const delayMs =
    error instanceof RetryLaterError
      ? error.delayMs
      : backoffDelay(policy.backoffMs, deliveryCount);
  return { kind: 'nak', delayMs };
}
