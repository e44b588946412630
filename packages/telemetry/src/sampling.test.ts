import { trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { initTelemetry } from './telemetry';
import { injectContext, spansRecorded, tracer, withSpan } from './tracing';

// A file of its own: the SDK registers process-wide, once per test process.
describe('initTelemetry without a trace exporter', () => {
  it('makes spans without recording them, so ids still reach logs and the next service', async () => {
    const telemetry = initTelemetry({ serviceName: 'topicdesk-unit', env: {} });
    try {
      expect(spansRecorded()).toBe(false);
      const span = tracer().startSpan('unit work');
      expect(span.isRecording()).toBe(false);
      expect(span.spanContext().traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(span.spanContext().traceId).not.toBe('0'.repeat(32));
      span.end();

      const carried = await withSpan('unit parent', {}, async () => {
        expect(trace.getActiveSpan()?.isRecording()).toBe(false);
        return injectContext();
      });
      // Propagated, marked not sampled (flags 00).
      expect(carried['traceparent']).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
    } finally {
      await telemetry.shutdown();
    }
    expect(spansRecorded()).toBe(true);
  });
});
