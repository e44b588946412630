import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { register } from 'node:module';
import { FastifyOtelInstrumentation } from '@fastify/otel';
import { metrics, type Meter } from '@opentelemetry/api';
import { OTLPMetricExporter as GrpcMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPMetricExporter as JsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { OTLPTraceExporter as GrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  ConsoleMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type IMetricReader,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics';
import { NodeSDK } from '@opentelemetry/sdk-node';
import {
  AlwaysOffSampler,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  NoopSpanProcessor,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace';
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { exportPlan, loadTelemetryConfig, type OtlpProtocol } from './config';
import { FileSpanExporter } from './file-span-exporter';
import { meter } from './metrics';
import { redactQuery, redactUrlPath } from './redact';
import { setTenantLabelLimit } from './tenant-label';
import { setSpansRecorded } from './tracing';

export interface TelemetryOptions {
  /** `service.name` unless OTEL_SERVICE_NAME says otherwise, e.g. `topicdesk-gateway`. */
  serviceName: string;
  /** Where OTEL_* and TOPICDESK_TRACE_FILE are read from; the process environment by default. */
  env?: Record<string, string | undefined>;
  /** Extra span exporter (tests use an in-memory one); spans reach it one by one. */
  spanExporter?: SpanExporter | undefined;
}

export interface Telemetry {
  readonly serviceName: string;
  readonly meter: Meter;
  /** Serves Prometheus text for /metrics. */
  handleMetrics(request: IncomingMessage, response: ServerResponse): void;
  /**
   * @fastify/otel's plugin: a span per request and per hook. Register it on every fastify
   * instance (awaited, before its routes) — it is not installed by the auto-instrumentations.
   */
  fastifyPlugin(): FastifyPluginAsync;
  /** Flushes and stops exporters. */
  shutdown(): Promise<void>;
}

/** Probe and scrape routes: answered often, traced never. */
export const UNTRACED_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);

/** Packages whose ES-module imports the instrumentations need to see (see initTelemetry). */
const ESM_HOOKED_PACKAGES = ['pg', 'pg-pool', 'ioredis'] as const;

let current: Telemetry | undefined;

/**
 * Starts OpenTelemetry (`@opentelemetry/sdk-node`): W3C trace context, async context, the http,
 * pg and ioredis instrumentations, span exporters from OTEL_* (and TOPICDESK_TRACE_FILE), and
 * metrics with a Prometheus reader (plus OTLP when configured). Call it before pg, ioredis or
 * fastify are imported — in an ES module that means before a dynamic `import()` of the rest of
 * the service, since static imports are all evaluated before the module's own code. In
 * one-process mode the services share the first call's instance.
 */
export function initTelemetry(options: TelemetryOptions): Telemetry {
  if (current) return current;
  const config = loadTelemetryConfig(options.env ?? process.env);
  setTenantLabelLimit(config.METRICS_TENANT_LABELS);
  const plan = exportPlan(config);
  const serviceName = config.OTEL_SERVICE_NAME ?? options.serviceName;
  const resource = resourceFromAttributes({
    'service.name': serviceName,
    'service.namespace': 'topicdesk',
    'service.instance.id': randomUUID(),
  });

  const prometheus = new PrometheusExporter({ preventServerStart: true, withoutScopeInfo: true });
  const metricReaders: IMetricReader[] = [
    prometheus,
    ...plan.metrics.map(
      (name) =>
        new PeriodicExportingMetricReader({
          exporter:
            name === 'otlp'
              ? otlpMetricExporter(plan.metricsProtocol, plan.metricsUrl)
              : consoleMetrics(),
          exportIntervalMillis: config.OTEL_METRIC_EXPORT_INTERVAL,
        }),
    ),
  ];

  const fastifyOtel = new FastifyOtelInstrumentation({
    registerOnInitialization: false,
    ignorePaths: ({ url }) => UNTRACED_PATHS.has(url),
    requestHook: (span, request) =>
      span.setAttributes({
        'url.path': redactUrlPath(pathOf(request.url)),
        'http.request.id': request.id,
      }),
  });

  let stop: () => Promise<void>;
  if (config.OTEL_SDK_DISABLED) {
    // No tracing at all, but /metrics is part of every service's contract.
    const meterProvider = new MeterProvider({ resource, readers: metricReaders });
    setSpansRecorded(false);
    metrics.setGlobalMeterProvider(meterProvider);
    stop = () => meterProvider.shutdown();
  } else {
    const spanProcessors: SpanProcessor[] = [
      ...plan.traces.map((name) =>
        name === 'otlp'
          ? new BatchSpanProcessor({
              exporter: otlpTraceExporter(plan.tracesProtocol, plan.tracesUrl),
            })
          : new SimpleSpanProcessor({ exporter: new ConsoleSpanExporter() }),
      ),
    ];
    if (config.TOPICDESK_TRACE_FILE)
      spanProcessors.push(
        new SimpleSpanProcessor({ exporter: new FileSpanExporter(config.TOPICDESK_TRACE_FILE) }),
      );
    if (options.spanExporter)
      spanProcessors.push(new SimpleSpanProcessor({ exporter: options.spanExporter }));
    // With nothing to export to, spans are not recorded (a recorded span costs more than the
    // frame it describes on the busy paths), but they are still made: their ids tie log lines
    // and services together. OTEL_TRACES_SAMPLER, when set, decides instead.
    const recordNothing = spanProcessors.length === 0 && config.OTEL_TRACES_SAMPLER === undefined;
    if (spanProcessors.length === 0) spanProcessors.push(new NoopSpanProcessor());
    setSpansRecorded(!recordNothing);

    const instrumentations: Instrumentation[] = [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request) => UNTRACED_PATHS.has(pathOf(request.url)),
        // Recording nothing, an outgoing call's span would only cost (a span, a duration
        // metric, a traceparent no one reads): the bridge makes one per Telegram call.
        ...(recordNothing ? { ignoreOutgoingRequestHook: () => true } : {}),
        // No secret reaches a span: the webhook's secret path, the bot token in Bot API URLs,
        // conversation tokens in a query.
        startIncomingSpanHook: (request) => {
          const url = request.url ?? '/';
          const q = url.indexOf('?');
          return {
            'url.path': redactUrlPath(pathOf(url)),
            ...(q === -1 ? {} : { 'url.query': redactQuery(url.slice(q + 1)) }),
          };
        },
        startOutgoingSpanHook: (request) => {
          const host = request.hostname ?? request.host ?? 'localhost';
          const port =
            request.port === undefined || request.port === null ? '' : `:${request.port}`;
          return {
            'url.full': `${request.protocol ?? 'http:'}//${host}${port}${redactUrlPath(request.path ?? '/')}`,
          };
        },
      }),
      // pg and ioredis spans are leaves (nothing carries their ids on), so when spans are not
      // recorded they are not made at all: a span, a context and a duration metric per query
      // and per Redis command were a tenth of the services' CPU per visitor message.
      ...(recordNothing ? [] : clientInstrumentations()),
      fastifyOtel,
    ];
    // pg and ioredis are CommonJS, but a service imports them from ES modules, which bypasses
    // the require hook for a package's entry file: the ESM loader hook sees those imports.
    // Limited to the instrumented packages, so nothing else is wrapped.
    if (!recordNothing)
      register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, {
        data: { include: [...ESM_HOOKED_PACKAGES] },
      });
    const sdk = new NodeSDK({
      resource,
      autoDetectResources: true,
      spanProcessors,
      ...(recordNothing ? { sampler: new AlwaysOffSampler() } : {}),
      metricReaders,
      logRecordProcessors: [],
      instrumentations,
    });
    sdk.start();
    stop = () => sdk.shutdown();
  }

  current = {
    serviceName,
    meter: meter(),
    handleMetrics: (request, response) => prometheus.getMetricsRequestHandler(request, response),
    fastifyPlugin: () => requestTracing(fastifyOtel),
    async shutdown() {
      current = undefined;
      setSpansRecorded(true);
      await stop().catch((error: unknown) =>
        console.error('telemetry: final export failed at shutdown', error),
      );
    },
  };
  return current;
}

