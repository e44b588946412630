import type { IncomingMessage, ServerResponse } from 'node:http';
import { context, metrics, propagation, trace, type Meter } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  type SpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';

export interface TelemetryOptions {
  serviceName: string;
  /** Extra span exporter (tests use an in-memory one). */
  spanExporter?: SpanExporter | undefined;
}

export interface Telemetry {
  readonly meter: Meter;
  /** Serves Prometheus text for /metrics. */
  handleMetrics(request: IncomingMessage, response: ServerResponse): void;
  shutdown(): Promise<void>;
}

let current: Telemetry | undefined;

/**
 * Starts tracing context propagation (W3C trace context, async context) and metrics with a
 * Prometheus reader. Called first in every process; in one-process mode the services share it.
 */
export function initTelemetry(options: TelemetryOptions): Telemetry {
  if (current) return current;
  const resource = resourceFromAttributes({ 'service.name': options.serviceName });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  const tracerProvider = new BasicTracerProvider({
    resource,
    spanProcessors: options.spanExporter ? [new SimpleSpanProcessor(options.spanExporter)] : [],
  });
  trace.setGlobalTracerProvider(tracerProvider);

  const exporter = new PrometheusExporter({ preventServerStart: true });
  const meterProvider = new MeterProvider({ resource, readers: [exporter] });
  metrics.setGlobalMeterProvider(meterProvider);

  current = {
    meter: metrics.getMeter('topicdesk'),
    handleMetrics: (request, response) => exporter.getMetricsRequestHandler(request, response),
    async shutdown() {
      await Promise.allSettled([meterProvider.shutdown(), tracerProvider.shutdown()]);
      current = undefined;
    },
  };
  return current;
}

/** The meter of the running process (a no-op meter before initTelemetry). */
export function meter(): Meter {
  return metrics.getMeter('topicdesk');
}
