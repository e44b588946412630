import {
  AttachmentError,
  ConversationClosedError,
  type AttachmentService,
  type ConversationService,
  type MessageWithFiles,
} from '@topicdesk/core';
import type { Bus } from '@topicdesk/bus';
import { topics } from '@topicdesk/bus';
import type { Coordination } from '@topicdesk/fanout';
import {
  clientFrameSchema,
  MAX_CAPTION_CHARS,
  MAX_TEXT_CHARS,
  messageTextProblem,
  type ErrorFrame,
  type MessageTextProblem,
  type ServerFrame,
} from '@topicdesk/protocol';
import {
  context,
  ROOT_CONTEXT,
  SpanKind,
  tenantLabel,
  trace,
  tracer,
  withSpan,
  type Logger,
} from '@topicdesk/telemetry';
import type { WebSocket } from 'ws';
import { ConversationFeed, untraced, type FeedSocket } from './conversation-feed';
import { ErrorCode } from './errors';
import { socketsOf } from './open-sockets';
import type { GatewayMetrics } from './metrics';
import { refund, spendQuota } from './quota';
import type { TenantQuotas } from './tenant-quotas';
import type { ConversationClaims } from './tokens';
import { FrameLimiter } from './frame-limiter';

export interface VisitorSocketDeps {
  bus: Bus;
  coordination: Coordination;
  conversations: ConversationService;
  attachments: AttachmentService;
  logger: Logger;
  metrics: GatewayMetrics;
  limits: SocketLimits;
  /** The site's plan limits (messagesPerHour), across replicas. */
  tenantQuotas?: TenantQuotas;
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
  /** The site has its plan's `concurrentSockets` open (`TENANT_QUOTA_EXCEEDED`), on every replica. */
  TENANT_QUOTA: 4429,
  /** The client did not read: more than `maxBufferedBytes` waited to be sent to it. */
  SLOW_CONSUMER: 4008,
  /** The conversation already has WS_MAX_SOCKETS_PER_CONVERSATION sockets on this replica. */
  TOO_MANY_SOCKETS: 4409,
  /** The conversation's tenant (site) was suspended or deleted (`TENANT_INACTIVE`). */
  TENANT_INACTIVE: 4403,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

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
  caption_too_long: [
    ErrorCode.MESSAGE_TOO_LONG,
    `captions are limited to ${MAX_CAPTION_CHARS} characters`,
  ],
  control_characters: [
    ErrorCode.INVALID_REQUEST,
    'the message contains control characters (only tabs and line breaks are allowed)',
  ],
};

/**
 * One visitor connection: what the client sends (messages, typing, resumes, reads), and the feed of
 * the conversation it is owed, in seq order (`ConversationFeed`: everything written to the
 * socket goes through its queue).
 */
export class VisitorSocket implements FeedSocket {
  readonly #feed: ConversationFeed;
  /** Visitor messages are stored one after another, so seqs follow the order they were sent in. */
  #inbound: Promise<void> = untraced();
  readonly #frames: FrameLimiter;
  #lastTyping = 0;
  /** The highest seq this socket passed on as read. */
  #readSeq = 0;
  #unsubscribe: (() => Promise<void>) | undefined;
  #closed = false;
  /** Set once this side started closing (flood, slow consumer): nothing more is read or sent. */
  #closing = false;
  /** Whether the client sent a frame yet: a resume as its first frame may race live frames. */
  #heard = false;
  /** Every line about this socket names its conversation and socket (made on first use). */
  #logger: Logger | undefined;

  constructor(
    private readonly socket: WebSocket,
    readonly claims: ConversationClaims,
    readonly origin: string,
    private readonly deps: VisitorSocketDeps,
  ) {
    this.#frames = new FrameLimiter(deps.limits, Date.now());
    this.#feed = new ConversationFeed(this, deps.metrics);
  }

