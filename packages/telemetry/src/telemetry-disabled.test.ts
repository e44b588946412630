import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { meter } from './metrics';
import { initTelemetry } from './telemetry';
import { withSpan } from './tracing';

const dir = mkdtempSync(join(tmpdir(), 'telemetry-off-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('initTelemetry with OTEL_SDK_DISABLED', () => {
  it('records no span but still serves /metrics', async () => {
    const traceFile = join(dir, 'spans.jsonl');
    const telemetry = initTelemetry({
      serviceName: 'unit-off',
      env: { OTEL_SDK_DISABLED: 'true', TOPICDESK_TRACE_FILE: traceFile },
    });
    let traced = true;
    await withSpan('ignored', {}, async (span) => {
      traced = span.isRecording();
    });
    expect(traced).toBe(false);
    expect(existsSync(traceFile)).toBe(false);

    meter().createCounter('topicdesk_unit_off_total').add(2);
    const text = await new Promise<string>((resolve) => {
      telemetry.handleMetrics(
        { url: '/metrics', headers: {} } as never,
        { setHeader: () => undefined, statusCode: 200, end: (t: string) => resolve(t) } as never,
      );
    });
    expect(text).toContain('topicdesk_unit_off_total 2');
    await telemetry.shutdown();
  });
});
