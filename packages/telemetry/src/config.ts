import { env, metricsEnv, parseEnv } from '@topicdesk/config';
import { z } from 'zod';

const exporterList = <T extends string>(allowed: readonly [T, ...T[]]) =>
  env.optionalString().transform((value, ctx) => {
    if (value === undefined) return undefined;
    const names = [
      ...new Set(
        value
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      ),
    ];
    for (const name of names) {
      if (!(allowed as readonly string[]).includes(name)) {
        ctx.addIssue({
          code: 'custom',
          message: `"${name}" is not one of ${allowed.join(', ')}`,
        });
        return z.NEVER;
      }
    }
    return names as T[];
  });

const protocol = () =>
  z.preprocess(
    (v) => (v === '' ? undefined : v),
    z.enum(['http/protobuf', 'http/json', 'grpc']).optional(),
  );

/**
 * The standard OpenTelemetry variables this package decides on itself (the exporters read their
 * own endpoint, headers, timeout and compression variables, the SDK its sampler and propagator
 * ones), plus TOPICDESK_TRACE_FILE. Unlike the OpenTelemetry default, nothing is exported unless
 * an exporter or an OTLP endpoint is configured, so no process tries to reach a missing collector.
 */
export const telemetryEnvSchema = z.object({
  /** Turns tracing off entirely; /metrics keeps working (it is part of the service contract). */
  OTEL_SDK_DISABLED: env.boolean(false),
  /** Overrides the service's own name (`topicdesk-gateway`, …) in traces and metrics. */
  OTEL_SERVICE_NAME: env.optionalString(),
  /** Base URL of an OTLP collector; when set, traces and metrics go there by default. */
  OTEL_EXPORTER_OTLP_ENDPOINT: env.optionalString(),
  /** OTLP endpoint for traces only. */
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: env.optionalString(),
  /** OTLP endpoint for metrics only. */
  OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: env.optionalString(),
  /** `otlp`, `console`, `none`; default `otlp` when an OTLP endpoint is set, else `none`. */
  OTEL_TRACES_EXPORTER: exporterList(['otlp', 'console', 'none'] as const),
  /** `otlp`, `console`, `prometheus`, `none`; Prometheus text is always served at /metrics. */
  OTEL_METRICS_EXPORTER: exporterList(['otlp', 'console', 'prometheus', 'none'] as const),
  /** OTLP transport: `http/protobuf` (default), `http/json` or `grpc`. */
  OTEL_EXPORTER_OTLP_PROTOCOL: protocol(),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: protocol(),
  OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: protocol(),
  /**
   * The standard sampler choice (`always_on`, `parentbased_traceidratio`, …, with
   * OTEL_TRACES_SAMPLER_ARG), read by the SDK itself. Unset: every span is recorded when a trace
   * exporter is configured, none when there is none (ids are still made and propagated).
   */
  OTEL_TRACES_SAMPLER: env.optionalString(),
  /** Milliseconds between OTLP metric pushes. */
  OTEL_METRIC_EXPORT_INTERVAL: env.int(60_000, 1000),
  /** Appends every finished span as one JSON line to this file (tests, local debugging). */
  TOPICDESK_TRACE_FILE: env.optionalString(),
  ...metricsEnv,
});

export type TelemetryConfig = z.output<typeof telemetryEnvSchema>;
export type OtlpProtocol = NonNullable<TelemetryConfig['OTEL_EXPORTER_OTLP_PROTOCOL']>;

export function loadTelemetryConfig(source: Record<string, string | undefined>): TelemetryConfig {
  return parseEnv(telemetryEnvSchema, source);
}

export interface ExportPlan {
  traces: Array<'otlp' | 'console'>;
  tracesProtocol: OtlpProtocol;
  /** Where OTLP traces go; undefined: the exporter's default (localhost). */
  tracesUrl: string | undefined;
  metrics: Array<'otlp' | 'console'>;
  metricsProtocol: OtlpProtocol;
  metricsUrl: string | undefined;
}

/**
 * The OTLP URL of one signal, as the specification derives it: the signal's own endpoint as
 * given, else the base endpoint plus `v1/<signal>` over HTTP (gRPC takes the base as it is).
 */
export function otlpUrl(
  signal: 'traces' | 'metrics',
  protocol: OtlpProtocol,
  specific: string | undefined,
  base: string | undefined,
): string | undefined {
  if (specific !== undefined) return specific;
  if (base === undefined) return undefined;
  if (protocol === 'grpc') return base;
  return `${base.replace(/\/+$/, '')}/v1/${signal}`;
}

/** Which exporters to start: explicit lists win; otherwise OTLP only when an endpoint is set. */
export function exportPlan(config: TelemetryConfig): ExportPlan {
  const endpoint = (specific: string | undefined) =>
    specific !== undefined || config.OTEL_EXPORTER_OTLP_ENDPOINT !== undefined;
  const choose = <T extends string>(
    list: T[] | undefined,
    hasEndpoint: boolean,
  ): Array<Exclude<T, 'none' | 'prometheus'>> => {
    const names = list ?? (hasEndpoint ? ['otlp' as T] : []);
    if (names.includes('none' as T)) return [];
    return names.filter((n): n is Exclude<T, 'none' | 'prometheus'> => n !== 'prometheus');
  };
  const fallback = config.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf';
  const tracesProtocol = config.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? fallback;
  const metricsProtocol = config.OTEL_EXPORTER_OTLP_METRICS_PROTOCOL ?? fallback;
  const base = config.OTEL_EXPORTER_OTLP_ENDPOINT;
  return {
    traces: choose(
      config.OTEL_TRACES_EXPORTER,
      endpoint(config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT),
    ),
    tracesProtocol,
    tracesUrl: otlpUrl('traces', tracesProtocol, config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, base),
    metrics: choose(
      config.OTEL_METRICS_EXPORTER,
      endpoint(config.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT),
    ),
    metricsProtocol,
    metricsUrl: otlpUrl(
      'metrics',
      metricsProtocol,
      config.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT,
      base,
    ),
  };
}
