import { EventEmitter } from 'node:events';
import type { Bus } from '@topicdesk/bus';
import {
  ConversationService,
  createInfrastructure,
  DEFAULT_TENANT_ID,
  messageEvent,
  UnitOfWork,
  type Infrastructure,
  type Publisher,
  type VisitorMessageInput,
  type AttachmentService,
} from '@topicdesk/core';
import {
  createInProcessQuotaLimiter,
  type Coordination,
  type FanoutEvent,
  type FanoutListener,
  type QuotaLimiter,
} from '@topicdesk/fanout';
import { serverFrameSchema } from '@topicdesk/protocol';
import { createLogger } from '@topicdesk/telemetry';
import type { WebSocket } from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createGatewayMetrics } from './metrics';
import { FrameLimiter } from './frame-limiter';
import { CloseCode, VisitorSocket, type SocketLimits } from './visitor-socket';

const LIMITS: SocketLimits = {
  burst: 5,
  perSec: 1,
  maxPayload: 65_536,
  messagesPerHour: 50,
  closeAfterRefused: 4,
  refusedWindowMs: 10_000,
  maxBufferedBytes: 16_384,
};

describe('FrameLimiter', () => {
  it('allows a burst, then refills at the configured rate', () => {
    const limiter = new FrameLimiter(LIMITS, 0);
    for (let i = 0; i < 5; i++) expect(limiter.take(0)).toBe('allow');
    expect(limiter.take(0)).toBe('refuse');
    expect(limiter.take(1_000)).toBe('allow');
    expect(limiter.take(1_000)).toBe('refuse');
  });

  it('closes once the refusals within the window reach the limit', () => {
    const limiter = new FrameLimiter(LIMITS, 0);
    for (let i = 0; i < 5; i++) limiter.take(0);
    expect([limiter.take(1), limiter.take(2), limiter.take(3), limiter.take(4)]).toEqual([
      'refuse',
      'refuse',
      'refuse',
      'close',
    ]);
  });

  it('forgets refusals older than the window', () => {
    const limiter = new FrameLimiter({ ...LIMITS, perSec: 0.001 }, 0);
    for (let i = 0; i < 5; i++) limiter.take(0);
    for (let i = 0; i < 3; i++) expect(limiter.take(10)).toBe('refuse');
    // Eleven seconds later the earlier three no longer count: three more are refused, not closed.
    for (let i = 0; i < 3; i++) expect(limiter.take(11_000)).toBe('refuse');
    expect(limiter.take(11_001)).toBe('close');
  });
});

/** The parts of a `ws` socket the visitor socket uses, with the bytes it "holds" settable. */
class FakeSocket extends EventEmitter {
  readyState = 1;
  bufferedAmount = 0;
  readonly sent: Array<Record<string, unknown>> = [];
  closedWith: number | undefined;
  terminated = false;

  send(data: string): void {
    const frame = JSON.parse(data) as Record<string, unknown>;
    if (!serverFrameSchema.safeParse(frame).success) offProtocol.push(frame);
    this.sent.push(frame);
  }
  close(code: number): void {
    this.closedWith ??= code;
    this.readyState = 2;
  }
  terminate(): void {
    this.terminated = true;
    this.readyState = 3;
    this.emit('close');
  }
  frame(value: unknown): void {
    this.emit('message', Buffer.from(JSON.stringify(value)), false);
  }
  of(type: string) {
    return this.sent.filter((f) => f['type'] === type);
  }
}

/** A fanout whose deliveries and "Redis came back" the test drives by hand. */
class ManualFanout {
  readonly listeners = new Set<FanoutListener>();
  readonly recovered = new Set<() => void>();
  async subscribe(_id: string, listener: FanoutListener) {
    this.listeners.add(listener);
    return async () => void this.listeners.delete(listener);
  }
  deliver(event: FanoutEvent) {
    for (const listener of this.listeners) listener(event);
  }
  onRecovered(listener: () => void) {
    this.recovered.add(listener);
    return () => void this.recovered.delete(listener);
  }
}

/** Frames a socket sent that the protocol does not describe: there must be none. */
const offProtocol: unknown[] = [];
afterEach(() => {
  expect(offProtocol.splice(0)).toEqual([]);
});

const logger = createLogger({ service: 'gateway-test', level: 'silent' });
const metrics = createGatewayMetrics();
// Publishing is not what these tests are about; the outbox rows stay for the sweeper.
const publisher: Publisher = { publish: () => Promise.resolve() };
/** Embedded Postgres (PGlite), the in-process bus and fanout. */
const embedded = (migrate: boolean) =>
  createInfrastructure({ service: 'gateway-test', namespace: 'gateway-test', logger, migrate });

