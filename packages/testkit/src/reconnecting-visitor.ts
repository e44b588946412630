import WebSocket from 'ws';
import type { Frame } from './visitor';
import { waitFor } from './waiters';

export interface ReconnectingVisitorOptions {
  /** Gateway (or load balancer) base URL, asked again on every connect. */
  url: string | (() => string);
  token: string;
  /** Loopback source address (127.0.0.x), to spread many sockets over several addresses. */
  localAddress?: string;
  /** Reconnect delay after a close: uniformly between these, in ms (default 50–500). */
  reconnectDelayMs?: readonly [number, number];
  /**
   * Send a message again this long after an `UNAVAILABLE` error frame for it, as the docs tell a
   * client to (same clientId; stored once). Off by default: a test that expects the error sees it.
   */
  retryUnavailableMs?: number;
}

/**
 * A visitor socket that behaves as the widget does on the wire, for failure tests with many
 * visitors: when its socket closes it reconnects after a short random delay, sends `resume`
 * after the highest seq it holds without a gap, and sends again every message not acked yet
 * (same `clientId`). It records every seq it received and how often, so a test can tell a gap
 * from a duplicate, and every error frame and close code it saw.
 */
export class ReconnectingVisitor {
  /**
   * How many times each seq arrived as a `message` frame; an ack counts once, and not at all when
   * its message came back first (a resend of a message stored before the socket died).
   */
  readonly received = new Map<number, number>();
  readonly errors: Frame[] = [];
  readonly closeCodes: number[] = [];
  /** Why connection attempts failed: an HTTP status refusing the upgrade, or a socket error. */
  readonly failures: string[] = [];
  /** Acked clientIds with their seq. */
  readonly acks = new Map<string, number>();
  /** Successful connections (1 for a visitor that never had to reconnect). */
  connects = 0;
  #socket: WebSocket | undefined;
  #open = false;
  #stopped = false;
  #contiguous = 0;
  readonly #unacked = new Map<string, string>();
  readonly #waiters = new Set<() => void>();
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: ReconnectingVisitorOptions) {}

  /** The highest seq held with every seq below it. */
  get lastSeq(): number {
    return this.#contiguous;
  }

  get connected(): boolean {
    return this.#open;
  }

  /** Seqs that arrived more than once. */
  get duplicates(): number[] {
    return [...this.received].filter(([, count]) => count > 1).map(([seq]) => seq);
  }

  /** Seqs missing below the highest one received. */
  get gaps(): number[] {
    const highest = Math.max(0, ...this.received.keys());
    const missing: number[] = [];
    for (let seq = 1; seq <= highest; seq++) if (!this.received.has(seq)) missing.push(seq);
    return missing;
  }

  get unacked(): number {
    return this.#unacked.size;
  }

  /** Connects; resolves once the first `status` frame arrived (or rejects if the upgrade fails). */
  start(): Promise<void> {
    return new Promise((resolve, reject) => this.#connect(resolve, reject));
  }

  /** Sends a message now if connected (and again after every reconnect until it is acked). */
  send(clientId: string, text: string): void {
    this.#unacked.set(clientId, text);
    if (this.#open) this.#write({ type: 'message', clientId, text });
  }

  /** Resolves once `check` holds; re-checked on every frame, close and every 100 ms. */
  async waitUntil(check: () => boolean, timeoutMs: number, description: string): Promise<void> {
    await waitFor(
      this.#waiters,
      check,
      timeoutMs,
      () => `timed out after ${timeoutMs} ms waiting for ${description}`,
    );
  }

  /** Closes for good: no more reconnects. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    const socket = this.#socket;
    if (!socket || socket.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      if (socket.readyState === WebSocket.CONNECTING) socket.terminate();
      else socket.close();
    });
  }

  #connect(onStatus?: () => void, onFailure?: (error: Error) => void): void {
    if (this.#stopped) return;
    const base = typeof this.options.url === 'string' ? this.options.url : this.options.url();
    const socket = new WebSocket(`${base.replace(/^http/, 'ws')}/v1/ws`, {
      headers: { authorization: `Bearer ${this.options.token}` },
      ...(this.options.localAddress ? { localAddress: this.options.localAddress } : {}),
    });
    this.#socket = socket;
    let failed = false;
    socket.on('open', () => {
      this.#open = true;
      this.connects += 1;
      this.#write({ type: 'resume', afterSeq: this.#contiguous });
      for (const [clientId, text] of this.#unacked)
        this.#write({ type: 'message', clientId, text });
    });
    socket.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString('utf8')) as Frame;
      this.#onFrame(frame);
      if (frame.type === 'status') {
        onStatus?.();
        onStatus = undefined;
        onFailure = undefined;
      }
      this.#wake();
    });
    socket.on('unexpected-response', (_request, response) => {
      failed = true;
      this.failures.push(`HTTP ${response.statusCode ?? '?'}`);
      onFailure?.(new Error(`upgrade refused: ${response.statusCode ?? 'no status'}`));
      onFailure = undefined;
      socket.terminate();
    });
    socket.on('error', (error) => {
      if (!this.#open && !failed) this.failures.push(error.message);
      if (!this.#open && !failed && onFailure) {
        failed = true;
        onFailure(error);
        onFailure = undefined;
      }
    });
    socket.on('close', (code) => {
      this.#open = false;
      this.closeCodes.push(code);
      this.#wake();
      // A first connect that failed is the caller's to handle; later ones are retried.
      if (this.#stopped || (onFailure && failed)) return;
      const [min, max] = this.options.reconnectDelayMs ?? [50, 500];
      this.#timer = setTimeout(() => this.#connect(), min + Math.random() * (max - min));
    });
  }

  #write(frame: Record<string, unknown>): void {
    if (this.#socket?.readyState === WebSocket.OPEN) this.#socket.send(JSON.stringify(frame));
  }

  #onFrame(frame: Frame): void {
    switch (frame.type) {
      case 'message':
        this.#hold(Number(frame['seq']));
        return;
      case 'ack': {
        const clientId = String(frame['clientId']);
        // A resent message acked a second time carries the same seq: that is no duplicate.
        if (this.acks.has(clientId)) return;
        this.acks.set(clientId, Number(frame['seq']));
        this.#unacked.delete(clientId);
        const seq = Number(frame['seq']);
        if (!this.received.has(seq)) this.#hold(seq);
        return;
      }
      case 'error': {
        this.errors.push(frame);
        const clientId = frame['clientId'];
        const retry = this.options.retryUnavailableMs;
        if (retry !== undefined && frame['code'] === 'UNAVAILABLE' && typeof clientId === 'string')
          setTimeout(() => {
            const text = this.#unacked.get(clientId);
            if (text !== undefined && this.#open && !this.#stopped)
              this.#write({ type: 'message', clientId, text });
          }, retry).unref();
        return;
      }
      default:
        return;
    }
  }

  #hold(seq: number): void {
    this.received.set(seq, (this.received.get(seq) ?? 0) + 1);
    while (this.received.has(this.#contiguous + 1)) this.#contiguous += 1;
  }

  #wake(): void {
    for (const wake of this.#waiters) wake();
  }
}
