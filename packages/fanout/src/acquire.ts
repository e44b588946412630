import type { AcquireOptions, Budget } from './types';

/** Adds up to 10% (at most 50 ms) so replicas woken by the same window do not retry in lockstep. */
export function withJitter(ms: number, random: () => number = Math.random): number {
  const spread = Math.min(50, Math.ceil(ms / 10));
  return ms + Math.floor(random() * (spread + 1));
}

/** Resolves after `ms`, or rejects with `signal.reason` as soon as the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The `acquire` loop shared by both limiters. */
export async function acquireLoop(
  tryAcquire: (budgets: readonly Budget[]) => Promise<number>,
  budgets: readonly Budget[],
  options: AcquireOptions = {},
): Promise<void> {
  const { signal, onWait } = options;
  for (;;) {
    signal?.throwIfAborted();
    const wait = await tryAcquire(budgets);
    if (wait <= 0) return;
    onWait?.(wait);
    await sleep(withJitter(wait), signal);
  }
}
