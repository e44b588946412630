import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errorBodySchema } from '@topicdesk/protocol';
import type { z } from 'zod';
import { ErrorCode, GatewayError } from './errors';
import { isApiUrl } from './openapi';

/** One field of an answer that its schema does not allow: where, and what was expected. */
export interface AnswerMismatch {
  path: string;
  message: string;
}

/**
 * What is wrong with the JSON `body` a documented route answered with `status`: an error answer
 * must be `{ error: { code, message } }`, any other must match the route's declared schema
 * (none declared for a JSON answer is itself a mismatch). Empty: it matches.
 */
export function answerMismatches(
  answers: Partial<Record<number, z.ZodType>> | undefined,
  status: number,
  body: unknown,
): AnswerMismatch[] {
  const schema = status >= 400 ? errorBodySchema : answers?.[status];
  if (!schema) return [{ path: '', message: `no answer schema is declared for ${status}` }];
  const result = schema.safeParse(body);
  if (result.success) return [];
  return result.error.issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    message: issue.message,
  }));
}

const isJson = (reply: FastifyReply) =>
  String(reply.getHeader('content-type') ?? '').startsWith('application/json');

/**
 * CHECK_RESPONSE_SCHEMAS: every JSON answer of a route of /openapi.json is parsed again and
 * checked against the schema the route declares (answers.ts), so a view that drifts from the
 * document fails the suites that call it — loudly: 500 RESPONSE_SCHEMA_MISMATCH with the
 * fields in `details.issues`, and an error line with the route. Files, CSV, HTML and event
 * streams are not JSON and pass as they are.
 */
export function installAnswerCheck(app: FastifyInstance): void {
  app.addHook('onSend', async (request: FastifyRequest, reply: FastifyReply, payload) => {
    const doc = request.routeOptions.config.doc;
    const url = request.routeOptions.url;
    if (!doc || url === undefined || !isApiUrl(url)) return payload;
    if (typeof payload !== 'string' || !isJson(reply)) return payload;
    const status = reply.statusCode;
    let body: unknown;
    try {
      body = JSON.parse(payload);
    } catch {
      // Not JSON at all under a JSON type: checked as the text it is, which no schema allows.
      body = payload;
    }
    const issues = answerMismatches(doc.answers, status, body);
    if (issues.length === 0) return payload;
    const route = `${request.method} ${url}`;
    request.log.error({ route, status, issues }, 'an answer does not match its schema');
    const error = new GatewayError(
      ErrorCode.RESPONSE_SCHEMA_MISMATCH,
      `${route} answered ${status} unlike /openapi.json: ${issues
        .slice(0, 5)
        .map((i) => `${i.path || '(body)'}: ${i.message}`)
        .join('; ')}`,
      { route, status, issues },
    );
    void reply.status(error.statusCode).type('application/json; charset=utf-8');
    return JSON.stringify(error.toJSON());
  });
}
