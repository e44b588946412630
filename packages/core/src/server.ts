import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Logger, Telemetry } from '@topicdesk/telemetry';

export interface Readiness {
  ok: boolean;
  checks: Record<string, { ok: boolean; detail?: string }>;
}

export interface ServerOptions {
  logger: Logger;
  telemetry: Telemetry;
  readiness: () => Promise<Readiness>;
  /** Fastify's trustProxy: true, a hop count, or addresses. */
  trustProxy?: boolean | number | string[] | undefined;
  /** Bodies beyond this are refused before parsing. */
  bodyLimit?: number | undefined;
}

/**
 * A fastify server with what every service has: /healthz (the process is alive), /readyz
 * (its dependencies answer), /metrics (Prometheus text), request ids, and no crash on bad input.
 */
export function createServer(options: ServerOptions): FastifyInstance {
  // pino's Logger is fastify's logger; the annotation keeps FastifyInstance's default generics.
  const app = Fastify({
    loggerInstance: options.logger,
    trustProxy: trustProxyOption(options.trustProxy),
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    // Per-request info lines cost more than they tell at this volume; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: 'x-request-id',
    genReqId: () => crypto.randomUUID(),
  });
  let draining = false;

  app.addHook('onSend', async (request, reply) => {
    void reply.header('x-request-id', request.id);
  });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const readiness = draining
      ? { ok: false, checks: { shutdown: { ok: false, detail: 'shutting down' } } }
      : await options.readiness();
    return reply
      .status(readiness.ok ? 200 : 503)
      .send({ status: readiness.ok ? 'ready' : 'unavailable', checks: readiness.checks });
  });
  app.get('/metrics', (request, reply) => {
    void reply.hijack();
    options.telemetry.handleMetrics(request.raw, reply.raw);
  });
  app.setNotFoundHandler((_request, reply) => {
    void reply.status(404).send({ error: { code: 'NOT_FOUND', message: 'no such route' } });
  });
  app.decorate('markDraining', () => {
    draining = true;
  });
  return app as unknown as FastifyInstance;
}

/** A hop count becomes the equivalent function (fastify's types only name the other forms). */
function trustProxyOption(
  value: ServerOptions['trustProxy'],
): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (typeof value === 'number') return (_address, hop) => hop < value;
  return value ?? false;
}

/** Calls `shutdown` once on SIGTERM/SIGINT; a second signal exits at once. */
export function onShutdownSignal(
  logger: Logger,
  shutdown: (signal: string) => Promise<void>,
): void {
  let called = false;
  const handler = (signal: NodeJS.Signals) => {
    if (called) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    called = true;
    logger.info({ signal }, 'shutting down');
    shutdown(signal).then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}