/**
 * @fastify/otel's plugin, plus the end of a WebSocket upgrade's request span: an upgrade never
 * gets a response, so @fastify/otel would keep that span open (and unexported) for good.
 */
function requestTracing(instrumentation: FastifyOtelInstrumentation): FastifyPluginAsync {
  return fp(async (app) => {
    await app.register(instrumentation.plugin());
    app.addHook('preHandler', async (request) => {
      if (request.headers.upgrade?.toLowerCase() !== 'websocket') return;
      const otel = request.opentelemetry();
      if (!otel.enabled) return;
      otel.span.setAttribute('http.response.status_code', 101);
      otel.span.end();
    });
  });
}

/** Spans of Postgres queries and Redis commands, made only inside a traced operation. */
function clientInstrumentations(): Instrumentation[] {
  return [
    // Only inside a traced operation: the outbox sweeper's and lock renewals' queries every
    // second would otherwise each start a trace of their own.
    new PgInstrumentation({ requireParentSpan: true }),
    new IORedisInstrumentation({
      requireParentSpan: true,
      // The command and its key only: a PUBLISH's payload is what someone wrote.
      dbStatementSerializer: (command, args) =>
        typeof args[0] === 'string' ? `${command} ${args[0]}` : command,
    }),
  ];
}

function pathOf(url: string | undefined): string {
  if (!url) return '/';
  const end = url.indexOf('?');
  return end === -1 ? url : url.slice(0, end);
}

/** `url` comes from our config; headers, timeout and compression the exporter reads itself. */
function otlpTraceExporter(protocol: OtlpProtocol, url: string | undefined): SpanExporter {
  const options = url === undefined ? {} : { url };
  switch (protocol) {
    case 'http/protobuf':
      return new ProtoTraceExporter(options);
    case 'http/json':
      return new JsonTraceExporter(options);
    case 'grpc':
      return new GrpcTraceExporter(options);
    default: {
      const never: never = protocol;
      throw new Error(`unknown OTLP protocol ${String(never)}`);
    }
  }
}

function otlpMetricExporter(protocol: OtlpProtocol, url: string | undefined): PushMetricExporter {
  const options = url === undefined ? {} : { url };
  switch (protocol) {
    case 'http/protobuf':
      return new ProtoMetricExporter(options);
    case 'http/json':
      return new JsonMetricExporter(options);
    case 'grpc':
      return new GrpcMetricExporter(options);
    default: {
      const never: never = protocol;
      throw new Error(`unknown OTLP protocol ${String(never)}`);
    }
  }
}

function consoleMetrics(): PushMetricExporter {
  return new ConsoleMetricExporter();
}
