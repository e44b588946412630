import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterEach, describe, expect, it } from 'vitest';
import { FileSpanExporter, type SpanRecord } from './file-span-exporter';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('FileSpanExporter', () => {
  it('appends one JSON line per finished span, with its parent, kind, status and attributes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spans-'));
    dirs.push(dir);
    const file = join(dir, 'nested', 'spans.jsonl');
    const provider = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'unit' }),
      spanProcessors: [new SimpleSpanProcessor({ exporter: new FileSpanExporter(file) })],
    });
    const tracer = provider.getTracer('test-scope');

    const parent = tracer.startSpan('parent', { kind: SpanKind.SERVER });
    const child = tracer.startSpan(
      'child',
      { kind: SpanKind.PRODUCER, attributes: { 'messaging.system': 'nats' } },
      trace.setSpan(context.active(), parent),
    );
    child.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
    child.end();
    parent.end();
    await provider.forceFlush();

    const records = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as SpanRecord);
    expect(records.map((r) => r.name)).toEqual(['child', 'parent']);
    const [c, p] = records as [SpanRecord, SpanRecord];
    expect(c).toMatchObject({
      service: 'unit',
      scope: 'test-scope',
      kind: 'producer',
      status: 'error',
      traceId: p.traceId,
      parentSpanId: p.spanId,
      attributes: { 'messaging.system': 'nats' },
    });
    expect(p).toMatchObject({ kind: 'server', status: 'unset' });
    expect(p.parentSpanId).toBeUndefined();
    expect(p.durationMs).toBeGreaterThanOrEqual(0);
    expect(p.startMs).toBeGreaterThan(Date.now() - 60_000);
    await provider.shutdown();
  });
});
