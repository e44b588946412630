import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { SpanKind, type Attributes } from '@opentelemetry/api';
import { ExportResultCode, hrTimeToMilliseconds, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';

/** One line of a trace file: a finished span, flat, in JSON. */
export interface SpanRecord {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: 'internal' | 'server' | 'client' | 'producer' | 'consumer';
  scope: string;
  /** Epoch milliseconds. */
  startMs: number;
  durationMs: number;
  status: 'unset' | 'ok' | 'error';
  attributes: Attributes;
  events?: Array<{ name: string; attributes?: Attributes }>;
}

const kinds = {
  [SpanKind.INTERNAL]: 'internal',
  [SpanKind.SERVER]: 'server',
  [SpanKind.CLIENT]: 'client',
  [SpanKind.PRODUCER]: 'producer',
  [SpanKind.CONSUMER]: 'consumer',
} as const satisfies Record<SpanKind, SpanRecord['kind']>;

const statuses = ['unset', 'ok', 'error'] as const;

export function toSpanRecord(span: ReadableSpan): SpanRecord {
  const { traceId, spanId } = span.spanContext();
  const parent = span.parentSpanContext?.spanId;
  return {
    service: String(span.resource.attributes['service.name'] ?? 'unknown'),
    traceId,
    spanId,
    ...(parent ? { parentSpanId: parent } : {}),
    name: span.name,
    kind: kinds[span.kind],
    scope: span.instrumentationScope.name,
    startMs: hrTimeToMilliseconds(span.startTime),
    durationMs: hrTimeToMilliseconds(span.duration),
    status: statuses[span.status.code] ?? 'unset',
    attributes: span.attributes,
    ...(span.events.length > 0
      ? {
          events: span.events.map((e) => ({
            name: e.name,
            ...(e.attributes ? { attributes: e.attributes } : {}),
          })),
        }
      : {}),
  };
}

/**
 * Appends each finished span as one JSON line (`SpanRecord`) to a file. Several processes may
 * share the file: every batch is one append of whole lines. Meant for tests and local debugging,
 * not for production volume (it writes synchronously).
 */
export class FileSpanExporter implements SpanExporter {
  #stopped = false;

  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    if (this.#stopped) {
      resultCallback({ code: ExportResultCode.FAILED, error: new Error('exporter shut down') });
      return;
    }
    try {
      const text = spans.map((span) => JSON.stringify(toSpanRecord(span)) + '\n').join('');
      if (text) appendFileSync(this.path, text);
      resultCallback({ code: ExportResultCode.SUCCESS });
    } catch (error) {
      resultCallback({
        code: ExportResultCode.FAILED,
        error: error instanceof Error ? error : new Error(String(error)),
      });
    }
  }

  async shutdown(): Promise<void> {
    this.#stopped = true;
  }

  async forceFlush(): Promise<void> {}
}
