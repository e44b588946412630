import { messageEvent, type MessageWithFiles } from '@topicdesk/core';
import type { FanoutEvent } from '@topicdesk/fanout';
import type { ConversationEvent, ServerFrame } from '@topicdesk/protocol';
import { context, ROOT_CONTEXT, type Logger } from '@topicdesk/telemetry';
import type { GatewayMetrics } from './metrics';

const HISTORY_PAGE = 500;

/**
 * The socket a feed writes to, and what it reads through (the visitor socket implements it on
 * its prototype: thousands of sockets are open at once, none pays for closures).
 */
export interface FeedSocket {
  /** The socket's origin marker: its own messages come back as acks, not as messages. */
  readonly origin: string;
  send(frame: ServerFrame): void;
  /** A frame caused by a conversation event, written inside the event's trace. */
  sendTraced(frame: ServerFrame): void;
  /** Whether frames can still be written (the socket is open and not closing). */
  writable(): boolean;
  /** Waits until the socket has room again; false when it was closed instead. */
  drained(): Promise<boolean>;
  /** The conversation's stored messages after `afterSeq`, oldest first. */
  history(afterSeq: number, limit: number): Promise<MessageWithFiles[]>;
  /** Every line about this socket names its conversation and socket. */
  readonly log: Logger;
}

/** A set that allocates its table on the first add. */
class LazySet<T> {
  #set: Set<T> | undefined;
  add(value: T): void {
    (this.#set ??= new Set()).add(value);
  }
  has(value: T): boolean {
    return this.#set?.has(value) ?? false;
  }
  delete(value: T): void {
    this.#set?.delete(value);
  }
  values(): T[] {
    return this.#set ? [...this.#set] : [];
  }
}

/**
 * A settled promise outside any trace. A promise keeps the context it was made in (and so its
 * spans) for as long as it lives; the socket's queues live as long as the socket.
 */
export function untraced(): Promise<void> {
  return context.with(ROOT_CONTEXT, () => Promise.resolve());
}

/**
 * What one socket owes its client of the conversation, in seq order. Everything that writes to
 * the socket runs through one queue, so frames leave in seq order; `lastSeq` is the highest seq
 * the client holds without a gap and `ahead` the seqs it holds above it (its own acked messages),
 * so nothing is sent twice; a gap (a lost publish, a Redis reconnect, a resume) is read from the
 * log.
 */
export class ConversationFeed {
  #queue: Promise<void> = untraced();
  /** Tasks of `#queue` not settled yet. */
  #pending = 0;
  #lastSeq = 0;
  /** Made on first use: most sockets never need them, and thousands are open at once. */
  readonly #ahead = new LazySet<number>();
  /** `lastSeq` when the socket opened; whatever it sends above that, the client holds. */
  #openSeq = 0;
  /** Seqs a resume must not send again: (from, to] went out on this socket before the resume. */
  #held: { from: number; to: number } | undefined;
  /** clientIds being stored: a gap fill must not echo the sender's own message back to it. */
  readonly #inFlight = new LazySet<string>();

  constructor(
    private readonly socket: FeedSocket,
    private readonly metrics: GatewayMetrics,
  ) {}

  get lastSeq(): number {
    return this.#lastSeq;
  }

  /**
   * Runs `task` after every task queued before it. With none queued or running (the usual case
   * for a live event) a task that finishes synchronously runs at once, without two promises and
   * their microtasks per frame.
   */
  enqueue(task: () => Promise<void> | void): void {
    if (this.#pending === 0) {
      let result: Promise<void> | void;
      try {
        result = task();
      } catch (error) {
        return this.#taskFailed(error);
      }
      if (result !== undefined) this.#track(result);
      return;
    }
    this.#track(this.#queue.then(task));
  }

  #track(running: Promise<void>): void {
    this.#pending += 1;
    this.#queue = running
      .catch((error: unknown) => this.#taskFailed(error))
      .finally(() => {
        this.#pending -= 1;
      });
  }

  #taskFailed(error: unknown): void {
    this.socket.log.warn({ err: error }, 'visitor socket task failed');
  }

