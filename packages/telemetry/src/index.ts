export { createLogger, type Logger, type LoggerOptions } from './logger';
export { REDACTED, secretScrubber, secretValues } from './redact';
export { initTelemetry, UNTRACED_PATHS, type Telemetry, type TelemetryOptions } from './telemetry';
export { exportPlan, loadTelemetryConfig, type TelemetryConfig } from './config';
export { FileSpanExporter, toSpanRecord, type SpanRecord } from './file-span-exporter';
export type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
export { messageInstruments, meter, SECONDS_BUCKETS, secondsHistogram } from './metrics';
export { DEFAULT_TENANT_LABELS, OTHER_TENANTS, TenantLabels, tenantLabel } from './tenant-label';
export {
  context,
  extractContext,
  injectContext,
  recordError,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  spansRecorded,
  trace,
  tracer,
  withSpan,
  type Attributes,
  type Context,
  type Span,
  type TraceCarrier,
  type WithSpanOptions,
} from './tracing';
