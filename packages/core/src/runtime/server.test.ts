import { createLogger, type Telemetry } from '@topicdesk/telemetry';
import { describe, expect, it } from 'vitest';
import { createServer, type Readiness } from './server';

/** What createServer needs of telemetry, without starting the SDK. */
const telemetry: Telemetry = {
  serviceName: 'unit',
  meter: undefined as unknown as Telemetry['meter'],
  handleMetrics: (_request, response) => {
    response.setHeader('content-type', 'text/plain; version=0.0.4');
    response.end('topicdesk_unit_total 1\n');
  },
  fastifyPlugin: () => async () => undefined,
  shutdown: async () => undefined,
};

function server(readiness: () => Promise<Readiness>, lines: string[] = []) {
  const logger = createLogger({
    service: 'unit',
    destination: { write: (line: string) => void lines.push(line) },
  });
  return createServer({ logger, telemetry, readiness });
}

const ready = async (): Promise<Readiness> => ({ ok: true, checks: { database: { ok: true } } });

describe('createServer', () => {
  it('answers /readyz 200 or 503 from the readiness checks', async () => {
    let ok = true;
    const app = await server(async () => ({ ok, checks: { database: { ok } } }));
    expect((await app.inject('/readyz')).statusCode).toBe(200);
    ok = false;
    const down = await app.inject('/readyz');
    expect(down.statusCode).toBe(503);
    expect(down.json()).toEqual({ status: 'unavailable', checks: { database: { ok: false } } });
    await app.close();
  });

  it('answers 404 NOT_FOUND for an unknown route whatever its body: too large, not JSON, broken JSON', async () => {
    const app = await server(ready);
    for (const [type, payload] of [
      ['application/json', `{"a":"${'x'.repeat(2 * 1024 * 1024)}"}`],
      ['text/plain', 'hello'],
      ['application/x-www-form-urlencoded', 'a=1'],
      ['application/json', '{not json'],
    ] as const) {
      const response = await app.inject({
        method: 'POST',
        url: '/v1/no-such-route',
        headers: { 'content-type': type },
        payload,
      });
      expect(response.statusCode, type).toBe(404);
      expect(response.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'no such route' } });
    }
    await app.close();
  });

  it('answers /readyz 503 within its timeout when a check hangs', async () => {
    const app = await server(() => new Promise<Readiness>(() => undefined));
    const started = performance.now();
    const response = await app.inject('/readyz');
    expect(response.statusCode).toBe(503);
    expect(response.json()).toMatchObject({ checks: { readiness: { ok: false } } });
    expect(performance.now() - started).toBeLessThan(3000);
    await app.close();
  });

  it('while draining: /readyz 503, other routes refused with 503, /healthz and /metrics answered', async () => {
    const app = await server(ready);
    app.get('/v1/thing', async () => ({ ok: true }));
    expect((await app.inject('/v1/thing')).statusCode).toBe(200);
    app.markDraining();
    const refused = await app.inject('/v1/thing');
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['connection']).toBe('close');
    expect(refused.json()).toMatchObject({ error: { code: 'UNAVAILABLE' } });
    expect((await app.inject('/readyz')).json()).toMatchObject({
      checks: { shutdown: { ok: false } },
    });
    expect((await app.inject('/healthz')).statusCode).toBe(200);
    const metrics = await app.inject('/metrics');
    expect(metrics.statusCode).toBe(200);
    expect(metrics.body).toContain('topicdesk_unit_total 1');
    await app.close();
  });

  it('makes its own request id (a client’s X-Request-ID is ignored), sends it back and puts it, and a conversation id, on the request’s log lines', async () => {
    const lines: string[] = [];
    const app = await server(ready, lines);
    app.get<{ Params: { id: string } }>('/v1/conversations/:id/messages', async (request) => {
      request.log.info('listing');
      return { id: request.params.id };
    });
    const response = await app.inject({
      url: '/v1/conversations/c0ffee/messages',
      headers: { 'x-request-id': 'req-42' },
    });
    // The client's own id is not trusted (it could forge or flood log lines); ours is a UUID.
    const id = response.headers['x-request-id'];
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const line = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l['msg'] === 'listing');
    expect(line).toMatchObject({ reqId: id, conversationId: 'c0ffee' });
    await app.close();
  });
});
