import {
  context,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
} from '@opentelemetry/api';

/**
 * W3C trace context over message headers. Both implementations carry headers as a plain record
 * here (NATS copies it into `MsgHdrs`), so propagation is the same code path for both.
 * The API is a no-op until the process registers an SDK / propagator (@topicdesk/telemetry).
 */
export type HeaderRecord = Record<string, string>;

const tracer = trace.getTracer('@topicdesk/bus');

/** Semantic-convention attribute names (no `nats` value exists in the constants package). */
const attr = {
  system: 'messaging.system',
  destination: 'messaging.destination.name',
  operationType: 'messaging.operation.type',
  operationName: 'messaging.operation.name',
  messageId: 'messaging.message.id',
  bodySize: 'messaging.message.body.size',
  consumerGroup: 'messaging.consumer.group.name',
  deliveryCount: 'messaging.nats.message.delivery_count',
} as const;

export interface SpanTarget {
  /** `nats`, or `topicdesk_in_process` for the in-process twin. */
  readonly system: string;
  /** The subject as it is on the wire (namespaced for NATS). */
  readonly destination: string;
}

/** The active context's trace headers (`traceparent`, `tracestate`). */
export function injectTraceContext(
  headers: HeaderRecord = {},
  ctx = context.active(),
): HeaderRecord {
  propagation.inject(ctx, headers);
  return headers;
}

export function extractTraceContext(headers: HeaderRecord): Context {
  return propagation.extract(context.active(), headers);
}

/** Runs a publish inside a PRODUCER span whose context travels in the returned headers. */
export function withPublishSpan<T>(
  target: SpanTarget,
  message: { msgId: string | undefined; size: number },
  publish: (headers: HeaderRecord) => Promise<T>,
): Promise<T> {
  const attributes: Attributes = {
    [attr.system]: target.system,
    [attr.destination]: target.destination,
    [attr.operationType]: 'publish',
    [attr.operationName]: 'publish',
    [attr.bodySize]: message.size,
  };
  if (message.msgId !== undefined) attributes[attr.messageId] = message.msgId;
  return tracer.startActiveSpan(
    `publish ${target.destination}`,
    { kind: SpanKind.PRODUCER, attributes },
    async (span) => {
      try {
        return await publish(injectTraceContext());
      } catch (error) {
        recordError(span, error);
        throw error;
      } finally {
        span.end();
      }
    },
  );
}

/** Runs a handler inside a CONSUMER span, child of the publisher's span carried in `headers`. */
export function withProcessSpan<T>(
  target: SpanTarget & { readonly consumerGroup: string },
  message: {
    headers: HeaderRecord;
    msgId: string | undefined;
    deliveryCount: number;
    size: number;
  },
  process: (span: Span) => Promise<T>,
): Promise<T> {
  const attributes: Attributes = {
    [attr.system]: target.system,
    [attr.destination]: target.destination,
    [attr.operationType]: 'process',
    [attr.operationName]: 'process',
    [attr.consumerGroup]: target.consumerGroup,
    [attr.deliveryCount]: message.deliveryCount,
    [attr.bodySize]: message.size,
  };
  if (message.msgId !== undefined) attributes[attr.messageId] = message.msgId;
  return tracer.startActiveSpan(
    `process ${target.destination}`,
    { kind: SpanKind.CONSUMER, attributes },
    extractTraceContext(message.headers),
    async (span) => {
      try {
        return await process(span);
      } finally {
        span.end();
      }
    },
  );
}

export function recordError(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
}
