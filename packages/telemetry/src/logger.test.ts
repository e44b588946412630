import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger';

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

function capture(secrets?: string[]) {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({
    service: 'unit',
    secrets,
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

describe('createLogger and database errors', () => {
  it('leaves the SQL parameters and detail of a database error out, in its causes too', () => {
    const { logger, lines } = capture();
    const pgError = Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), {
      code: '22021',
      query: 'insert into messages (text) values ($1)',
      params: ['my password is hunter2'],
      detail: 'Key (client_id)=(hunter2-client) already exists.',
    });
    logger.error({ err: pgError }, 'could not store a visitor message');
    logger.error({ err: new Error('store failed', { cause: pgError }) }, 'wrapped');
    for (const line of lines.map((l) => JSON.stringify(l))) expect(line).not.toContain('hunter2');
    // What says which statement failed and why stays.
    expect(lines[0]).toMatchObject({
      err: { code: '22021', query: 'insert into messages (text) values ($1)' },
    });
  });
});

describe('createLogger with secrets', () => {
  const token = '7123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw';
  const secrets = ['s3cret-header_value', 'p@ss"w/ord+base64=='];

  it('scrubs the bot token and every secret from an error, its stack and its nested causes', () => {
    const { logger, lines } = capture(secrets);
    const root = new Error(`request to https://api.telegram.org/bot${token}/getUpdates failed`);
    const middle = new Error(`header ${secrets[0]} refused`, { cause: root });
    const top = Object.assign(
      new Error("Network request for 'deleteWebhook' failed!", { cause: middle }),
      {
        url: `https://api.telegram.org/bot${token}/deleteWebhook`,
        config: { password: secrets[1] },
      },
    );
    logger.warn(
      { err: top, redis: `redis://:${encodeURIComponent(secrets[1]!)}@cache:6379` },
      `polling failed for ${token}`,
    );
    const line = JSON.stringify(lines[0]);
    expect(line).toContain('/bot<redacted>/deleteWebhook');
    expect(line).toContain('[REDACTED]');
    for (const secret of [token, ...secrets, encodeURIComponent(secrets[1]!)])
      expect(line).not.toContain(secret);
    // The JSON-escaped form of a secret with a quote is gone too.
    expect(line).not.toContain('p@ss\\"w/ord');
    // The causes are still there, only scrubbed.
    expect(line).toContain('refused');
    expect(line).toContain('getUpdates failed');
  });

  it('scrubs a Bot API token by its shape even when nobody listed it', () => {
    const { logger, lines } = capture();
    logger.error(`GET /bot${token}/getMe and a bare ${token}`);
    expect(JSON.stringify(lines[0])).not.toContain(token.split(':')[1]);
  });
});
