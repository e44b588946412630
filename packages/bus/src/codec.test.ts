import { ConversationSyncSchema, SyncReason } from '@topicdesk/contracts';
import { describe, expect, it } from 'vitest';
import { decode, encode } from './codec';
import { BusInvalidPayloadError } from './errors';

describe('codec', () => {
  it('encodes an init shape and decodes it back', () => {
    const bytes = encode(ConversationSyncSchema, {
      tenantId: 't',
      conversationId: 'c',
      reason: SyncReason.RETRY,
    });
    expect(decode(ConversationSyncSchema, bytes)).toMatchObject({
      tenantId: 't',
      conversationId: 'c',
      reason: SyncReason.RETRY,
    });
  });

  it('reports bytes that are not the schema as BusInvalidPayloadError', () => {
    expect(() => decode(ConversationSyncSchema, new Uint8Array([0xff, 0xff, 0xff]))).toThrow(
      BusInvalidPayloadError,
    );
  });
});
