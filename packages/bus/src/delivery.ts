import type { DescMessage, MessageShape } from '@topicdesk/contracts';
import type { BusLogger, DeadLetter, DeadLetterReason, Delivery } from './bus';
import { decode } from './codec';
import { BusDeliveriesExhaustedError, RetryLaterError, busErrorData } from './errors';
import type { NormalizedConsumeOptions } from './options';
import { settleFailure, type Settlement } from './retry-policy';
import type { DurableTopic } from './topics';
import { recordError, withProcessSpan, type HeaderRecord, type SpanTarget } from './tracing';

/** One delivery as the transport hands it over, before decoding. */
export interface RawDelivery {
  readonly payload: Uint8Array;
  readonly headers: HeaderRecord;
  readonly deliveryCount: number;
  readonly msgId: string | undefined;
  readonly publishedAt: Date | undefined;
  working(): void;
}

/** Everything a consumer needs to process deliveries of one topic, whatever the transport. */
export interface Processor<S extends DescMessage> {
  readonly topic: DurableTopic<S>;
  readonly options: NormalizedConsumeOptions;
  readonly handler: (delivery: Delivery<MessageShape<S>>) => Promise<void>;
  readonly target: SpanTarget & { readonly consumerGroup: string };
  readonly logger: BusLogger;
}

/**
 * Decodes, runs the handler inside the publisher's trace context, and decides the settlement:
 * the one place where both implementations get their retry and dead-letter semantics.
 * Never rejects.
 */
export function processDelivery<S extends DescMessage>(
  processor: Processor<S>,
  raw: RawDelivery,
): Promise<Settlement> {
  const { topic, options, logger } = processor;
  const fields = {
    subject: topic.subject,
    durable: options.durable,
    deliveryCount: raw.deliveryCount,
    msgId: raw.msgId,
  };
  return withProcessSpan(
    processor.target,
    {
      headers: raw.headers,
      msgId: raw.msgId,
      deliveryCount: raw.deliveryCount,
      size: raw.payload.byteLength,
    },
    async (span): Promise<Settlement> => {
      if (raw.deliveryCount > options.maxDeliver) {
        const error = new BusDeliveriesExhaustedError(
          `delivered ${raw.deliveryCount} times, more than maxDeliver ${options.maxDeliver}: ` +
            'earlier deliveries never settled (ack wait expired or the process died)',
        );
        recordError(span, error);
        await deadLetter(processor, raw, 'max_deliver', error);
        return { kind: 'term', reason: 'max_deliver' };
      }
      let data: MessageShape<S>;
      try {
        data = decode(topic.schema, raw.payload);
      } catch (error) {
        recordError(span, error);
        await deadLetter(processor, raw, 'invalid_payload', error);
        return { kind: 'term', reason: 'invalid_payload' };
      }
      // Payloads that name their tenant (most do): its failures are logged under it.
      const logged = { ...fields, ...tenantOf(data) };
      try {
        await processor.handler({
          data,
          subject: topic.subject,
          deliveryCount: raw.deliveryCount,
          msgId: raw.msgId,
          publishedAt: raw.publishedAt,
          working: () => raw.working(),
        });
        return { kind: 'ack' };
      } catch (error) {
        recordError(span, error);
        const settlement = settleFailure(error, raw.deliveryCount, options);
        if (settlement.kind === 'term') {
          await deadLetter(processor, raw, settlement.reason, error, tenantOf(data));
        } else if (error instanceof RetryLaterError) {
          // An expected wait (a lock held elsewhere, a budget): no stack, no noise at info.
          logger.debug(
            { ...logged, reason: error.message, retryInMs: settlement.delayMs },
            'retry later',
          );
        } else {
          logger.warn({ ...logged, err: error, retryInMs: settlement.delayMs }, 'handler failed');
        }
        return settlement;
      }
    },
  ).catch((error: unknown): Settlement => {
    // Only a bug in the code above gets here; redeliver rather than lose the message.
    logger.error({ ...fields, err: error }, 'delivery processing failed unexpectedly');
    return { kind: 'nak', delayMs: 0 };
  });
}

/** `{ tenantId }` when the decoded payload names a tenant, else nothing. */
function tenantOf(data: unknown): { tenantId?: string } {
  const tenantId = (data as { tenantId?: unknown }).tenantId;
  return typeof tenantId === 'string' && tenantId !== '' ? { tenantId } : {};
}

async function deadLetter<S extends DescMessage>(
  processor: Processor<S>,
  raw: RawDelivery,
  reason: DeadLetterReason,
  cause: unknown,
  tenant: { tenantId?: string } = {},
): Promise<void> {
  const deadLetter: DeadLetter = {
    reason,
    subject: processor.topic.subject,
    durable: processor.options.durable,
    deliveryCount: raw.deliveryCount,
    msgId: raw.msgId,
    error: busErrorData(cause),
    cause,
    payload: raw.payload,
  };
  processor.logger.error(
    {
      subject: deadLetter.subject,
      durable: deadLetter.durable,
      deliveryCount: deadLetter.deliveryCount,
      msgId: deadLetter.msgId,
      reason,
      error: deadLetter.error,
      ...tenant,
    },
    'message dead-lettered',
  );
  if (!processor.options.onDeadLetter) return;
  try {
    await processor.options.onDeadLetter(deadLetter);
  } catch (error) {
    processor.logger.error(
      { subject: deadLetter.subject, durable: deadLetter.durable, err: error },
      'onDeadLetter failed',
    );
  }
}
