import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger';

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({
    service: 'unit',
    destination: {
      write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>),
    },
  });
  return { logger, lines };
}

describe('createLogger', () => {
  it('adds trace_id and span_id while a span is active, and nothing otherwise', () => {
    const { logger, lines } = capture();
    logger.info('outside');
    const spanContext = {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: 1,
    };
    context.with(trace.setSpanContext(context.active(), spanContext), () => {
      // Without an SDK the API keeps the span context: what a real span would give the mixin.
      logger.info('inside');
    });
    expect(lines[0]).not.toHaveProperty('trace_id');
    expect(lines[0]).toMatchObject({ service: 'unit', msg: 'outside' });
    expect(lines[1]).toMatchObject({
      msg: 'inside',
      trace_id: spanContext.traceId,
      span_id: spanContext.spanId,
    });
  });

  it('leaves the payload of an error (the text of a Bot API call) out of the line', () => {
    const { logger, lines } = capture();
    const error = Object.assign(new Error("Call to 'sendMessage' failed!"), {
      payload: { chat_id: -1001, text: 'my card number is 4242' },
      error_code: 400,
    });
    logger.warn({ err: error }, 'send failed');
    expect(lines[0]).toMatchObject({
      err: { message: "Call to 'sendMessage' failed!", error_code: 400 },
    });
    expect(JSON.stringify(lines[0])).not.toContain('4242');
  });
});
