import type { SocketLimits } from './visitor-socket';

/**
 * The per-socket frame limit: a token bucket (`burst` frames, refilled at `perSec`), and a count
 * of refusals within a window, so a client that keeps sending after being told to slow down is
 * closed instead of costing an error frame per frame forever.
 */
export class FrameLimiter {
  #tokens: number;
  #refilledAt: number;
  #refused = 0;
  #refusedSince = 0;

  constructor(
    private readonly limits: Pick<
      SocketLimits,
      'burst' | 'perSec' | 'closeAfterRefused' | 'refusedWindowMs'
    >,
    now: number,
  ) {
    this.#tokens = limits.burst;
    this.#refilledAt = now;
  }

  /** `allow` takes a token; `refuse` drops the frame; `close` ends a sustained flood. */
  take(now: number): 'allow' | 'refuse' | 'close' {
    const { burst, perSec, closeAfterRefused, refusedWindowMs } = this.limits;
    this.#tokens = Math.min(burst, this.#tokens + ((now - this.#refilledAt) / 1000) * perSec);
    this.#refilledAt = now;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return 'allow';
    }
    if (this.#refused === 0 || now - this.#refusedSince > refusedWindowMs) {
      this.#refused = 0;
      this.#refusedSince = now;
    }
    this.#refused += 1;
    return this.#refused >= closeAfterRefused ? 'close' : 'refuse';
  }
}
