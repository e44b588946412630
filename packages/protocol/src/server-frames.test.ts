import { describe, expect, it } from 'vitest';
import { conversationEventSchema, historyMessageSchema, serverFrameSchema } from './server-frames';

const at = '2025-05-06T07:08:09.123Z';

describe('serverFrameSchema', () => {
  it.each([
    // The frames of docs/contract.md, as the gateway sends them.
    { type: 'ack', clientId: 'c-1', seq: 1 },
    { type: 'message', seq: 2, kind: 'agent', text: 'Hi!', author: 'Maria', at },
    { type: 'message', seq: 3, kind: 'visitor', text: 'from the other tab', at },
    { type: 'edit', seq: 2, text: 'Hi there!', editedAt: at },
    { type: 'receipt', seq: 1, state: 'delivered' },
    { type: 'receipt', seq: 1, state: 'retrying' },
    { type: 'receipt', seq: 1, state: 'failed', code: 'BRIDGE_TELEGRAM_REJECTED' },
    { type: 'status', status: 'open' },
    { type: 'status', status: 'closed' },
    { type: 'error', code: 'INVALID_JSON', message: 'the frame is not valid JSON' },
    // What they carry beyond it (docs/errors.md, system templates, retractions).
    { type: 'message', seq: 4, kind: 'agent', text: 'Hi', at, editedAt: at },
    { type: 'message', seq: 4, kind: 'agent', text: '', at, editedAt: at, deleted: true },
    {
      type: 'message',
      seq: 5,
      kind: 'system',
      text: 'We are away',
      author: 'Topicdesk',
      at,
      banner: true,
    },
    { type: 'edit', seq: 4, text: '', editedAt: at, deleted: true },
    { type: 'system', key: 'agents_away', text: 'We answer within a day', banner: true },
    { type: 'error', code: 'MESSAGE_TOO_LONG', message: 'too long', clientId: 'c-2' },
    { type: 'error', code: 'RATE_LIMITED', message: 'later', clientId: 'c-3', retryAfterMs: 1200 },
    { type: 'error', code: 'INVALID_REQUEST', message: 'no match', issues: ['clientId: Required'] },
    { type: 'error', code: 'INVALID_REQUEST', message: 'beyond', afterSeq: 9, lastSeq: 3 },
    {
      type: 'error',
      code: 'TENANT_QUOTA_EXCEEDED',
      message: 'later',
      clientId: 'c-4',
      limit: 'messagesPerHour',
      retryAfterMs: 1200,
    },
  ])('accepts %j', (frame) => {
    expect(serverFrameSchema.parse(frame)).toEqual(frame);
  });

  it.each([
    ['an unknown type', { type: 'hello' }],
    ['an ack without seq', { type: 'ack', clientId: 'c-1' }],
    ['a seq of 0 (seqs start at 1)', { type: 'ack', clientId: 'c-1', seq: 0 }],
    ['a seq beyond the 32-bit column', { type: 'ack', clientId: 'c-1', seq: 2 ** 31 }],
    ['an unknown kind', { type: 'message', seq: 1, kind: 'bot', text: 'x', at }],
    [
      'a time that is not ISO 8601',
      { type: 'message', seq: 1, kind: 'agent', text: 'x', at: 'now' },
    ],
    [
      'deleted: false (absent, not false)',
      { type: 'edit', seq: 1, text: '', editedAt: at, deleted: false },
    ],
    ['an unknown receipt state', { type: 'receipt', seq: 1, state: 'read' }],
    ['an unknown status', { type: 'status', status: 'archived' }],
    ['a system banner without banner', { type: 'system', key: 'k', text: 'x' }],
    ['an error without message', { type: 'error', code: 'UNAVAILABLE' }],
  ])('refuses %s', (_name, frame) => {
    expect(serverFrameSchema.safeParse(frame).success).toBe(false);
  });

  it('refuses what must never reach a visitor: the origin marker, trace context', () => {
    const frame = { type: 'message', seq: 1, kind: 'visitor', text: 'x', at };
    expect(serverFrameSchema.safeParse({ ...frame, origin: 'a1b2c3d4:7' }).success).toBe(false);
    expect(serverFrameSchema.safeParse({ ...frame, _trace: {} }).success).toBe(false);
  });
});

describe('conversationEventSchema', () => {
  it('carries the message frame with the origin of the socket that sent it', () => {
    const event = { type: 'message', seq: 1, kind: 'visitor', text: 'x', at, origin: 'a1b2c3d4:7' };
    expect(conversationEventSchema.parse(event)).toEqual(event);
  });

  it('carries edits, receipts, status changes and banners, and no ack or error (those are per socket)', () => {
    expect(conversationEventSchema.safeParse({ type: 'status', status: 'closed' }).success).toBe(
      true,
    );
    expect(conversationEventSchema.safeParse({ type: 'ack', clientId: 'c', seq: 1 }).success).toBe(
      false,
    );
    expect(
      conversationEventSchema.safeParse({ type: 'error', code: 'X', message: 'x' }).success,
    ).toBe(false);
  });
});

describe('historyMessageSchema', () => {
  it('is a message frame without its type: no banner, no origin', () => {
    const message = { seq: 1, kind: 'agent', text: 'Hi', author: 'Maria', at };
    expect(historyMessageSchema.parse(message)).toEqual(message);
    expect(historyMessageSchema.safeParse({ ...message, type: 'message' }).success).toBe(false);
    expect(historyMessageSchema.safeParse({ ...message, banner: true }).success).toBe(false);
  });
});