let infra: Infrastructure;
let uow: UnitOfWork;
let conversations: ConversationService;

beforeAll(async () => {
  infra = await embedded(true);
  uow = new UnitOfWork(infra.database.db, publisher);
  conversations = new ConversationService(uow);
}, 60_000);

afterAll(async () => {
  await infra?.close();
});

async function conversationWith(texts: string[]) {
  const conversation = await conversations.start({ tenantId: DEFAULT_TENANT_ID, channel: 'web' });
  for (const text of texts) await agentSays(conversation.id, text);
  return conversation.id;
}

let telegramMessageId = 0;
async function agentSays(conversationId: string, text: string) {
  return uow.run((work) =>
    conversations.postAgentMessage(work, {
      tenantId: DEFAULT_TENANT_ID,
      telegramUserId: 42,
      conversationId,
      text,
      authorName: 'Support',
      agentId: null,
      telegramChatId: -1001000000001,
      telegramMessageId: ++telegramMessageId,
    }),
  );
}

async function openSocket(
  conversationId: string,
  limits: Partial<SocketLimits> = {},
  with_: { conversations?: ConversationService; quotas?: QuotaLimiter; expiresAt?: number } = {},
) {
  const socket = new FakeSocket();
  const fanout = new ManualFanout();
  const deps = {
    bus: { signal: () => undefined } as unknown as Bus,
    coordination: { fanout, quotas: with_.quotas } as unknown as Coordination,
    conversations: with_.conversations ?? conversations,
    // No files in these tests: every page goes out as it is.
    attachments: {
      withAttachments: (page: readonly unknown[]) => Promise.resolve(page),
    } as unknown as AttachmentService,
    logger,
    metrics,
    limits: { ...LIMITS, ...limits },
  };
  const visitor = new VisitorSocket(
    socket as unknown as WebSocket,
    {
      conversationId,
      tenantId: DEFAULT_TENANT_ID,
      generation: 0,
      expiresAt: with_.expiresAt ?? Date.now() + 3_600_000,
    },
    'test:1',
    deps,
  );
  await visitor.open();
  return { socket, fanout, visitor, deps };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 50));
const seqs = (socket: FakeSocket) => socket.of('message').map((f) => f['seq']);

describe('VisitorSocket limits', () => {
  it('answers frames over the bucket with RATE_LIMITED, then closes a sustained flood with 4429', async () => {
    const { socket } = await openSocket(await conversationWith([]));
    for (let i = 0; i < 20; i++) socket.frame({ type: 'typing' });
    await settle();
    // 5 allowed (typing has no answer), 4 refused, the 4th of which closes; the rest is not read.
    expect(socket.of('error').map((f) => f['code'])).toEqual(Array(4).fill('RATE_LIMITED'));
    expect(socket.closedWith).toBe(CloseCode.FRAME_FLOOD);
  });

  it('closes a socket with 4008 instead of writing to it while it holds more than the cap', async () => {
    const { socket } = await openSocket(await conversationWith([]));
    socket.frame('not a frame');
    await settle();
    expect(socket.of('error')).toHaveLength(1);
    socket.bufferedAmount = LIMITS.maxBufferedBytes + 1;
    socket.frame('not a frame');
    await settle();
    expect(socket.of('error')).toHaveLength(1);
    expect(socket.closedWith).toBe(CloseCode.SLOW_CONSUMER);
  });

  it('gives a history fill time to drain, and closes with 4008 a reader that never does', async () => {
    const id = await conversationWith(['one', 'two', 'three']);
    const { socket } = await openSocket(id);
    socket.bufferedAmount = LIMITS.maxBufferedBytes;
    socket.frame({ type: 'resume', afterSeq: 0 });
    await settle();
    expect(seqs(socket)).toEqual([]);
    socket.bufferedAmount = 0;
    await settle();
    expect(seqs(socket)).toEqual([1, 2, 3]);
    expect(socket.closedWith).toBeUndefined();
  });
});

