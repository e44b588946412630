import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { answerMismatches, installAnswerCheck } from './answer-check';
import type { RouteDoc } from './openapi';

const item = z.strictObject({ id: z.number().int(), at: z.iso.datetime() });

describe('answerMismatches', () => {
  it('names the path of each field unlike the schema, and nothing for a match', () => {
    const answers = { 200: z.strictObject({ items: z.array(item) }) };
    expect(
      answerMismatches(answers, 200, { items: [{ id: 1, at: '2026-12-06T10:00:00.000Z' }] }),
    ).toEqual([]);
    const issues = answerMismatches(answers, 200, { items: [{ id: 1, at: 'yesterday' }] });
    expect(issues.map((i) => i.path)).toEqual(['items.0.at']);
    expect(answerMismatches(answers, 200, { items: [], extra: 1 })[0]?.message).toMatch(/extra/);
  });

  it('refuses a JSON answer of a status without a schema, and checks error answers for their shape', () => {
    expect(answerMismatches({ 200: item }, 201, {})).toEqual([
      { path: '', message: 'no answer schema is declared for 201' },
    ]);
    expect(
      answerMismatches(undefined, 404, { error: { code: 'NOT_FOUND', message: 'no' } }),
    ).toEqual([]);
    expect(answerMismatches(undefined, 404, { message: 'no' })).not.toEqual([]);
  });
});

describe('installAnswerCheck', () => {
  async function appWith(answer: unknown, type = 'application/json') {
    const app = Fastify({ logger: false });
    installAnswerCheck(app);
    const doc: RouteDoc = {
      summary: 'a documented route',
      tag: 'admin',
      auth: 'none',
      answers: { 200: item },
    };
    app.get('/v1/thing', { config: { doc } }, async (_request, reply) =>
      reply.type(type).send(typeof answer === 'string' ? answer : JSON.stringify(answer)),
    );
    // Not part of the API surface: never checked.
    app.get('/healthz', async () => ({ anything: true }));
    await app.ready();
    return app;
  }

  it('passes an answer that matches its schema as it is', async () => {
    const app = await appWith({ id: 7, at: '2026-12-06T10:00:00.000Z' });
    const response = await app.inject({ method: 'GET', url: '/v1/thing' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ id: 7, at: '2026-12-06T10:00:00.000Z' });
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    await app.close();
  });

  it('answers 500 RESPONSE_SCHEMA_MISMATCH naming the field when the answer drifts', async () => {
    const app = await appWith({ id: '7', at: '2026-12-06T10:00:00.000Z' });
    const response = await app.inject({ method: 'GET', url: '/v1/thing' });
    expect(response.statusCode).toBe(500);
    const body = response.json<{
      error: { code: string; message: string; details: { issues: Array<{ path: string }> } };
    }>();
    expect(body.error.code).toBe('RESPONSE_SCHEMA_MISMATCH');
    expect(body.error.message).toContain('GET /v1/thing answered 200');
    expect(body.error.details.issues.map((i) => i.path)).toEqual(['id']);
    await app.close();
  });

  it('leaves answers that are not JSON alone (CSV, files)', async () => {
    const app = await appWith('id,at\r\n', 'text/csv');
    const response = await app.inject({ method: 'GET', url: '/v1/thing' });
    expect(response.statusCode).toBe(200);
    expect(response.body).toBe('id,at\r\n');
    await app.close();
  });
});