  /** A conversation event from the fanout, judged against what the client holds. */
  readonly deliver = (event: FanoutEvent): void => this.enqueue(() => this.#onEvent(event));

  /** The socket opened at `lastSeq`: without a resume the client starts live from there. */
  opened(lastSeq: number): void {
    this.#lastSeq = Math.max(this.#lastSeq, lastSeq);
    this.#openSeq = this.#lastSeq;
  }

  /** The fanout resubscribed after losing Redis: read what may have been published meanwhile. */
  recover(): void {
    this.enqueue(() => this.#fill(Number.MAX_SAFE_INTEGER));
  }

  /** A visitor message of this socket is being stored (its clientId). */
  storing(clientId: string): void {
    this.#inFlight.add(clientId);
  }

  /** Its store ended (acked or failed). */
  stored(clientId: string): void {
    this.#inFlight.delete(clientId);
  }

  /** The client holds `seq`: its own message, acked. */
  acked(seq: number): void {
    if (seq > this.#lastSeq) this.#ahead.add(seq);
    this.#advance();
  }

  /** Whether the client can hold `seq`: a seq this socket never knew of, it cannot. */
  knows(seq: number): boolean {
    return seq <= Math.max(this.#lastSeq, ...this.#ahead.values());
  }

  /**
   * Sends every stored message after `afterSeq` the client lacks, oldest first. `first`: the
   * resume is the client's first frame.
   */
  async resume(afterSeq: number, first: boolean): Promise<void> {
    // A client resumes as soon as it is connected, and events published since this socket
    // opened may have gone out before its resume frame was read: those it holds already. A
    // resume later on is taken at its word.
    if (first && this.#lastSeq > Math.max(this.#openSeq, afterSeq))
      this.#held = { from: Math.max(this.#openSeq, afterSeq), to: this.#lastSeq };
    this.#lastSeq = afterSeq;
    for (const seq of this.#ahead.values()) if (seq <= afterSeq) this.#ahead.delete(seq);
    try {
      await this.#fill(Number.MAX_SAFE_INTEGER);
    } finally {
      this.#held = undefined;
    }
  }

  async #fill(untilSeq: number): Promise<void> {
    const { socket } = this;
    for (;;) {
      if (!socket.writable()) return;
      const page = await socket.history(this.#lastSeq, HISTORY_PAGE);
      for (const message of page) {
        if (message.seq > untilSeq) return;
        if (!(await socket.drained())) return;
        const own = message.client_id !== null && this.#inFlight.has(message.client_id);
        const held =
          this.#held !== undefined && message.seq > this.#held.from && message.seq <= this.#held.to;
        if (!this.#ahead.has(message.seq) && !own && !held) {
          const { origin: _origin, ...frame } = messageEvent(
            message,
            undefined,
            message.attachments,
          );
          socket.send(frame);
        }
        this.#lastSeq = message.seq;
        this.#ahead.delete(message.seq);
      }
      if (page.length < HISTORY_PAGE) return;
    }
  }

  #advance(): void {
    while (this.#ahead.has(this.#lastSeq + 1)) {
      this.#ahead.delete(this.#lastSeq + 1);
      this.#lastSeq += 1;
    }
  }

  /** Returns a promise only when it must wait (a gap read from the log). */
  #onEvent(raw: FanoutEvent): Promise<void> | void {
    const event = raw as ConversationEvent;
    switch (event.type) {
      case 'message': {
        if (event.seq <= this.#lastSeq || this.#ahead.has(event.seq)) return;
        if (event.seq > this.#lastSeq + 1) {
          // Something was missed (a lost publish, a Redis reconnect): read the gap from the log.
          return this.#fill(event.seq);
        }
        // An agent's files arrive unsigned (the bridge cannot sign): read it with fresh links.
        if (event.files !== undefined) return this.#fill(event.seq);
        const { origin, files: _files, ...frame } = event;
        if (origin !== this.socket.origin) {
          this.socket.sendTraced(frame);
          if (event.kind === 'agent') {
            const at = Date.parse(event.at);
            if (Number.isFinite(at))
              this.metrics.deliveryLatency.record(Math.max(0, Date.now() - at) / 1000);
          }
        }
        this.#lastSeq = event.seq;
        this.#advance();
        return;
      }
      case 'edit':
      case 'receipt':
      case 'status':
      case 'system':
        this.socket.sendTraced(event);
        return;
      default: {
        const never: never = event;
        this.socket.log.warn({ event: never }, 'unknown conversation event dropped');
      }
    }
  }
}
