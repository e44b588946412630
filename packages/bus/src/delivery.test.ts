import { ConversationSyncSchema, SyncReason } from '@topicdesk/contracts';
import { describe, expect, it, vi } from 'vitest';
import type { BusLogger, DeadLetter } from './bus';
import { encode } from './codec';
import { processDelivery, type Processor, type RawDelivery } from './delivery';
import { RetryLaterError } from './errors';
import { normalizeConsumeOptions } from './options';
import { topics } from './topics';

const payload = encode(ConversationSyncSchema, {
  tenantId: 'default',
  conversationId: 'c-1',
  reason: SyncReason.VISITOR_MESSAGE,
});

function processor(
  handler: Processor<typeof ConversationSyncSchema>['handler'],
  onDeadLetter?: (deadLetter: DeadLetter) => void | Promise<void>,
) {
  const error = vi.fn();
  const warn = vi.fn();
  const logger: BusLogger = { debug: vi.fn(), info: vi.fn(), warn, error };
  const options = normalizeConsumeOptions({
    durable: 'bridge',
    maxDeliver: 3,
    backoffMs: [100, 200],
    ...(onDeadLetter ? { onDeadLetter } : {}),
  });
  return {
    loggedError: error,
    loggedWarn: warn,
    processor: {
      topic: topics.conversationSync,
      options,
      handler,
      target: { system: 'test', destination: 'conversation.sync', consumerGroup: 'bridge' },
      logger,
    } satisfies Processor<typeof ConversationSyncSchema>,
  };
}

function raw(deliveryCount: number, bytes = payload): RawDelivery {
  return {
    payload: bytes,
    headers: {},
    deliveryCount,
    msgId: 'm-1',
    publishedAt: undefined,
    working() {},
  };
}

describe('processDelivery', () => {
  it('acks when the handler resolves, handing it the decoded message', async () => {
    const handler = vi.fn(async () => {});
    const { processor: p } = processor(handler);
    await expect(processDelivery(p, raw(1))).resolves.toEqual({ kind: 'ack' });
    expect(handler).toHaveBeenCalledWith(
      expect.objectContaining({ subject: 'conversation.sync', deliveryCount: 1, msgId: 'm-1' }),
    );
  });

  it('naks with the backoff, then terminates and dead-letters on the last delivery', async () => {
    const deadLetters: DeadLetter[] = [];
    const { processor: p } = processor(
      async () => {
        throw new Error('boom');
      },
      (deadLetter) => void deadLetters.push(deadLetter),
    );
    await expect(processDelivery(p, raw(1))).resolves.toEqual({ kind: 'nak', delayMs: 100 });
    await expect(processDelivery(p, raw(3))).resolves.toEqual({
      kind: 'term',
      reason: 'max_deliver',
    });
    expect(deadLetters).toHaveLength(1);
    expect(deadLetters[0]?.error).toEqual({ code: 'BUS_HANDLER_FAILED', message: 'boom' });
  });

  it('logs a failure, and its dead letter, with the tenant the payload names', async () => {
    const tenantPayload = encode(ConversationSyncSchema, {
      tenantId: 'acme',
      conversationId: 'c-2',
      reason: SyncReason.VISITOR_MESSAGE,
    });
    const {
      processor: p,
      loggedWarn,
      loggedError,
    } = processor(async () => {
      throw new Error('boom');
    });
    await processDelivery(p, raw(1, tenantPayload));
    expect(loggedWarn).toHaveBeenCalledWith(
      expect.objectContaining({ tenantId: 'acme', subject: 'conversation.sync' }),
      'handler failed',
    );
    await processDelivery(p, raw(3, tenantPayload));
    expect(loggedError).toHaveBeenCalledWith(
      expect.objectContaining({ tenantId: 'acme', reason: 'max_deliver' }),
      'message dead-lettered',
    );
  });

  it('uses the delay of a RetryLaterError', async () => {
    const { processor: p } = processor(async () => {
      throw new RetryLaterError('429', 7_000);
    });
    await expect(processDelivery(p, raw(1))).resolves.toEqual({ kind: 'nak', delayMs: 7_000 });
  });

  it('dead-letters a delivery past maxDeliver without running the handler', async () => {
    const handler = vi.fn(async () => {});
    const deadLetters: DeadLetter[] = [];
    const { processor: p } = processor(handler, (deadLetter) => void deadLetters.push(deadLetter));
    await expect(processDelivery(p, raw(4))).resolves.toMatchObject({ kind: 'term' });
    expect(handler).not.toHaveBeenCalled();
    expect(deadLetters[0]?.error.code).toBe('BUS_DELIVERIES_EXHAUSTED');
  });

  it('terminates an undecodable payload and logs a failing onDeadLetter instead of throwing', async () => {
    const handler = vi.fn(async () => {});
    const { processor: p, loggedError } = processor(handler, () => {
      throw new Error('dead-letter store down');
    });
    await expect(processDelivery(p, raw(1, new Uint8Array([0xff, 0xff])))).resolves.toEqual({
      kind: 'term',
      reason: 'invalid_payload',
    });
    expect(handler).not.toHaveBeenCalled();
    expect(loggedError).toHaveBeenCalledWith(expect.anything(), 'onDeadLetter failed');
  });
});