describe('VisitorSocket token expiry', () => {
  it('closes the socket with 4401 "token expired" when the token it was opened with expires', async () => {
    const { socket } = await openSocket(
      await conversationWith([]),
      {},
      {
        expiresAt: Date.now() + 150,
      },
    );
    await settle();
    expect(socket.closedWith).toBeUndefined();
    await vi.waitFor(() => expect(socket.closedWith).toBe(CloseCode.UNAUTHORIZED), {
      timeout: 2_000,
    });
    expect(CloseCode.UNAUTHORIZED).toBe(4401);
  });

  it('closes a socket whose token expired meanwhile at once', async () => {
    const { socket } = await openSocket(
      await conversationWith([]),
      {},
      {
        expiresAt: Date.now() - 1,
      },
    );
    await settle();
    expect(socket.closedWith).toBe(4401);
  });
});

/** Postgres gone after the resend check: reads answer, the store fails. */
class StoresFail extends ConversationService {
  readonly #down: ConversationService;
  constructor(down: UnitOfWork) {
    super(uow);
    this.#down = new ConversationService(down);
  }
  override postVisitorMessage(input: VisitorMessageInput) {
    return this.#down.postVisitorMessage(input);
  }
}

describe('VisitorSocket hourly quota', () => {
  it('does not count messages whose store failed with UNAVAILABLE against the hourly quota', async () => {
    const id = await conversationWith([]);
    // A database that is gone: every store fails as it would with Postgres down.
    const gone = await embedded(false);
    await gone.close();
    const quotas = createInProcessQuotaLimiter();
    const { socket, deps } = await openSocket(
      id,
      { messagesPerHour: 2, burst: 50 },
      { conversations: new StoresFail(new UnitOfWork(gone.database.db, publisher)), quotas },
    );
    for (let i = 0; i < 3; i++) socket.frame({ type: 'message', clientId: `c${i}`, text: 'hi' });
    await vi.waitFor(() => expect(socket.of('error')).toHaveLength(3), { timeout: 5_000 });
    expect(socket.of('error').map((f) => f['code'])).toEqual(Array(3).fill('UNAVAILABLE'));
    // Postgres is back: the quota of 2 is whole, and the third distinct message is refused.
    deps.conversations = conversations;
    for (const clientId of ['c0', 'c1', 'c2'])
      socket.frame({ type: 'message', clientId, text: 'hi' });
    await vi.waitFor(() => expect(socket.of('error')).toHaveLength(4), { timeout: 5_000 });
    expect(socket.of('ack').map((f) => [f['clientId'], f['seq']])).toEqual([
      ['c0', 1],
      ['c1', 2],
    ]);
    expect(socket.of('error')[3]).toMatchObject({ code: 'RATE_LIMITED', clientId: 'c2' });
  }, 30_000);
});

describe('VisitorSocket resume', () => {
  it('does not send again on resume what went out live before the resume frame was read', async () => {
    const id = await conversationWith(['one', 'two']);
    const { socket, fanout } = await openSocket(id);
    // Published between the socket's open and its resume: goes out live.
    const three = await agentSays(id, 'three');
    fanout.deliver(messageEvent(three));
    await settle();
    expect(seqs(socket)).toEqual([3]);
    socket.frame({ type: 'resume', afterSeq: 0 });
    await settle();
    expect(seqs(socket)).toEqual([3, 1, 2]);
  });

  it('takes a later resume at its word and sends again what it asks for', async () => {
    const id = await conversationWith(['one', 'two']);
    const { socket } = await openSocket(id);
    socket.frame({ type: 'typing' });
    socket.frame({ type: 'resume', afterSeq: 1 });
    await settle();
    expect(seqs(socket)).toEqual([2]);
    socket.frame({ type: 'resume', afterSeq: 0 });
    await settle();
    expect(seqs(socket)).toEqual([2, 1, 2]);
  });

  it('reads what was published while Redis was away once the fanout has recovered', async () => {
    const id = await conversationWith(['one']);
    const { socket, fanout } = await openSocket(id);
    socket.frame({ type: 'resume', afterSeq: 1 });
    await settle();
    // Stored, but its publish was lost: nothing arrives until the fanout says it is back.
    await agentSays(id, 'two');
    await agentSays(id, 'three');
    await settle();
    expect(seqs(socket)).toEqual([]);
    for (const recovered of fanout.recovered) recovered();
    await settle();
    expect(seqs(socket)).toEqual([2, 3]);
  });

  it('is no longer told about recoveries once closed', async () => {
    const id = await conversationWith(['one']);
    const { socket, fanout, visitor } = await openSocket(id);
    expect(fanout.recovered.size).toBe(1);
    await visitor.close();
    await agentSays(id, 'two');
    for (const recovered of fanout.recovered) recovered();
    await settle();
    expect(seqs(socket)).toEqual([]);
  });
});
