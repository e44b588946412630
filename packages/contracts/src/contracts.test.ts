import { describe, expect, it } from 'vitest';
import {
  ConversationSyncSchema,
  SyncReason,
  TelegramUpdateSchema,
  create,
  fromBinary,
  timestampDate,
  timestampFromDate,
  toBinary,
} from './index';

describe('contracts', () => {
  it('round-trips a ConversationSync through the binary wire format', () => {
    const message = create(ConversationSyncSchema, {
      tenantId: 'default',
      conversationId: 'c-1',
      reason: SyncReason.VISITOR_MESSAGE,
    });
    const decoded = fromBinary(ConversationSyncSchema, toBinary(ConversationSyncSchema, message));
    expect(decoded.conversationId).toBe('c-1');
    expect(decoded.reason).toBe(SyncReason.VISITOR_MESSAGE);
  });

  it('keeps a TelegramUpdate payload byte for byte and its 64-bit update id', () => {
    const payload = new TextEncoder().encode('{"update_id":9007199254740993,"message":{}}');
    const receivedAt = new Date('2026-01-02T03:04:05.678Z');
    const message = create(TelegramUpdateSchema, {
      updateId: 9007199254740993n,
      botId: '123',
      payload,
      receivedAt: timestampFromDate(receivedAt),
    });
    const decoded = fromBinary(TelegramUpdateSchema, toBinary(TelegramUpdateSchema, message));
    expect(decoded.updateId).toBe(9007199254740993n);
    expect(decoded.payload).toEqual(payload);
    expect(decoded.receivedAt && timestampDate(decoded.receivedAt)).toEqual(receivedAt);
  });
});
