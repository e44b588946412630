import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
} from '@opentelemetry/api';

export {
  context,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
};

/** W3C trace context as a plain record (`traceparent`, `tracestate`), for message headers. */
export type TraceCarrier = Record<string, string>;

let recorded = true;

/**
 * Whether this process records spans: false when initTelemetry found no trace exporter (and no
 * OTEL_TRACES_SAMPLER) or tracing is off. A busy path may then skip making a span at all and
 * only carry the trace context it was given, for its log lines and whatever it calls.
 */
export function spansRecorded(): boolean {
  return recorded;
}

/** Set by initTelemetry (and back to true by its shutdown). */
export function setSpansRecorded(value: boolean): void {
  recorded = value;
}

/** The tracer of the running process (a no-op tracer before initTelemetry). */
export function tracer() {
  return trace.getTracer('topicdesk');
}

/** The trace headers of `ctx` (the active context by default); empty when nothing is traced. */
export function injectContext(ctx: Context = context.active()): TraceCarrier {
  const carrier: TraceCarrier = {};
  propagation.inject(ctx, carrier);
  return carrier;
}

/** The context carried in `carrier`, on top of the active one. */
export function extractContext(carrier: Readonly<Record<string, unknown>> | undefined): Context {
  if (!carrier) return context.active();
  const headers: TraceCarrier = {};
  for (const [key, value] of Object.entries(carrier))
    if (typeof value === 'string') headers[key] = value;
  return propagation.extract(context.active(), headers);
}

export function recordError(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
}

export interface WithSpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  /** Parent context; the active one by default, ROOT_CONTEXT for a trace of its own. */
  parent?: Context;
}

/**
 * Runs `fn` inside a new active span that ends when `fn` settles; a rejection marks the span
 * as an error and is rethrown.
 */
export function withSpan<T>(
  name: string,
  options: WithSpanOptions,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  return tracer().startActiveSpan(
    name,
    {
      kind: options.kind ?? SpanKind.INTERNAL,
      ...(options.attributes ? { attributes: options.attributes } : {}),
    },
    options.parent ?? context.active(),
    async (span) => {
      try {
        return await fn(span);
      } catch (error) {
        recordError(span, error);
        throw error;
      } finally {
        span.end();
      }
    },
  );
}
