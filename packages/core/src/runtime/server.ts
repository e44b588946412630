import type { Socket } from 'node:net';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { UNTRACED_PATHS, type Logger, type Telemetry } from '@topicdesk/telemetry';

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

/** How long /readyz waits for the dependency checks before it answers 503 anyway. */
const READINESS_TIMEOUT_MS = 2_000;

const NOT_FOUND_BODY = { error: { code: 'NOT_FOUND', message: 'no such route' } };

/**
 * A fastify server with what every service has: request tracing (@fastify/otel, registered
 * before any route), /healthz (the process is alive), /readyz (its dependencies answer),
 * /metrics (Prometheus text), request ids in logs and responses, the conversation id in the
 * request's log lines, and no crash on bad input. Once `markDraining()` is called, /readyz
 * answers 503 and every other request (WebSocket upgrades included) is refused with 503, so a
 * load balancer and reconnecting widgets move to another replica.
 */
export async function createServer(options: ServerOptions): Promise<FastifyInstance> {
  // pino's Logger is a FastifyBaseLogger; typed as one, the instance keeps fastify's default
  // generics (the FastifyInstance every route module takes).
  const logger: FastifyBaseLogger = options.logger;
  const app = Fastify({
    loggerInstance: logger,
    trustProxy: trustProxyOption(options.trustProxy),
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    // Per-request info lines cost more than they tell at this volume; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    // Ids are ours: a client-chosen X-Request-ID would let anyone forge or flood log lines.
    requestIdHeader: false,
    genReqId: () => crypto.randomUUID(),
    // A path fastify cannot route (malformed percent-encoding, a segment over its limit) is
    // answered in the documented shape, without the URL echoed back.
    frameworkErrors: (error: FastifyError, _request: FastifyRequest, reply: FastifyReply) => {
      void reply
        .status(400)
        .send(
          errorBody(
            'INVALID_REQUEST',
            error.code === 'FST_ERR_MAX_PARAM_LENGTH'
              ? 'a path segment is too long'
              : 'the URL is not valid (malformed percent-encoding)',
          ),
        );
    },
    // A request node's HTTP parser refuses (a Content-Length that is not a number, garbage).
    clientErrorHandler: (_error, socket) => {
      if (!socket.writable) {
        socket.destroy();
        return;
      }
      const body = JSON.stringify(errorBody('INVALID_REQUEST', 'the request is not valid HTTP'));
      socket.end(
        `HTTP/1.1 400 Bad Request\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
      );
    },
  });
  // Awaited, so that it sees every route and hook defined after it.
  await app.register(options.telemetry.fastifyPlugin());
  let draining = false;
  // Every TCP connection, upgraded ones included (node's http server stops tracking those), so
  // a shutdown can cut whatever is left once its grace is over.
  const connections = new Set<Socket>();
  app.server.on('connection', (socket: Socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
  });

  app.addHook('onRequest', async (request, reply) => {
    if (!draining || UNTRACED_PATHS.has(request.routeOptions.url ?? '')) return;
    void reply.header('connection', 'close');
    return reply
      .status(503)
      .send({ error: { code: 'UNAVAILABLE', message: 'this instance is shutting down; retry' } });
  });
  app.addHook('preHandler', async (request) => {
    const conversationId = conversationIdOf(request);
    if (conversationId !== undefined) request.log = request.log.child({ conversationId });
  });
  app.addHook('onSend', async (request, reply) => {
    void reply.header('x-request-id', request.id);
    // Answers are JSON or assets of a known type: a browser must not guess another one.
    void reply.header('x-content-type-options', 'nosniff');
  });
  // An upgrade request answered with an HTTP status (refused by any hook or handler, or for a
  // route that does not exist) owns its TCP socket outright: node's http server let go of it
  // when it emitted 'upgrade', so nobody else ever closes it. Close it once the answer is out.
  app.addHook('onResponse', async (request) => {
    // node sets `upgrade` on every request it parsed (@types/node does not declare it).
    if ((request.raw as { upgrade?: boolean }).upgrade === true) request.raw.socket.destroySoon();
  });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const readiness = draining
      ? { ok: false, checks: { shutdown: { ok: false, detail: 'shutting down' } } }
      : await withTimeout(options.readiness(), READINESS_TIMEOUT_MS);
    return reply
      .status(readiness.ok ? 200 : 503)
      .send({ status: readiness.ok ? 'ready' : 'unavailable', checks: readiness.checks });
  });
  app.get('/metrics', (request, reply) => {
    void reply.hijack();
    options.telemetry.handleMetrics(request.raw, reply.raw);
  });
  // Routes of no plugin of their own (and unknown routes) answer errors in the documented shape.
  app.setErrorHandler((error: FastifyError, request, reply) => {
    // An unknown route's body is parsed before its 404 handler runs: whatever is wrong with the
    // body (too large, not JSON), the answer is that the route does not exist.
    if (request.is404) return reply.status(404).send(NOT_FOUND_BODY);
    const status = error.statusCode ?? 500;
    if (status >= 500) {
      request.log.error({ err: error }, 'request failed');
      return reply
        .status(503)
        .send(errorBody('UNAVAILABLE', 'the service could not handle the request; try again'));
    }
    return reply
      .status(status === 413 || status === 415 ? status : 400)
      .send(
        status === 413
          ? errorBody('PAYLOAD_TOO_LARGE', 'the request is too large')
          : status === 415
            ? errorBody('UNSUPPORTED_MEDIA_TYPE', 'send application/json')
            : error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError
              ? errorBody('INVALID_JSON', 'the body is not valid JSON')
              : errorBody('INVALID_REQUEST', 'the request is not valid'),
      );
  });
  app.setNotFoundHandler((_request, reply) => {
    void reply.status(404).send(NOT_FOUND_BODY);
  });
  app.decorate('markDraining', () => {
    draining = true;
  });
  app.decorate('closeWithin', async (graceMs: number) => {
    // In-flight requests and close handshakes get `graceMs`; a client that does not read, a
    // request whose body never comes or an idle socket then loses its connection.
    const timer = setTimeout(() => {
      app.log.warn({ connections: connections.size, graceMs }, 'cutting connections left open');
      for (const socket of connections) socket.destroy();
    }, graceMs);
    try {
      await app.close();
    } finally {
      clearTimeout(timer);
    }
  });
  return app;
}

function errorBody(code: string, message: string) {
  return { error: { code, message } };
}

/** The `:id` of the conversation routes (`/v1/conversations/:id/...`), for log lines. */
function conversationIdOf(request: FastifyRequest): string | undefined {
  if (!request.routeOptions.url?.includes('/conversations/:id')) return undefined;
  const id = (request.params as { id?: unknown } | undefined)?.id;
  return typeof id === 'string' && id.length <= 64 ? id : undefined;
}

async function withTimeout(readiness: Promise<Readiness>, ms: number): Promise<Readiness> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Readiness>((resolve) => {
    timer = setTimeout(
      () =>
        resolve({
          ok: false,
          checks: { readiness: { ok: false, detail: `no answer within ${ms} ms` } },
        }),
      ms,
    );
  });
  try {
    return await Promise.race([readiness, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A hop count becomes the equivalent function (fastify's types only name the other forms). */
function trustProxyOption(
  value: ServerOptions['trustProxy'],
): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (typeof value === 'number') return (_address, hop) => hop < value;
  return value ?? false;
}

/**
 * Calls `shutdown` once on SIGTERM/SIGINT; a second signal exits at once, and so does a shutdown
 * still running after `deadlineMs` (SHUTDOWN_TIMEOUT): an orchestrator kills the process soon
 * after anyway, and a process that never exits holds its port and its replica's slot.
 */
export function onShutdownSignal(
  logger: Logger,
  shutdown: (signal: string) => Promise<void>,
  deadlineMs = 10_000,
): void {
  let called = false;
  const handler = (signal: NodeJS.Signals) => {
    if (called) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    called = true;
    logger.info({ signal, deadlineMs }, 'shutting down');
    setTimeout(() => {
      logger.error({ signal, deadlineMs }, 'shutdown did not finish within its deadline: exiting');
      process.exit(1);
    }, deadlineMs).unref();
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