  get #log(): Logger {
    return (this.#logger ??= this.deps.logger.child({
      tenantId: this.claims.tenantId,
      conversationId: this.claims.conversationId,
      socketId: this.origin,
    }));
  }

  // What its feed writes through and reads (FeedSocket).

  get log(): Logger {
    return this.#log;
  }

  send(frame: ServerFrame): void {
    this.#send(frame);
  }

  sendTraced(frame: ServerFrame): void {
    this.#sendTraced(frame);
  }

  writable(): boolean {
    return this.socket.readyState === OPEN && !this.#closing;
  }

  drained(): Promise<boolean> {
    return this.#drained();
  }

  async history(afterSeq: number, limit: number): Promise<MessageWithFiles[]> {
    const page = await this.deps.conversations.history(
      this.claims.tenantId,
      this.claims.conversationId,
      afterSeq,
      limit,
    );
    return this.deps.attachments.withAttachments(page);
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

  async #open(): Promise<void> {
    // Nothing reaches the client before it knows where the conversation stands: the queue is
    // held until the status frame is out and `lastSeq` is set, so events published between
    // subscribing and reading the conversation are judged against it.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    this.#feed.enqueue(() => gate);
    try {
      this.#unsubscribe = await this.deps.coordination.fanout.subscribe(
        this.claims.conversationId,
        this.#feed.deliver,
      );
      const conversation = await this.deps.conversations.find(
        this.claims.tenantId,
        this.claims.conversationId,
      );
      if (!conversation) throw new Error('the conversation is gone');
      this.#feed.opened(conversation.last_seq);
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

  /** Its tenant was suspended or deleted: told so, then closed (closeTenantSockets). */
  tenantInactive(): void {
    this.#send({
      type: 'error',
      code: ErrorCode.TENANT_INACTIVE,
      message: 'this site does not offer support chat at the moment',
    });
    this.#shut(CloseCode.TENANT_INACTIVE, 'site inactive');
  }

  /** The fanout resubscribed after losing Redis: read what may have been published meanwhile. */
  recovered(): void {
    this.#feed.recover();
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
    if (frame.type === 'message')
      this.deps.metrics.messagesOut.add(1, {
        kind: frame.kind,
        tenant: tenantLabel(this.claims.tenantId),
      });
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
        return this.#onMessage(frame.clientId, frame.text, frame.attachments);
      case 'typing':
        return this.#onTyping();
      case 'resume':
        return this.#feed.enqueue(() => {
          // A client cannot hold a seq this socket never knew of; taken at its word, the socket
          // would skip every message up to it.
          if (!this.#feed.knows(frame.afterSeq)) {
            return this.#error(
              ErrorCode.INVALID_REQUEST,
              'afterSeq is beyond the last message of the conversation',
              { afterSeq: frame.afterSeq, lastSeq: this.#feed.lastSeq },
            );
          }
          return this.#feed.resume(frame.afterSeq, first);
        });
      case 'read':
        // Queued like a resume: the seq is judged against what the socket has sent before it.
        return this.#feed.enqueue(() => this.#onRead(frame.seq));
      default: {
        const never: never = frame;
        return never;
      }
    }
  }

  /**
   * The visitor has seen the conversation up to `seq`. A seq the socket never sent cannot have
   * been seen; one not above what this socket passed on already changes nothing and costs no
   * write. Cosmetic: a failed write is logged, and the next read carries it on.
   */
  #onRead(seq: number): void {
    if (!this.#feed.knows(seq)) {
      return this.#error(
        ErrorCode.INVALID_REQUEST,
        'seq is beyond the last message of the conversation',
        { seq, lastSeq: this.#feed.lastSeq },
      );
    }
    if (seq <= this.#readSeq) return;
    this.#readSeq = seq;
    const { tenantId, conversationId } = this.claims;
    this.deps.conversations.visitorRead(tenantId, conversationId, seq).catch((error: unknown) => {
      this.#log.warn({ err: error, seq }, 'could not record what the visitor read');
    });
  }

  #onMessage(clientId: string, text: string, files: string[] | undefined): void {
    const problem = messageTextProblem(text, files !== undefined);
    if (problem) return this.#error(...TEXT_REFUSED[problem], { clientId });
    const started = performance.now();
    const { conversationId, tenantId } = this.claims;
    const ack = (seq: number) =>
      this.#feed.enqueue(() => {
        this.#feed.acked(seq);
        this.#send({ type: 'ack', clientId, seq });
      });
    const store = async () => {
      const quotaKey = `msg:${conversationId}`;
      const quota = await this.deps.coordination.quotas.hit(
        quotaKey,
        this.deps.limits.messagesPerHour,
        3_600_000,
      );
      // A resend of a message already stored (same clientId: a reconnect, a second tab, a
      // client that missed its ack) is acked again even past a quota. Looked up only then:
      // below, the store finds it itself and gives the units back.
      const resent = async () =>
        this.deps.conversations.visitorMessage(this.claims.tenantId, conversationId, clientId);
      if (!quota.allowed) {
        const stored = await resent();
        if (stored) return ack(stored.seq);
        this.deps.metrics.rateLimited.add(1, {
          scope: 'messages_per_hour',
          tenant: tenantLabel(tenantId),
        });
        return this.#feed.enqueue(() =>
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
      const tenant = (await this.deps.tenantQuotas?.attempt(tenantId, 'messagesPerHour')) ?? {};
      if (tenant.refused) {
        const { code, message, ...extra } = tenant.refused;
        // The conversation's unit pays for nothing now.
        await refund(this.deps.coordination.quotas, quotaKey, quota, this.#log);
        const stored = await resent();
        if (stored) return ack(stored.seq);
        return this.#feed.enqueue(() => this.#error(code, message, { clientId, ...extra }));
      }
      this.#feed.storing(clientId);
      // Files are checked (scan, type, re-encode) before the message is stored: a refused one
      // stores nothing, and the error frame names its code. A store that fails (UNAVAILABLE, a
      // closed conversation, a refused file) or finds the
      // clientId stored meanwhile (another socket) gives its units back: the quotas count stored
      // messages only.
      const { message, duplicate } = await spendQuota(
        this.deps.coordination.quotas,
        quotaKey,
        quota,
        this.#log,
        () => {
          const post = async () => {
            const attachments =
              files && (await this.deps.attachments.prepare(tenantId, conversationId, files));
            return this.deps.conversations.postVisitorMessage({
              tenantId,
              conversationId,
              clientId,
              text,
              origin: this.origin,
              attachments,
            });
          };
          const { tenantQuotas } = this.deps;
          return tenantQuotas
            ? tenantQuotas.spend(tenant.taken, this.#log, post, (stored) => !stored.duplicate)
            : post();
        },
        (stored) => !stored.duplicate,
      );
      this.deps.metrics.ackLatency.record((performance.now() - started) / 1000);
      if (!duplicate)
        this.deps.metrics.messagesIn.add(1, { kind: 'visitor', tenant: tenantLabel(tenantId) });
      this.#feed.enqueue(() => this.#feed.stored(clientId));
      ack(message.seq);
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
      this.#feed.enqueue(() => this.#feed.stored(clientId));
      if (error instanceof ConversationClosedError) {
        return this.#feed.enqueue(() =>
          this.#error(ErrorCode.CONVERSATION_CLOSED, 'the conversation is closed', { clientId }),
        );
      }
      if (AttachmentError.is(error))
        return this.#feed.enqueue(() => this.#error(error.code, error.message, { clientId }));
      this.#log.error({ err: error }, 'could not store a visitor message');
      this.#feed.enqueue(() =>
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
}
