import type { ConversationService } from '@topicdesk/core';
import { messageEvent } from '@topicdesk/core';
import type { Bus } from '@topicdesk/bus';
import { topics } from '@topicdesk/bus';
import {
  ConversationClosedError,
  ConversationRepository,
  MessageRepository,
  type DB,
  type Kysely,
} from '@topicdesk/data';
import type { Coordination, Fanout, FanoutEvent } from '@topicdesk/fanout';
import {
  clientFrameSchema,
  MAX_TEXT_CHARS,
  messageTextProblem,
  type ConversationEvent,
  type ErrorFrame,
  type MessageTextProblem,
  type ServerFrame,
} from '@topicdesk/protocol';
import {
  context,
  ROOT_CONTEXT,
  SpanKind,
  trace,
  tracer,
  withSpan,
  type Logger,
} from '@topicdesk/telemetry';
import type { WebSocket } from 'ws';
import { ErrorCode } from './errors';
import type { GatewayMetrics } from './metrics';
import { spendQuota } from './quota';
import type { ConversationClaims } from './tokens';

export interface VisitorSocketDeps {
  db: Kysely<DB>;
  bus: Bus;
  coordination: Coordination;
  conversations: ConversationService;
  logger: Logger;
  metrics: GatewayMetrics;
  limits: SocketLimits;
}

export interface SocketLimits {
  /** Frames the bucket holds (WS_RATE_BURST). */
  burst: number;
  /** Frames per second the bucket refills (WS_RATE_PER_SEC). */
  perSec: number;
  maxPayload: number;
  messagesPerHour: number;
  /** Refused frames within `refusedWindowMs` after which the socket is closed with 4429. */
  closeAfterRefused: number;
  refusedWindowMs: number;
  /** Outgoing bytes a socket may hold unsent; a reader slower than that is closed with 4008. */
  maxBufferedBytes: number;
}

