import { createServer, type Server } from 'node:http';
import {
  initTelemetry,
  type ReadableSpan,
  type SpanExporter,
  type Telemetry,
} from '@topicdesk/telemetry';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { createBridgeMetrics as CreateBridgeMetrics } from '../metrics';
import type { createTelegramApi as CreateTelegramApi } from './telegram-api';

// Loaded after initTelemetry, as main.ts does, so the http instrumentation sees grammY's requests.
let createBridgeMetrics: typeof CreateBridgeMetrics;
let createTelegramApi: typeof CreateTelegramApi;

const spans: ReadableSpan[] = [];
const memory: SpanExporter = {
  export: (batch, done) => {
    spans.push(...batch);
    done({ code: 0 });
  },
  shutdown: async () => undefined,
};

let telemetry: Telemetry;
let server: Server;
let apiRoot: string;
/** Canned Bot API answers, taken in order per method. */
const answers = new Map<string, Array<Record<string, unknown>>>();

async function scrape(): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const response = {
      setHeader: () => undefined,
      statusCode: 200,
      end: (body: string) => resolve(body ?? Buffer.concat(chunks).toString()),
    };
    telemetry.handleMetrics({ url: '/metrics', headers: {} } as never, response as never);
  });
}

beforeAll(async () => {
  telemetry = initTelemetry({ serviceName: 'unit-bridge', env: {}, spanExporter: memory });
  ({ createBridgeMetrics } = await import('../metrics'));
  ({ createTelegramApi } = await import('./telegram-api'));
  server = createServer((request, response) => {
    const method = request.url?.split('/').pop() ?? '';
    const answer = answers.get(method)?.shift() ?? { ok: true, result: true };
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify(answer));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  apiRoot = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await telemetry.shutdown();
});

describe('createTelegramApi', () => {
  it('traces each Bot API call as a CLIENT span and counts calls, errors, 429s and retries', async () => {
    const api = createTelegramApi('123:secret-token', apiRoot, createBridgeMetrics());
    answers.set('sendMessage', [
      {
        ok: false,
        error_code: 429,
        description: 'Too Many Requests: retry after 3',
        parameters: { retry_after: 3 },
      },
      { ok: true, result: { message_id: 5, date: 0, chat: { id: -1001, type: 'supergroup' } } },
    ]);

    await expect(
      api.sendMessage(-1001, 'hello there', { message_thread_id: 7 }),
    ).rejects.toMatchObject({ error_code: 429 });
    await api.sendMessage(-1001, 'hello there, merged', { message_thread_id: 7 });

    // Spans are exported once the resource's detected attributes are in: a moment later.
    const sends = await vi.waitFor(() => {
      const found = spans.filter((s) => s.name === 'telegram sendMessage');
      expect(found).toHaveLength(2);
      return found;
    });
    const [refused, accepted] = sends as [ReadableSpan, ReadableSpan];
    expect(refused.attributes).toMatchObject({
      'rpc.system': 'telegram_bot_api',
      'rpc.method': 'sendMessage',
      'telegram.chat_id': -1001,
      'telegram.message_thread_id': 7,
      'http.response.status_code': 429,
      'telegram.error_code': 429,
      'telegram.retry_after': 3,
      'telegram.retry_count': 0,
    });
    expect(refused.status.code).toBe(2);
    expect(accepted.attributes).toMatchObject({
      'http.response.status_code': 200,
      'telegram.retry_count': 1,
    });
    // The HTTP request is a child of the call's span, and the token is not in its URL.
    const http = spans.find((s) => s.parentSpanContext?.spanId === accepted.spanContext().spanId);
    expect(http?.attributes['url.full']).toMatch(/\/bot<redacted>\/sendMessage$/);
    expect(JSON.stringify(spans.map((s) => s.attributes))).not.toContain('secret-token');
    expect(JSON.stringify(spans.map((s) => s.attributes))).not.toContain('hello there');

    const text = await scrape();
    expect(text).toMatch(
      /topicdesk_telegram_calls_total\{method="sendMessage",code="429",bot="123",tenant="default"\} 1/,
    );
    expect(text).toMatch(
      /topicdesk_telegram_calls_total\{method="sendMessage",code="200",bot="123",tenant="default"\} 1/,
    );
    expect(text).toMatch(
      /topicdesk_telegram_errors_total\{method="sendMessage",code="429",bot="123",tenant="default"\} 1/,
    );
    expect(text).toMatch(
      /topicdesk_telegram_429_total\{method="sendMessage",bot="123",tenant="default"\} 1/,
    );
    expect(text).toMatch(/topicdesk_telegram_retries_total\{method="sendMessage"\} 1/);
  });

  it('counts a network failure with code "network" and records the exception', async () => {
    const api = createTelegramApi(
      '123:secret-token',
      'http://127.0.0.1:1',
      createBridgeMetrics(),
      2,
    );
    await expect(api.getMe()).rejects.toThrow();
    const span = await vi.waitFor(() => {
      const found = spans.find((s) => s.name === 'telegram getMe');
      expect(found).toBeDefined();
      return found;
    });
    expect(span?.attributes['telegram.error_code']).toBe('network');
    expect(span?.status.code).toBe(2);
    expect(span?.events.some((e) => e.name === 'exception')).toBe(true);
    expect(await scrape()).toMatch(
      /topicdesk_telegram_errors_total\{method="getMe",code="network",bot="\d+",tenant="default"\} 1/,
    );
  });
});
