import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import cookie from '@fastify/cookie';
import cors from '@fastify/cors';
import websocket from '@fastify/websocket';
import type { Bus } from '@topicdesk/bus';
import {
  AdminService,
  BotChannels,
  UserKeyring,
  ConsoleReads,
  AttachmentService,
  ConsoleAccess,
  ConversationService,
  DataRequests,
  detachedPublisher,
  Ratings,
  Reports,
  SlaSettingsService,
  UnitOfWork,
  type DB,
  type Kysely,
  type Publisher,
} from '@topicdesk/core';
import type { Coordination } from '@topicdesk/fanout';
import {
  conversationParamsSchema,
  historyPageSchema,
  historyQuerySchema,
  issuedTokenSchema,
  type ErrorFrame,
  type HistoryPage,
} from '@topicdesk/protocol';
import type { Logger } from '@topicdesk/telemetry';
import type { WebSocket } from 'ws';
import type {
  FastifyError,
  FastifyInstance,
  FastifyPluginAsync,
  FastifyReply,
  FastifyRequest,
} from 'fastify';
import type { GatewayConfig } from './config';
import { ErrorCode, GatewayError, REST_BODY_LIMIT, toGatewayError } from './errors';
import { messageEvent } from '@topicdesk/core';
import { createGatewayMetrics } from './metrics';
import {
  assertCurrentToken,
  authorizeConversation,
  ConversationTokens,
  REPLACED_TOKEN_REFRESH_WINDOW_MS,
  tokenFrom,
} from './tokens';
import { closeTenantSockets } from './open-sockets';
import { CloseCode, VisitorSocket } from './visitor-socket';
import { widgetRoutes } from './widget.routes';
import { visitorProfileRoutes } from './visitor-profile.routes';
import { adminRoutes } from './admin.routes';
import { conversationAdminRoutes } from './conversation-admin.routes';
import { BridgeStatusBoard } from './bridge-status';
import { overviewRoutes } from './overview.routes';
import { reportRoutes } from './report.routes';
import { slaRoutes } from './sla.routes';
import { dataRequestRoutes } from './data-request.routes';
import { setupRoutes } from './setup.routes';
import { BridgeMiniApp, BridgeSetup } from './setup-client';
import { attachmentRoutes } from './attachment.routes';
import { botChannelRoutes } from './bot-channel.routes';
import { consoleOrigin, installAdminAccess, isAdminRoute } from './admin-access';
import { consoleRoutes } from './console.routes';
import { consolePageRoutes } from './console-page.routes';
import { openApiDocument, routeCollector } from './openapi';
import { installAnswerCheck } from './answer-check';
import { OPENAPI_PAGE_CSP, openApiPage } from './openapi-page';
import { consoleUrl as consoleUrlOf } from '@topicdesk/config';
import { createAttachmentRuntime } from '@topicdesk/storage';
import { parse } from './validation';
import { assertOriginAllowed, gatewayTenants } from './tenants';
import { conversationStartRoutes } from './conversation-start.routes';
import { TenantQuotas } from './tenant-quotas';
import { TenantSockets } from './tenant-sockets';
import { adminUsageRoutes, TenantUsageReader } from './tenant-usage';
import { PLATFORM_PREFIX, platformRoutes } from './platform.routes';
import { platformSignInRoutes } from './platform-session';

export interface GatewayDeps {
  config: GatewayConfig;
  db: Kysely<DB>;
  bus: Bus;
  coordination: Coordination;
  relay: Publisher;
  logger: Logger;
  /** Identifies this replica in `origin` markers. */
  replicaId?: string;
}

/**
 * The visitor API (REST + WebSocket) and the demo page, as a fastify plugin: the gateway
 * service registers it on its own server, one-process mode next to the bridge's routes.
 */
