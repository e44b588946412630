import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { agentAnswer } from './answers';
import { openApiDocument, type DocumentedRoute } from './openapi';

const route = (method: string, url: string, doc: DocumentedRoute['doc']): DocumentedRoute => ({
  method,
  url,
  doc,
  permission: undefined,
});

type Json = { content: Record<string, { schema: unknown }> };
const answerOf = (document: ReturnType<typeof openApiDocument>, path: string, method: string) =>
  (document.paths[path]?.[method] as { responses: Record<string, Json> }).responses;

describe('openApiDocument', () => {
  it('shows each answer schema: shared shapes by $ref, an answer of its own inline wherever it is given', () => {
    const count = z.strictObject({ updated: z.number().int() });
    const document = openApiDocument(
      [
        route('put', '/v1/a/:id', {
          summary: 'a',
          tag: 'admin',
          auth: 'admin',
          answers: { 200: agentAnswer },
        }),
        route('put', '/v1/b', {
          summary: 'b',
          tag: 'admin',
          auth: 'admin',
          answers: { 200: count },
        }),
        route('post', '/v1/c', {
          summary: 'c',
          tag: 'admin',
          auth: 'admin',
          answers: { 201: count },
        }),
      ],
      'test',
    );
    expect(
      answerOf(document, '/v1/a/{id}', 'put')['200']?.content['application/json']?.schema,
    ).toEqual({ $ref: '#/components/schemas/Agent' });
    const inline = {
      type: 'object',
      properties: {
        updated: {
          type: 'integer',
          minimum: Number.MIN_SAFE_INTEGER,
          maximum: Number.MAX_SAFE_INTEGER,
        },
      },
      required: ['updated'],
      additionalProperties: false,
    };
    expect(answerOf(document, '/v1/b', 'put')['200']?.content['application/json']?.schema).toEqual(
      inline,
    );
    expect(answerOf(document, '/v1/c', 'post')['201']).toMatchObject({
      description: 'Created',
      content: { 'application/json': { schema: inline } },
    });
    expect(document.components.schemas['Agent']).toMatchObject({ type: 'object' });
  });

  it('lists JSON and the other media type of an answer that can be either', () => {
    const document = openApiDocument(
      [
        route('get', '/v1/report', {
          summary: 'r',
          tag: 'admin',
          auth: 'admin',
          responses: { 200: { description: 'JSON, or CSV', type: 'text/csv' } },
          answers: { 200: z.strictObject({ rows: z.array(z.string()) }) },
        }),
      ],
      'test',
    );
    const content = answerOf(document, '/v1/report', 'get')['200']?.content ?? {};
    expect(Object.keys(content).sort()).toEqual(['application/json', 'text/csv']);
    expect(content['text/csv']?.schema).toEqual({ type: 'string' });
  });
});