/** Close codes of the visitor socket beyond the standard ones (docs/errors.md). */
export const CloseCode = {
  /**
   * The socket's token expired ("token expired"): it was checked at the upgrade, and a socket
   * must not outlive it. Also a socket that reached the handler without claims ("unauthorized").
   */
  UNAUTHORIZED: 4401,
  /** The client kept sending after its frames were refused (`RATE_LIMITED`). */
  FRAME_FLOOD: 4429,
  /** The client did not read: more than `maxBufferedBytes` waited to be sent to it. */
  SLOW_CONSUMER: 4008,
  /** The conversation already has WS_MAX_SOCKETS_PER_CONVERSATION sockets on this replica. */
  TOO_MANY_SOCKETS: 4409,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

const HISTORY_PAGE = 500;
const TYPING_MIN_INTERVAL_MS = 2000;
const OPEN = 1;
/** How long a history fill waits for a socket to drain below its cap before giving up on it. */
const DRAIN_TIMEOUT_MS = 5_000;
/** After a close handshake is started, how long a client that does not read gets to finish it. */
const CLOSE_GRACE_MS = 5_000;
/** The longest delay setTimeout takes (about 24.8 days); a later expiry is waited for in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** The error frame of each reason a message's text is refused (docs/errors.md). */
const TEXT_REFUSED: Record<MessageTextProblem, [ErrorCode, string]> = {
  too_long: [ErrorCode.MESSAGE_TOO_LONG, `messages are limited to ${MAX_TEXT_CHARS} characters`],
  blank: [ErrorCode.INVALID_REQUEST, 'the message is empty'],
  control_characters: [
    ErrorCode.INVALID_REQUEST,
    'the message contains control characters (only tabs and line breaks are allowed)',
  ],
};

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
 * The open sockets of each fanout, told together when it recovered: one listener per fanout
 * rather than a closure per socket.
 */
const recovering = new WeakMap<Fanout, Set<VisitorSocket>>();

function socketsOf(fanout: Fanout): Set<VisitorSocket> {
  let sockets = recovering.get(fanout);
  if (!sockets) {
    const created = new Set<VisitorSocket>();
    fanout.onRecovered(() => {
      for (const socket of created) socket.recovered();
    });
    recovering.set(fanout, created);
    sockets = created;
  }
  return sockets;
}

/**
 * A settled promise outside any trace. A promise keeps the context it was made in (and so its
 * spans) for as long as it lives; the socket's queues live as long as the socket.
 */
function untraced(): Promise<void> {
  return context.with(ROOT_CONTEXT, () => Promise.resolve());
}

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

/**
 * One visitor connection. Everything that writes to the socket runs through one queue, so
 * frames leave in seq order; `lastSeq` is the highest seq the client holds without a gap and
 * `ahead` the seqs it holds above it (its own acked messages), so nothing is sent twice.
 */
export class VisitorSocket {
  #queue: Promise<void> = untraced();
  /** Tasks of `#queue` not settled yet. */
  #pending = 0;
  /** Visitor messages are stored one after another, so seqs follow the order they were sent in. */
  #inbound: Promise<void> = untraced();
  #lastSeq = 0;
  /** Made on first use: most sockets never need them, and thousands are open at once. */
  readonly #ahead = new LazySet<number>();
  readonly #frames: FrameLimiter;
  #lastTyping = 0;
  #unsubscribe: (() => Promise<void>) | undefined;
  #closed = false;
  /** Set once this side started closing (flood, slow consumer): nothing more is read or sent. */
  #closing = false;
  /** `lastSeq` when the socket opened; whatever it sends above that, the client holds. */
  #openSeq = 0;
  /** Whether the client sent a frame yet: a resume as its first frame may race live frames. */
  #heard = false;
  /** Seqs a resume must not send again: (from, to] went out on this socket before the resume. */
  #held: { from: number; to: number } | undefined;
  /** clientIds being stored: a gap fill must not echo the sender's own message back to it. */
  readonly #inFlight = new LazySet<string>();
  /** Every line about this socket names its conversation and socket (made on first use). */
  #logger: Logger | undefined;

  constructor(
    private readonly socket: WebSocket,
    private readonly claims: ConversationClaims,
    private readonly origin: string,
    private readonly deps: VisitorSocketDeps,
  ) {
    this.#frames = new FrameLimiter(deps.limits, Date.now());
  }

  get #log(): Logger {
    return (this.#logger ??= this.deps.logger.child({
      conversationId: this.claims.conversationId,
      socketId: this.origin,
    }));
  }

  /**
   * Subscribes to the conversation, then tells the client where the conversation stands. Runs
   * outside the upgrade request's trace: whatever the socket starts later (promises, timers)
   * would otherwise keep that request's context, and its spans, alive for the socket's life.
   */
  open(): Promise<void> {
    return context.with(ROOT_CONTEXT, () => {
      this.#listen();
      return this.#open();
    });
  }

  /** Listeners made outside `#open`, so that they keep nothing of it alive for the socket's life. */
  #listen(): void {
    this.socket.on('message', (data, isBinary) => this.#onFrame(data, isBinary));
    this.socket.on('close', () => void this.close());
    this.socket.on('error', (error) => this.#log.debug({ err: error }, 'visitor socket error'));
    this.#closeOnExpiry();
  }

  /**
   * The token was checked at the upgrade only: when it expires, the socket is closed with 4401,
   * and the client reconnects with the token it refreshed meanwhile (or refreshes first).
   */
  #closeOnExpiry(): void {
    const left = this.claims.expiresAt - Date.now();
    const timer = setTimeout(
      () => {
        if (left > MAX_TIMER_MS) return this.#closeOnExpiry();
        this.#shut(CloseCode.UNAUTHORIZED, 'token expired');
      },
      Math.min(Math.max(left, 0), MAX_TIMER_MS),
    );
    timer.unref();
    this.socket.once('close', () => clearTimeout(timer));
  }

  readonly #deliver = (event: FanoutEvent): void => this.#enqueue(() => this.#onEvent(event));

  async #open(): Promise<void> {
    // Nothing reaches the client before it knows where the conversation stands: the queue is
    // held until the status frame is out and `lastSeq` is set, so events published between
    // subscribing and reading the conversation are judged against it.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    this.#enqueue(() => gate);
    try {
      this.#unsubscribe = await this.deps.coordination.fanout.subscribe(
        this.claims.conversationId,
        this.#deliver,
      );
      const conversation = await new ConversationRepository(this.deps.db).get(
        this.claims.tenantId,
        this.claims.conversationId,
      );
      // Without a resume the client starts live from here.
      this.#lastSeq = Math.max(this.#lastSeq, conversation.last_seq);
      this.#openSeq = this.#lastSeq;
      this.#send({ type: 'status', status: conversation.status });
    } finally {
      release();
    }
    // Redis pub/sub keeps nothing: after a reconnect, whatever was published meanwhile is read
    // from the log (the fanout says so once its channels are subscribed again).
    socketsOf(this.deps.coordination.fanout).add(this);
    if (this.#closed) await this.close();
  }

  async close(): Promise<void> {
    this.#closed = true;
    socketsOf(this.deps.coordination.fanout).delete(this);
    const unsubscribe = this.#unsubscribe;
    this.#unsubscribe = undefined;
    await unsubscribe?.();
  }

  /** The fanout resubscribed after losing Redis: read what may have been published meanwhile. */
  recovered(): void {
    this.#enqueue(() => this.#fill(Number.MAX_SAFE_INTEGER));
  }

  /**
   * Starts the close handshake with `code`; a client that does not read never answers it, so the
   * connection is cut after a grace period either way, and its buffered bytes are freed.
   */
  #shut(code: CloseCode, reason: string): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#log.info(
      { code, reason, bufferedBytes: this.socket.bufferedAmount },
      'closing a visitor socket',
    );
    this.socket.close(code, reason);
    const timer = setTimeout(() => this.socket.terminate(), CLOSE_GRACE_MS);
    timer.unref();
    this.socket.once('close', () => clearTimeout(timer));
  }

  /**
   * Runs `task` after every task queued before it. With none queued or running (the usual case
   * for a live event) a task that finishes synchronously runs at once, without two promises and
   * their microtasks per frame.
   */
  #enqueue(task: () => Promise<void> | void): void {
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
    this.#log.warn({ err: error }, 'visitor socket task failed');
  }

  #send(frame: ServerFrame): void {
    if (this.socket.readyState !== OPEN || this.#closing) return;
    if (this.socket.bufferedAmount > this.deps.limits.maxBufferedBytes) {
      // The client is not reading; holding more for it would grow without bound. It reconnects
      // and resumes from the last seq it holds, so nothing is lost by dropping this frame.
      this.deps.metrics.rateLimited.add(1, { scope: 'ws_slow_consumer' });
      return this.#shut(CloseCode.SLOW_CONSUMER, 'slow consumer');
    }
    this.socket.send(JSON.stringify(frame));
    this.deps.metrics.framesOut.add(1, { type: frame.type });
    if (frame.type === 'message') this.deps.metrics.messagesOut.add(1, { kind: frame.kind });
  }

  /**
   * Writes a frame caused by a conversation event inside a PRODUCER span, child of the event's
   * trace (the fanout delivery runs in it), so a trace ends at the visitor's socket.
   */
  #sendTraced(frame: ServerFrame): void {
    // Unsampled (no exporter, or sampled out): the span would record nothing a child could add.
    if (trace.getActiveSpan()?.isRecording() !== true) return this.#send(frame);
    const span = tracer().startSpan(`ws send ${frame.type}`, {
      kind: SpanKind.PRODUCER,
      attributes: {
        'network.protocol.name': 'websocket',
        'topicdesk.conversation_id': this.claims.conversationId,
        ...('seq' in frame ? { 'topicdesk.seq': frame.seq } : {}),
      },
    });
    try {
      context.with(trace.setSpan(context.active(), span), () => this.#send(frame));
    } finally {
      span.end();
    }
  }

  #error(
    code: ErrorCode,
    message: string,
    extra?: Omit<ErrorFrame, 'type' | 'code' | 'message'>,
  ): void {
    this.#send({ type: 'error', code, message, ...extra });
  }

  /**
   * Waits until the socket has sent what it holds down to half its cap (a history fill writes
   * pages faster than a slow link takes them); a client that does not read meanwhile is closed.
   */
  async #drained(): Promise<boolean> {
    const cap = this.deps.limits.maxBufferedBytes;
    if (this.socket.bufferedAmount <= cap / 2) return true;
    const deadline = Date.now() + DRAIN_TIMEOUT_MS;
    while (this.socket.readyState === OPEN && !this.#closing) {
      if (this.socket.bufferedAmount <= cap / 2) return true;
      if (Date.now() > deadline) {
        this.deps.metrics.rateLimited.add(1, { scope: 'ws_slow_consumer' });
        this.#shut(CloseCode.SLOW_CONSUMER, 'slow consumer');
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return false;
  }

  #onFrame(data: unknown, isBinary: boolean): void {
    if (this.#closing) return;
    const raw = Buffer.isBuffer(data)
      ? data
      : Array.isArray(data)
        ? Buffer.concat(data)
        : Buffer.from(data as ArrayBuffer);
    this.deps.metrics.framesIn.add(1);
    const verdict = this.#frames.take(Date.now());
    if (verdict !== 'allow') {
      this.deps.metrics.rateLimited.add(1, { scope: 'ws_frame' });
      this.#error(ErrorCode.RATE_LIMITED, 'too many frames; slow down');
      if (verdict === 'close') {
        this.deps.metrics.rateLimited.add(1, { scope: 'ws_frame_flood' });
        this.#shut(CloseCode.FRAME_FLOOD, 'too many frames');
      }
      return;
    }
    if (raw.length > this.deps.limits.maxPayload) {
      return this.#error(
        ErrorCode.PAYLOAD_TOO_LARGE,
        `frames are limited to ${this.deps.limits.maxPayload} bytes`,
      );
    }
    if (isBinary) return this.#error(ErrorCode.INVALID_JSON, 'frames are JSON text');
    let json: unknown;
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch {
      return this.#error(ErrorCode.INVALID_JSON, 'the frame is not valid JSON');
    }
    const parsed = clientFrameSchema.safeParse(json);
    if (!parsed.success) {
      return this.#error(ErrorCode.INVALID_REQUEST, 'the frame does not match the protocol', {
        issues: parsed.error.issues.map((i) => `${i.path.join('.') || 'frame'}: ${i.message}`),
      });
    }
    const frame = parsed.data;
    const first = !this.#heard;
    this.#heard = true;
    switch (frame.type) {
      case 'message':
        return this.#onMessage(frame.clientId, frame.text);
      case 'typing':
        return this.#onTyping();
      case 'resume':
        return this.#enqueue(() => {
          // A client cannot hold a seq this socket never knew of; taken at its word, the socket
          // would skip every message up to it.
          if (frame.afterSeq > Math.max(this.#lastSeq, ...this.#ahead.values())) {
            return this.#error(
              ErrorCode.INVALID_REQUEST,
              'afterSeq is beyond the last message of the conversation',
              { afterSeq: frame.afterSeq, lastSeq: this.#lastSeq },
            );
          }
          return this.#resume(frame.afterSeq, first);
        });
      default: {
        const never: never = frame;
        return never;
      }
    }
  }

  #onMessage(clientId: string, text: string): void {
    const problem = messageTextProblem(text);
    if (problem) return this.#error(...TEXT_REFUSED[problem], { clientId });
    const started = performance.now();
    const { conversationId, tenantId } = this.claims;
    const store = async () => {
      // A resend of a message already stored (same clientId: a reconnect, a second tab, a
      // client that missed its ack) is acked again and costs nothing of the hourly quota.
      const stored = await new MessageRepository(this.deps.db).findByClientId(
        conversationId,
        clientId,
      );
      if (stored) {
        return this.#enqueue(() => {
          if (stored.seq > this.#lastSeq) this.#ahead.add(stored.seq);
          this.#advance();
          this.#send({ type: 'ack', clientId, seq: stored.seq });
        });
      }
      const quotaKey = `msg:${conversationId}`;
      const quota = await this.deps.coordination.quotas.hit(
        quotaKey,
        this.deps.limits.messagesPerHour,
        3_600_000,
      );
      if (!quota.allowed) {
        this.deps.metrics.rateLimited.add(1, { scope: 'messages_per_hour' });
        return this.#enqueue(() =>
          this.#error(
            ErrorCode.RATE_LIMITED,
            'too many messages in this conversation; try again later',
            {
              clientId,
              retryAfterMs: quota.retryAfterMs,
            },
          ),
        );
      }
      this.#inFlight.add(clientId);
      // A store that fails (UNAVAILABLE, a closed conversation) or finds the clientId stored
      // meanwhile (another socket) gives its unit back: the quota counts stored messages only.
      const { message, duplicate } = await spendQuota(
        this.deps.coordination.quotas,
        quotaKey,
        quota,
        this.#log,
        () =>
          this.deps.conversations.postVisitorMessage({
            tenantId,
            conversationId,
            clientId,
            text,
            origin: this.origin,
          }),
        (stored) => !stored.duplicate,
      );
      this.deps.metrics.ackLatency.record((performance.now() - started) / 1000);
      if (!duplicate) this.deps.metrics.messagesIn.add(1, { kind: 'visitor' });
      this.#enqueue(() => {
        this.#inFlight.delete(clientId);
        if (message.seq > this.#lastSeq) this.#ahead.add(message.seq);
        this.#advance();
        this.#send({ type: 'ack', clientId, seq: message.seq });
      });
    };
    // Each visitor message starts a trace of its own: store, outbox, NATS, bridge, Telegram.
    const traced = () =>
      withSpan(
        'ws message',
        {
          kind: SpanKind.SERVER,
          parent: ROOT_CONTEXT,
          attributes: {
            'network.protocol.name': 'websocket',
            'topicdesk.conversation_id': conversationId,
          },
        },
        store,
      );
    this.#inbound = this.#inbound.then(traced).catch((error: unknown) => {
      this.#enqueue(() => void this.#inFlight.delete(clientId));
      if (error instanceof ConversationClosedError) {
        return this.#enqueue(() =>
          this.#error(ErrorCode.CONVERSATION_CLOSED, 'the conversation is closed', { clientId }),
        );
      }
      this.#log.error({ err: error }, 'could not store a visitor message');
      this.#enqueue(() =>
        this.#error(ErrorCode.UNAVAILABLE, 'the message could not be stored; send it again', {
          clientId,
        }),
      );
    });
  }

  #onTyping(): void {
    const now = Date.now();
    if (now - this.#lastTyping < TYPING_MIN_INTERVAL_MS) return;
    this.#lastTyping = now;
    this.deps.bus.signal(topics.visitorTyping, {
      tenantId: this.claims.tenantId,
      conversationId: this.claims.conversationId,
    });
  }

  /** Sends every stored message after `afterSeq` the client lacks, oldest first. */
  async #resume(afterSeq: number, first: boolean): Promise<void> {
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
    const messages = new MessageRepository(this.deps.db);
    for (;;) {
      if (this.#closing || this.socket.readyState !== OPEN) return;
      const page = await messages.listAfter(
        this.claims.conversationId,
        this.#lastSeq,
        HISTORY_PAGE,
      );
      for (const message of page) {
        if (message.seq > untilSeq) return;
        if (!(await this.#drained())) return;
        const own = message.client_id !== null && this.#inFlight.has(message.client_id);
        const held =
          this.#held !== undefined && message.seq > this.#held.from && message.seq <= this.#held.to;
        if (!this.#ahead.has(message.seq) && !own && !held) {
          const { origin: _origin, ...frame } = messageEvent(message);
          this.#send(frame);
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
        const { origin, ...frame } = event;
        if (origin !== this.origin) {
          this.#sendTraced(frame);
          if (event.kind === 'agent') {
            const at = Date.parse(event.at);
            if (Number.isFinite(at))
              this.deps.metrics.deliveryLatency.record(Math.max(0, Date.now() - at) / 1000);
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
        this.#sendTraced(event);
        return;
      default: {
        const never: never = event;
        this.#log.warn({ event: never }, 'unknown conversation event dropped');
      }
    }
  }
}