export const gatewayPlugin: FastifyPluginAsync<GatewayDeps> = async (app, deps) => {
  const { config, logger } = deps;
  const metrics = createGatewayMetrics();
  // An ack means "stored": it must not wait for NATS or Redis. Rows are durable once committed;
  // the fast path publishes them in the background, and what it cannot publish (NATS away: each
  // try waits out the publish timeout) is left to the sweeper. publish() reports, never throws.
  const uow = new UnitOfWork(deps.db, detachedPublisher(deps.relay, deps.logger));
  const tenants = gatewayTenants({
    config,
    db: deps.db,
    uow,
    bus: deps.bus,
    logger,
    inactive: (tenantId) => {
      const closed = closeTenantSockets(deps.coordination.fanout, tenantId);
      if (closed > 0) logger.info({ tenantId, closed }, "an inactive tenant's sockets closed");
    },
  });
  app.addHook('onClose', async () => tenants.close());
  await tenants.ready;
  const tokens = new ConversationTokens(
    config.CONVERSATION_JWT_SECRET,
    config.TOKEN_TTL,
    config.TOKEN_REFRESH_GRACE,
    config.TOKEN_BIND_IP,
    (tenantId) => tenants.served(tenantId),
    (tenantId) => tenants.jwtSecret(tenantId),
  );
  const replicaId = deps.replicaId ?? randomBytes(4).toString('hex');
  const tenantSockets = new TenantSockets({
    leases: deps.coordination.leases,
    limitsOf: async (tenantId) => (await tenants.directory.get(tenantId))?.limits ?? {},
    replicaId,
    logger,
    onRefused: () => metrics.rateLimited.add(1, { scope: 'tenant_concurrentSockets' }),
  });
  app.addHook('onClose', async () => tenantSockets.close());
  const tenantQuotas = new TenantQuotas({
    quotas: deps.coordination.quotas,
    limitsOf: async (tenantId) => (await tenants.directory.get(tenantId))?.limits ?? {},
    onRefused: (limit) => metrics.rateLimited.add(1, { scope: `tenant_${limit}` }),
  });
  const conversations = new ConversationService(uow);
  const files = createAttachmentRuntime(config, {
    dataDir: config.DATA_DIR,
    port: config.PORT,
    secret: config.CONVERSATION_JWT_SECRET,
  });
  const attachments = new AttachmentService({
    uow,
    ...files,
    urlTtlMs: config.ATTACHMENTS_URL_TTL,
    logger,
  });
  app.addHook('onClose', () => files.storage.close());
  const admin = new AdminService(uow, deps.bus);
  const reads = new ConsoleReads(uow, {
    attachments,
    defaultCapacity: config.AGENT_CAPACITY_DEFAULT,
  });
  const consoleUrl = consoleUrlOf(config);
  const access = new ConsoleAccess(uow, {
    ttlMs: config.CONSOLE_SESSION_TTL,
    idleMs: config.CONSOLE_SESSION_IDLE,
  });
  // Every route registered from here on is seen: /openapi.json is made of them.
  const collector = routeCollector();
  app.addHook('onRoute', collector.onRoute);
  let document: ReturnType<typeof openApiDocument> | undefined;
  app.get('/openapi.json', async () => (document ??= openApiDocument(collector.routes, VERSION)));
  let page: string | undefined;
  app.get('/openapi', async (_request, reply) => {
    page ??= openApiPage((document ??= openApiDocument(collector.routes, VERSION)));
    return reply
      .header('content-type', 'text/html; charset=utf-8')
      .header('content-security-policy', OPENAPI_PAGE_CSP)
      .header('x-content-type-options', 'nosniff')
      .send(page);
  });
  let socketCounter = 0;
  /** Open sockets per conversation on this replica (WS_MAX_SOCKETS_PER_CONVERSATION). */
  const socketsPerConversation = new Map<string, number>();

  const allowed = config.ALLOWED_ORIGINS.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const anyOrigin = allowed.includes('*');
  const originAllowed = (origin: string | undefined) =>
    origin === undefined || anyOrigin || allowed.includes(origin);

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const mapped = toGatewayError(error);
    if (mapped.statusCode >= 500) request.log.error({ err: error }, 'request failed');
    void reply.status(mapped.statusCode).send(mapped.toJSON());
  });

  // The visitor API takes JSON only: fastify's own text/plain parser would let a cross-site
  // "simple" request (no preflight) in, and answer 400 where the contract says 415.
  app.removeContentTypeParser('text/plain');
  const visitorCors = {
    // An OPTIONS that is not a real preflight gets an empty answer, not a text/plain 400.
    strictPreflight: false,
    origin: (origin: string | undefined, cb: (error: null, allow: string | boolean) => void) =>
      cb(null, originAllowed(origin) ? (origin ?? true) : false),
    // PUT: uploads to the filesystem backend's links (/v1/files?t=…).
    methods: ['GET', 'POST', 'PUT', 'OPTIONS'],
    allowedHeaders: ['Authorization', 'Content-Type'],
    maxAge: 600,
  };
  await app.register(cors, {
    // The admin API is for servers and automation, not for pages in a browser: no CORS at all
    // there (a preflight is not answered), even with ALLOWED_ORIGINS=*; nor for the platform API.
    delegator: (request, cb) =>
      cb(
        null,
        isAdminRoute(request.url) || request.url.startsWith(PLATFORM_PREFIX)
          ? { ...visitorCors, origin: false }
          : visitorCors,
      ),
  });
  // Behind a proxy without TRUST_PROXY every visitor has the proxy's address, and so shares one
  // daily conversation limit: say so once, the first time a forwarded request shows it.
  let proxyWarned = config.TRUST_PROXY !== undefined;
  app.addHook('onRequest', async (request) => {
    if (proxyWarned || request.headers['x-forwarded-for'] === undefined) return;
    proxyWarned = true;
    logger.warn(
      { remoteAddress: request.ip },
      'requests carry X-Forwarded-For but TRUST_PROXY is unset: every visitor behind this proxy ' +
        'counts as one address (LIMIT_CONVERSATIONS_PER_DAY); set TRUST_PROXY to the proxy hops or addresses',
    );
  });
  // A browser on a site that is not allowed is refused outright, not just left without CORS headers.
  app.addHook('onRequest', async (request) => {
    const origin = request.headers.origin;
    // The console (same origin as the gateway) calls the admin API: its own Origin is fine there.
    if (isAdminRoute(request.url) && origin === consoleOrigin(request, consoleUrl)) return;
    if (request.url.startsWith('/v1/') && !originAllowed(origin)) {
      metrics.rateLimited.add(1, { scope: 'origin' });
      throw new GatewayError(ErrorCode.FORBIDDEN, 'this origin may not use the API');
    }
  });

  await app.register(cookie);
  // Test runs: every answer of the API checked against its /openapi.json schema.
  if (config.CHECK_RESPONSE_SCHEMAS) installAnswerCheck(app);
  // After the Origin check, before any route: no admin route can be without a permission.
  installAdminAccess(app, {
    serviceToken: config.SERVICE_TOKEN,
    tenantOfToken: (token) => tenants.byServiceToken(token),
    served: (tenantId) => tenants.served(tenantId),
    access,
    consoleUrl,
    onRefused: (code) => metrics.accessRefused.add(1, { code }),
  });

  await app.register(websocket, {
    options: { maxPayload: Math.max(config.WS_MAX_PAYLOAD * 16, 1024 * 1024) },
  });
  // This plugin is encapsulated, so the server it is registered on cannot see `websocketServer`.
  visitorSocketServers.set(app.server, app.websocketServer);
  // Set by the upgrade's check, read by the socket's handler.
  app.decorateRequest('visitorClaims', null);
  app.decorateRequest('socketSeat', null);

  await app.register(conversationStartRoutes, {
    config,
    tenants,
    tenantQuotas,
    quotas: deps.coordination.quotas,
    conversations,
    tokens,
    metrics,
  });

  app.post(
    '/v1/conversations/:id/token',
    {
      bodyLimit: REST_BODY_LIMIT,
      config: {
        doc: {
          summary: 'A new visitor token (Bearer: the current one, or one expired within the grace)',
          tag: 'visitor',
          auth: 'visitor',
          params: conversationParamsSchema,
          answers: { 200: issuedTokenSchema },
        },
      },
    },
    async (request) => {
      const { id } = parse(conversationParamsSchema, request.params, 'path');
      const { claims } = await authorizeConversation(tokens, conversations, request, id, {
        refresh: true,
      });
      // The token it replaces is retired on every replica (REST, upgrades and further refreshes).
      const generation = await conversations.rotateToken(
        claims.tenantId,
        id,
        claims.generation,
        REPLACED_TOKEN_REFRESH_WINDOW_MS,
      );
      if (generation === undefined) {
        throw new GatewayError(
          ErrorCode.TOKEN_RETIRED,
          'a refresh replaced this token already; use the newer one',
        );
      }
      return tokens.issue(
        { conversationId: id, tenantId: claims.tenantId, generation },
        request.ip,
      );
    },
  );

  app.get(
    '/v1/conversations/:id/messages',
    {
      config: {
        doc: {
          summary: "The conversation's history after a seq",
          tag: 'visitor',
          auth: 'visitor',
          params: conversationParamsSchema,
          query: historyQuerySchema,
          answers: { 200: historyPageSchema },
        },
      },
    },
    async (request): Promise<HistoryPage> => {
      const { id } = parse(conversationParamsSchema, request.params, 'path');
      const { conversation } = await authorizeConversation(tokens, conversations, request, id);
      const query = parse(historyQuerySchema, request.query, 'query');
      const messages = await attachments.withAttachments(
        await conversations.history(conversation.tenant_id, id, query.after, query.limit),
      );
      return {
        status: conversation.status,
        ticket: conversation.ticket,
        messages: messages.map((m) => {
          const {
            type: _type,
            origin: _origin,
            ...rest
          } = messageEvent(m, undefined, m.attachments);
          return rest;
        }),
      };
    },
  );

  app.get(
    '/v1/ws',
    {
      websocket: true,
      config: {
        doc: {
          summary:
            'The visitor WebSocket (token in Authorization or ?token=); frames: docs/contract.md',
          tag: 'visitor',
          auth: 'visitor',
          responses: { 101: 'switching to the WebSocket protocol' },
        },
      },
      preValidation: async (request: FastifyRequest, reply: FastifyReply) => {
        try {
          if (!originAllowed(request.headers.origin))
            throw new GatewayError(ErrorCode.FORBIDDEN, 'this origin may not use the API');
          const claims = await tokens.verify(
            tokenFrom(request.headers.authorization, request.query),
            request.ip,
          );
          const conversation = await conversations.find(claims.tenantId, claims.conversationId);
          if (!conversation) throw new GatewayError(ErrorCode.NOT_FOUND, 'no such conversation');
          assertCurrentToken(claims, conversation);
          const tenant = await tenants.directory.get(claims.tenantId);
          if (tenant) assertOriginAllowed(tenant, request.headers.origin);
          // Taken last: its seat is released when the connection closes, upgraded or not.
          const seat = await tenantSockets.open(claims.tenantId);
          if (seat.held) request.raw.socket.once('close', seat.release);
          request.socketSeat = seat;
          request.visitorClaims = claims;
          request.log = request.log.child({ tenantId: claims.tenantId });
        } catch (error) {
          const mapped =
            error instanceof GatewayError
              ? error
              : new GatewayError(ErrorCode.UNAVAILABLE, 'try again');
          return reply.status(mapped.statusCode).send(mapped.toJSON());
        }
      },
    },
    (socket, request) => {
      const claims = request.visitorClaims;
      if (!claims) return socket.close(CloseCode.UNAUTHORIZED, 'unauthorized');
      releaseUpgradeRequest(socket, request);
      const seat = request.socketSeat;
      if (seat?.held === false) {
        // The frame, then the close: a widget learns which plan limit, and backs off.
        const refused: ErrorFrame = { type: 'error', ...seat.refusal };
        socket.send(JSON.stringify(refused));
        socket.close(CloseCode.TENANT_QUOTA, 'too many open sockets for this site');
        setTimeout(() => socket.terminate(), 5_000).unref();
        return;
      }
      // Each socket costs memory and a file; one token must not be able to open thousands.
      const open = socketsPerConversation.get(claims.conversationId) ?? 0;
      if (open >= config.WS_MAX_SOCKETS_PER_CONVERSATION) {
        metrics.rateLimited.add(1, { scope: 'ws_sockets_per_conversation' });
        const refused: ErrorFrame = {
          type: 'error',
          code: ErrorCode.RATE_LIMITED,
          message: `at most ${config.WS_MAX_SOCKETS_PER_CONVERSATION} open sockets per conversation`,
        };
        socket.send(JSON.stringify(refused));
        socket.close(CloseCode.TOO_MANY_SOCKETS, 'too many sockets for this conversation');
        // A client that does not answer the close handshake loses the connection anyway.
        setTimeout(() => socket.terminate(), 5_000).unref();
        return;
      }
      socketsPerConversation.set(claims.conversationId, open + 1);
      socket.once('close', () => {
        const left = (socketsPerConversation.get(claims.conversationId) ?? 1) - 1;
        if (left > 0) socketsPerConversation.set(claims.conversationId, left);
        else socketsPerConversation.delete(claims.conversationId);
      });
      metrics.connections.add(1);
      socket.once('close', () => metrics.connections.add(-1));
      const visitor = new VisitorSocket(socket, claims, `${replicaId}:${++socketCounter}`, {
        bus: deps.bus,
        coordination: deps.coordination,
        conversations,
        attachments,
        logger,
        metrics,
        tenantQuotas,
        limits: {
          burst: config.WS_RATE_BURST,
          perSec: config.WS_RATE_PER_SEC,
          maxPayload: config.WS_MAX_PAYLOAD,
          messagesPerHour: config.LIMIT_MESSAGES_PER_HOUR,
          closeAfterRefused: config.WS_RATE_CLOSE_AFTER,
          refusedWindowMs: config.WS_RATE_CLOSE_WINDOW,
          maxBufferedBytes: config.WS_MAX_BUFFERED_BYTES,
        },
      });
      visitor.open().catch((error: unknown) => {
        logger.warn(
          { err: error, conversationId: claims.conversationId },
          'could not open a visitor socket',
        );
        socket.close(1011, 'unavailable');
      });
    },
  );

  await app.register(widgetRoutes, {
    prechatFields: config.PRECHAT_FIELDS,
    // The demo page's CSP lets the widget upload to and show files from where they are stored.
    fileSource: config.S3_BUCKET
      ? config.S3_ENDPOINT
        ? new URL(config.S3_ENDPOINT).origin
        : 'https://*.amazonaws.com'
      : new URL(config.PUBLIC_URL ?? `http://localhost:${config.PORT}`).origin,
  });
  await app.register(visitorProfileRoutes, {
    tokens,
    conversations,
    ratings: new Ratings(uow),
    quotas: deps.coordination.quotas,
    changesPerHour: config.LIMIT_PROFILE_CHANGES_PER_HOUR,
  });
  await app.register(attachmentRoutes, {
    tokens,
    conversations,
    attachments,
    storage: files.storage,
    quotas: deps.coordination.quotas,
    uploadsPerHour: config.LIMIT_UPLOADS_PER_HOUR,
    tenantQuotas,
  });
  await app.register(adminRoutes, { admin, reads });
  await app.register(conversationAdminRoutes, { reads });
  const bridgeStatus = new BridgeStatusBoard(deps.bus, { logger });
  app.addHook('onClose', async () => bridgeStatus.close());
  await app.register(overviewRoutes, {
    reads,
    access,
    fanout: deps.coordination.fanout,
    logger,
    heartbeatMs: config.CONSOLE_STREAM_HEARTBEAT,
    onStreams: (delta) => metrics.overviewStreams.add(delta),
    telegram: bridgeStatus,
  });
  await app.register(reportRoutes, { reports: new Reports(uow) });
  await app.register(consoleRoutes, {
    access,
    consoleUrl,
    miniApp: new BridgeMiniApp(deps.bus, config.SETUP_BRIDGE_TIMEOUT),
    sessionTtlMs: config.CONSOLE_SESSION_TTL,
    onSignIn: (outcome) => metrics.signIns.add(1, { outcome }),
  });
  await app.register(slaRoutes, { sla: new SlaSettingsService(uow) });
  await app.register(botChannelRoutes, {
    channels: config.TELEGRAM_USER_KEY
      ? new BotChannels({
          uow,
          keyring: UserKeyring.fromEnv(config.TELEGRAM_USER_KEY, config.TELEGRAM_USER_KEY_PREVIOUS),
          quotas: deps.coordination.quotas,
          logger,
          limits: {
            conversationsPerDay: config.LIMIT_CONVERSATIONS_PER_DAY,
            messagesPerHour: config.LIMIT_MESSAGES_PER_HOUR,
          },
        })
      : undefined,
    quotas: deps.coordination.quotas,
    callsPerMinute: config.BOT_CHANNEL_CALLS_PER_MINUTE,
  });
  await app.register(consolePageRoutes);
  await app.register(dataRequestRoutes, {
    requests: new DataRequests(uow, { files: attachments }),
    topicPolicy: config.DSAR_TOPIC_POLICY,
  });
  const usage = new TenantUsageReader({
    quotas: deps.coordination.quotas,
    sockets: tenantSockets,
    tenant: (tenantId) => tenants.directory.get(tenantId),
  });
  await app.register(adminUsageRoutes, { usage });
  const platform = {
    platformToken: config.PLATFORM_TOKEN,
    consoleUrl,
    onRefused: (code: string) => metrics.accessRefused.add(1, { code, scope: 'platform' }),
  };
  await app.register(platformRoutes, {
    tenants: tenants.service,
    usage: (tenantId) => usage.usage(tenantId),
    rewrap: () => tenants.rewrap(),
    ...platform,
  });
  await app.register(platformSignInRoutes, platform);
  await app.register(setupRoutes, {
    bridge: new BridgeSetup(deps.bus, config.SETUP_BRIDGE_TIMEOUT),
    allowedOrigins: allowed,
    publicUrl: config.PUBLIC_URL,
    tenant: (tenantId) => tenants.directory.get(tenantId),
  });
};

/** The gateway's version in /openapi.json. */
const VERSION = '0.1.0';

/** The visitor WebSocket server of each HTTP server the gateway plugin runs on. */
const visitorSocketServers = new WeakMap<object, FastifyInstance['websocketServer']>();

/**
 * Once a socket is upgraded, the HTTP request and response that carried the upgrade are done
 * with; left alone, they (and the request's logger, hooks' closures and spans) stay reachable
 * from the socket for its whole life: @fastify/websocket's error listener closes over them, and
 * the response stays attached to the TCP socket. The visitor socket handles its own errors.
 */
function releaseUpgradeRequest(socket: WebSocket, request: FastifyRequest): void {
  socket.removeAllListeners('error');
  const tcp = request.raw.socket as Socket & { _httpMessage?: ServerResponse | null };
  tcp._httpMessage?.detachSocket(tcp);
}

/** Closes every visitor socket with 1012 (service restart) so widgets reconnect to another replica. */
export function closeVisitorSockets(app: FastifyInstance): void {
  for (const client of visitorSocketServers.get(app.server)?.clients ?? [])
    client.close(1012, 'service restart');
}
