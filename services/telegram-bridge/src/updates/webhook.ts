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
  ingest: Ingest;
  /**
   * The tenant whose `webhook_secret` is `secret` (any other secret than the default tenant's):
   * its header secret and its intake; undefined for an unknown, inactive or bot-less tenant.
   */
  tenantOf?: (secret: string) => Promise<TenantWebhook | undefined>;
}

type Ingest = (update: { update_id: number } & Record<string, unknown>) => Promise<void>;

/** A tenant's side of the route. */
export interface TenantWebhook {
  tenantId: string;
  /** Its X-Telegram-Bot-Api-Secret-Token (`telegramHeaderSecret` of its webhook secret). */
  headerSecret: string;
  ingest: Ingest;
}

/** Compared against when no tenant has the secret, so an unknown one costs what a known one does. */
const DECOY = 'x'.repeat(32);

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
      const header = request.headers['x-telegram-bot-api-secret-token'];
      let headerSecret = options.headerSecret;
      let ingest = options.ingest;
      if (!options.pathSecret || !same(request.params.secret, options.pathSecret)) {
        // Another tenant's bot: its secret names it, and its header secret is always required.
        const tenant = options.tenantOf ? await options.tenantOf(request.params.secret) : undefined;
        if (!tenant) {
          same(typeof header === 'string' ? header : '', DECOY);
          options.metrics.webhookAuthFailures.add(1, { reason: 'path' });
          return reply.status(404).send({ error: { code: 'NOT_FOUND', message: 'not found' } });
        }
        headerSecret = tenant.headerSecret;
        ingest = tenant.ingest;
      }
      if (headerSecret && (typeof header !== 'string' || !same(header, headerSecret))) {
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
      await ingest(body as { update_id: number } & Record<string, unknown>);
      return reply.status(200).send({});
    },
  );
};
