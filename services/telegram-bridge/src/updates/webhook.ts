import { timingSafeEqual } from 'node:crypto';
import type { FastifyError, FastifyPluginAsync } from 'fastify';
import type { BridgeMetrics } from '../metrics';

export interface WebhookRouteOptions {
  /** The :secret path segment; the route answers 404 to anything else. */
  pathSecret: string | undefined;
  /** Expected X-Telegram-Bot-Api-Secret-Token, when configured. */
  headerSecret: string | undefined;
  metrics: BridgeMetrics;
  /** Makes the update durable (JetStream); the 200 is sent only after it resolves. */
  ingest: (update: { update_id: number } & Record<string, unknown>) => Promise<void>;
}

function same(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** POST /v1/telegram/webhook/:secret — Telegram's deliveries; non-2xx makes Telegram retry. */
export const webhookRoute: FastifyPluginAsync<WebhookRouteOptions> = async (app, options) => {
  // Errors answer in the documented shape, never with their internal message: a body that is
  // not JSON is final (400), anything else is logged and answered 503, so Telegram retries.
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
      return reply.status(error.statusCode === 413 ? 413 : 400).send({
        error: { code: 'BRIDGE_INVALID_UPDATE', message: 'an Update as a JSON object is expected' },
      });
    }
    request.log.error({ err: error }, 'could not ingest a webhook update; Telegram will retry');
    return reply.status(503).send({
      error: { code: 'UNAVAILABLE', message: 'the update could not be stored; retry' },
    });
  });
  app.post<{ Params: { secret: string } }>(
    '/v1/telegram/webhook/:secret',
    { bodyLimit: 1024 * 1024 },
    async (request, reply) => {
      if (!options.pathSecret || !same(request.params.secret, options.pathSecret)) {
        options.metrics.webhookAuthFailures.add(1, { reason: 'path' });
        return reply.status(404).send({ error: { code: 'NOT_FOUND', message: 'not found' } });
      }
      const header = request.headers['x-telegram-bot-api-secret-token'];
      if (
        options.headerSecret &&
        (typeof header !== 'string' || !same(header, options.headerSecret))
      ) {
        options.metrics.webhookAuthFailures.add(1, { reason: 'header' });
        return reply
          .status(401)
          .send({ error: { code: 'BRIDGE_WEBHOOK_UNAUTHORIZED', message: 'wrong secret token' } });
      }
      const body = request.body;
      if (
        !body ||
        typeof body !== 'object' ||
        !Number.isSafeInteger((body as { update_id?: unknown }).update_id)
      ) {
        return reply.status(400).send({
          error: {
            code: 'BRIDGE_INVALID_UPDATE',
            message: 'an Update with an integer update_id is expected',
          },
        });
      }
      await options.ingest(body as { update_id: number } & Record<string, unknown>);
      return reply.status(200).send({});
    },
  );
};
