import type { Conversation, Message } from '@topicdesk/core';
import { tenantLabel } from '@topicdesk/telemetry';
import type { SyncParts } from './topic-calls';

export type ReceiptState = 'delivered' | 'retrying' | 'failed';
export type Receipt = (state: ReceiptState, code?: string) => Promise<unknown>;

/**
 * Receipts for these visitor messages, straight to the visitor's sockets once the delivery is
 * recorded (an outbox row would cost every delivery another write and a relay hop). A failure
 * to publish is only logged.
 */
export function receiptsFor(
  parts: Pick<SyncParts, 'coordination' | 'logger'>,
  conversation: Conversation,
  batch: readonly Message[],
): Receipt {
  const { coordination, logger } = parts;
  return (state, code) =>
    Promise.all(
      batch.map((m) =>
        coordination.fanout.publish(conversation.id, {
          type: 'receipt',
          seq: m.seq,
          state,
          ...(code ? { code } : {}),
        }),
      ),
    ).catch((error: unknown) =>
      logger.warn({ err: error, conversationId: conversation.id }, 'receipt not published'),
    );
}

/**
 * Texts recorded as delivered: measured, and the visitor told. The receipt is not waited for
 * (it logs its own failure): it goes to Redis together with the sync lock's release that
 * usually follows, and one connection keeps the two in order.
 */
export function announceDelivered(
  parts: Pick<SyncParts, 'coordination' | 'logger' | 'metrics'>,
  conversation: Conversation,
  batch: readonly Message[],
  receipt: Receipt = receiptsFor(parts, conversation, batch),
): void {
  const now = Date.now();
  for (const message of batch)
    parts.metrics.deliveryLatency.record((now - message.created_at.getTime()) / 1000);
  parts.metrics.messagesOut.add(batch.length, {
    kind: 'visitor',
    tenant: tenantLabel(conversation.tenant_id),
  });
  void receipt('delivered');
}
