import { createServer, type IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { secondsHistogram } from './metrics';
import { initTelemetry } from './telemetry';
import { withSpan } from './tracing';

interface Received {
  path: string;
  contentType: string | undefined;
  body: Buffer;
}

function body(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

describe('initTelemetry', () => {
  it('pushes spans and metrics over OTLP http/protobuf to OTEL_EXPORTER_OTLP_ENDPOINT, and serves /metrics', async () => {
    const received: Received[] = [];
    const collector = createServer((request, response) => {
      void body(request).then((data) => {
        received.push({
          path: request.url ?? '',
          contentType: request.headers['content-type'],
          body: data,
        });
        response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const address = collector.address();
    const endpoint = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

    const telemetry = initTelemetry({
      serviceName: 'topicdesk-unit',
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SERVICE_NAME: 'unit-otlp' },
    });
    expect(telemetry.serviceName).toBe('unit-otlp');
    // Later calls (one-process mode) share the first instance.
    expect(initTelemetry({ serviceName: 'other' })).toBe(telemetry);

    await withSpan('unit work', {}, async () => undefined);
    secondsHistogram('topicdesk_unit_seconds', 'a unit histogram').record(0.2);

    const scrape = await new Promise<string>((resolve) => {
      telemetry.handleMetrics(
        { url: '/metrics', headers: {} } as never,
        {
          setHeader: () => undefined,
          statusCode: 200,
          end: (text: string) => resolve(text),
        } as never,
      );
    });
    expect(scrape).toContain('topicdesk_unit_seconds_bucket{le="0.25"} 1');
    expect(scrape).toContain('topicdesk_unit_seconds_count 1');

    await telemetry.shutdown(); // flushes the batch span processor and the metric reader
    await new Promise<void>((resolve) => collector.close(() => resolve()));

    const traces = received.find((r) => r.path === '/v1/traces');
    expect(traces?.contentType).toBe('application/x-protobuf');
    expect(traces?.body.includes('unit work')).toBe(true);
    expect(traces?.body.includes('unit-otlp')).toBe(true);
    const pushed = received.find((r) => r.path === '/v1/metrics');
    expect(pushed?.body.includes('topicdesk_unit_seconds')).toBe(true);
  });
});
