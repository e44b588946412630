import type { Update } from './telegram.types';

// Delivers one bot's pending updates to its webhook, oldest first and one at a time, as
// Telegram does for max_connections=1. A 2xx removes the update; anything else keeps it
// pending and retries with exponential backoff (200 ms doubling to 5 s).

export const WEBHOOK_BACKOFF_START_MS = 200;
export const WEBHOOK_BACKOFF_MAX_MS = 5_000;
export const WEBHOOK_TIMEOUT_MS = 10_000;

export interface PendingDelivery {
  update: Update;
  url: string;
  secretToken?: string;
}

export interface WebhookTarget {
  /** The oldest pending update and where to send it, or undefined when there is nothing to do. */
  next(): PendingDelivery | undefined;
  delivered(updateId: number, replyBody: unknown): void;
  failed(message: string): void;
}

export class WebhookDelivery {
  private running = false;
  private stopped = false;
  private backoffMs = WEBHOOK_BACKOFF_START_MS;
  private wake: (() => void) | undefined;
  private readonly abort = new AbortController();

  constructor(
    private readonly target: WebhookTarget,
    private readonly timeoutMs = WEBHOOK_TIMEOUT_MS,
  ) {}

  /** There may be something new to deliver; `retryNow` also cuts a backoff wait short. */
  kick(retryNow = false): void {
    if (this.stopped) return;
    if (retryNow) {
      this.backoffMs = WEBHOOK_BACKOFF_START_MS;
      this.wake?.();
    }
    if (this.running) return;
    this.running = true;
    void this.run();
  }

  stop(): void {
    this.stopped = true;
    this.abort.abort();
    this.wake?.();
  }

  private async run(): Promise<void> {
    try {
      for (let next = this.target.next(); next && !this.stopped; next = this.target.next()) {
        const error = await this.deliver(next);
        if (this.stopped) return;
        if (error === undefined) {
          this.backoffMs = WEBHOOK_BACKOFF_START_MS;
          continue;
        }
        this.target.failed(error);
        await this.sleep(this.backoffMs);
        this.backoffMs = Math.min(this.backoffMs * 2, WEBHOOK_BACKOFF_MAX_MS);
      }
    } finally {
      this.running = false;
    }
  }

  /** Sends one update; answers undefined on success or Telegram's wording of the failure. */
  private async deliver(next: PendingDelivery): Promise<string | undefined> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (next.secretToken) headers['x-telegram-bot-api-secret-token'] = next.secretToken;
    let response: Response;
    try {
      response = await fetch(next.url, {
        method: 'POST',
        headers,
        body: JSON.stringify(next.update),
        signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.timeoutMs)]),
      });
    } catch (error) {
      return describeNetworkError(error);
    }
    if (!response.ok) {
      await response.body?.cancel();
      return `Wrong response from the webhook: ${response.status} ${response.statusText}`.trim();
    }
    let body: string;
    try {
      body = await response.text();
    } catch (error) {
      return describeNetworkError(error);
    }
    this.target.delivered(next.update.update_id, parseReply(body));
    return undefined;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = undefined;
        done();
      };
    });
  }
}

/** A webhook answer may carry one Bot API call ("webhook reply"). */
function parseReply(body: string): unknown {
  if (body.trim() === '') return undefined;
  try {
    return JSON.parse(body) as unknown;
  } catch {
    // Telegram ignores an answer that is not JSON; so does the sandbox.
    return undefined;
  }
}

function describeNetworkError(error: unknown): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return 'Read timeout expired';
  }
  // fetch wraps the socket error: `cause` has the code, or an AggregateError of attempts does.
  const cause =
    error instanceof Error
      ? (error.cause as { code?: unknown; errors?: unknown } | undefined)
      : undefined;
  const attempts = Array.isArray(cause?.errors) ? (cause.errors as Array<{ code?: unknown }>) : [];
  const code = cause?.code ?? attempts[0]?.code;
  if (code === 'ECONNREFUSED') return 'Connection refused';
  if (code === 'ECONNRESET') return 'Connection reset by peer';
  if (code === 'ENOTFOUND') return 'Failed to resolve host: Name or service not known';
  if (cause instanceof Error) return cause.message;
  return error instanceof Error ? error.message : String(error);
}
