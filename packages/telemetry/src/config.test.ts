import { ConfigError } from '@topicdesk/config';
import { describe, expect, it } from 'vitest';
import { exportPlan, loadTelemetryConfig } from './config';

const plan = (env: Record<string, string>) => exportPlan(loadTelemetryConfig(env));

describe('exportPlan', () => {
  it('exports nothing when nothing is configured (no collector is assumed)', () => {
    expect(plan({})).toMatchObject({ traces: [], metrics: [] });
  });

  it('pushes traces and metrics over OTLP http/protobuf once an endpoint is set', () => {
    expect(plan({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' })).toEqual({
      traces: ['otlp'],
      tracesProtocol: 'http/protobuf',
      tracesUrl: 'http://collector:4318/v1/traces',
      metrics: ['otlp'],
      metricsProtocol: 'http/protobuf',
      metricsUrl: 'http://collector:4318/v1/metrics',
    });
  });

  it('follows the per-signal endpoints and protocols', () => {
    expect(
      plan({
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://tempo:4317',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc',
      }),
    ).toEqual({
      traces: ['otlp'],
      tracesProtocol: 'grpc',
      tracesUrl: 'http://tempo:4317',
      metrics: [],
      metricsProtocol: 'http/json',
      metricsUrl: undefined,
    });
  });

  it('sends gRPC to the base endpoint as it is', () => {
    expect(
      plan({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4317',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      }),
    ).toMatchObject({ tracesUrl: 'http://collector:4317', metricsUrl: 'http://collector:4317' });
  });

  it('lets explicit exporter lists win, none included', () => {
    expect(
      plan({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
        OTEL_TRACES_EXPORTER: 'none',
        OTEL_METRICS_EXPORTER: 'prometheus',
      }),
    ).toMatchObject({ traces: [], metrics: [] });
    expect(plan({ OTEL_TRACES_EXPORTER: 'console, otlp' })).toMatchObject({
      traces: ['console', 'otlp'],
    });
  });

  it('refuses an exporter it does not know, naming the variable', () => {
    expect(() => loadTelemetryConfig({ OTEL_TRACES_EXPORTER: 'zipkin' })).toThrow(ConfigError);
    expect(() => loadTelemetryConfig({ OTEL_TRACES_EXPORTER: 'zipkin' })).toThrow(
      /OTEL_TRACES_EXPORTER: "zipkin" is not one of otlp, console, none/,
    );
    expect(() => loadTelemetryConfig({ OTEL_EXPORTER_OTLP_PROTOCOL: 'udp' })).toThrow(ConfigError);
  });
});
