import Fastify, { type FastifyInstance, type RouteOptions } from 'fastify';
import {
  ConsoleAccess,
  ConversationService,
  createInfrastructure,
  DEFAULT_TENANT_ID,
  UnitOfWork,
  type OutboxRelay,
  type DB,
  type Infrastructure,
  type Kysely,
  type Role,
} from '@topicdesk/core';
import type { Bus } from '@topicdesk/bus';
import type { Coordination } from '@topicdesk/fanout';
import { createLogger, type Logger } from '@topicdesk/telemetry';
import {
  cleanupNats,
  cleanupRedis,
  createTestDatabase,
  type TestDatabase,
} from '@topicdesk/testkit';
import type { ServerFrame } from '@topicdesk/protocol';
import { WebSocket } from 'ws';
import { registerGateway } from '../src/index';

/** The gateway plugin in this process, over a database of its own (and, if asked, real NATS). */
export interface GatewayUnderTest {
  readonly app: FastifyInstance;
  readonly infra: Infrastructure;
  /** The gateway's outbox relay (`stop()` deletes the rows it published; close stops it too). */
  readonly relay: OutboxRelay;
  /** The conversations' use cases over the same database, for a test's setup and checks. */
  readonly conversations: ConversationService;
  readonly logger: Logger;
  close(): Promise<void>;
}

export async function startGatewayUnderTest(options: {
  namespace: string;
  /**
   * A database of the caller's, shared by several replicas (the caller drops it; NATS and Redis
   * of the namespace are the caller's to clean too); else one of its own, dropped at close.
   */
  databaseUrl?: string;
  /** Gateway environment besides DATABASE_URL and CONVERSATION_JWT_SECRET. */
  env?: Record<string, string>;
  /** Real NATS (its JetStream streams are removed at close); else the in-process bus. */
  natsUrl?: string;
  /** Real Redis (the namespace's keys are removed at close); else in-process fanout and limits. */
  redisUrl?: string;
  /**
   * Wraps what the gateway and its outbox relay are given (a test counting their calls); the
   * test's own `conversations` use the plain ones.
   */
  instrument?: (plain: Pick<Infrastructure, 'bus' | 'coordination'> & { db: Kysely<DB> }) => {
    db: Kysely<DB>;
    bus: Bus;
    coordination: Coordination;
  };
  /** How long the outbox relay's published rows wait to be deleted together (default 100 ms). */
  flushDelayMs?: number;
  /** `silent` for tests that provoke error lines on purpose. */
  logLevel?: string;
  /** Sees every route as it is registered (a test that walks the route list). */
  onRoute?: (route: RouteOptions) => void;
}): Promise<GatewayUnderTest> {
  const shared = options.databaseUrl;
  const testDb: TestDatabase | undefined = shared ? undefined : await createTestDatabase('gateway');
  const databaseUrl = shared ?? (testDb as TestDatabase).url;
  const logger = createLogger({ service: 'gateway-test', level: options.logLevel ?? 'warn' });
  const infra = await createInfrastructure({
    service: 'gateway-test',
    databaseUrl,
    ...(options.natsUrl ? { natsUrl: options.natsUrl } : {}),
    ...(options.redisUrl ? { redisUrl: options.redisUrl } : {}),
    namespace: options.namespace,
    logger,
    migrate: true,
  });
  const app = Fastify();
  if (options.onRoute) app.addHook('onRoute', options.onRoute);
  const relay = await registerGateway(
    app,
    infra,
    {
      DATABASE_URL: databaseUrl,
      CONVERSATION_JWT_SECRET: 'a-secret-of-at-least-thirty-two-characters',
      // No bridge answers the setup checks in process: give up at once, not after 10 s.
      SETUP_BRIDGE_TIMEOUT: '100ms',
      // Every answer is checked against its /openapi.json schema (500 RESPONSE_SCHEMA_MISMATCH).
      CHECK_RESPONSE_SCHEMAS: 'true',
      ...options.env,
    },
    logger,
    {
      ...(options.instrument?.({
        db: infra.database.db,
        bus: infra.bus,
        coordination: infra.coordination,
      }) ?? {}),
      ...(options.flushDelayMs === undefined ? {} : { flushDelayMs: options.flushDelayMs }),
    },
  );
  await app.ready();
  return {
    app,
    infra,
    relay,
    conversations: new ConversationService(new UnitOfWork(infra.database.db, relay)),
    logger,
    async close() {
      await app.close();
      await relay.stop();
      await infra.close();
      if (shared) return;
      await testDb?.drop();
      if (options.natsUrl) await cleanupNats(options.namespace);
      if (options.redisUrl) await cleanupRedis(options.namespace);
    },
  };
}

/** Calls the admin API of `app` with the service token; the answer's status and JSON body. */
export function adminCaller(app: FastifyInstance, serviceToken: string) {
  return async (method: 'GET' | 'PUT' | 'POST' | 'DELETE', url: string, body?: unknown) => {
    const response = await app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${serviceToken}` },
      ...(body === undefined ? {} : { payload: body as Record<string, unknown> }),
    });
    // CSV (the audit export) as its text; JSON otherwise.
    const json = response.headers['content-type']?.toString().startsWith('application/json');
    return {
      status: response.statusCode,
      body: json ? response.json<Record<string, unknown>>() : { text: response.body },
    };
  };
}

/** A visitor socket on a listening gateway, and the frames it receives, taken by type. */
export async function connectVisitor(url: string, token: string) {
  const frames: ServerFrame[] = [];
  const ws = new WebSocket(`${url.replace('http', 'ws')}/v1/ws?token=${token}`);
  ws.on('message', (data: Buffer) => frames.push(JSON.parse(data.toString()) as ServerFrame));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  /** The first frame of one of `types` not taken yet (waits up to 10 s). */
  const next = async (...types: ServerFrame['type'][]): Promise<ServerFrame> => {
    for (let waited = 0; waited < 10_000; waited += 20) {
      const index = frames.findIndex((frame) => types.includes(frame.type));
      const frame = index >= 0 ? frames.splice(index, 1)[0] : undefined;
      if (frame) return frame;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`no ${types.join('/')} frame`);
  };
  return { ws, frames, next };
}

/**
 * Registers an agent with `role` (through the admin API) and signs them in as the bot's link
 * would: the session cookie's name and secret, and the CSRF token.
 */
export async function signInAs(
  gateway: GatewayUnderTest,
  options: { serviceToken: string; origin: string; role: Role; telegramUserId: number },
) {
  const { app } = gateway;
  const saved = await adminCaller(app, options.serviceToken)(
    'PUT',
    `/v1/admin/agents/${options.telegramUserId}`,
    { displayName: `Agent ${options.telegramUserId}`, role: options.role },
  );
  if (saved.status !== 200) throw new Error(`agent not saved: ${JSON.stringify(saved.body)}`);
  const access = new ConsoleAccess(
    new UnitOfWork(gateway.infra.database.db, { publish: async () => {} }),
  );
  const link = await access.issueLink(
    { botId: 'test-bot', updateId: options.telegramUserId },
    DEFAULT_TENANT_ID,
    options.telegramUserId,
    300_000,
  );
  if (link.kind !== 'link') throw new Error(`no link: ${link.kind}`);
  const response = await app.inject({
    method: 'POST',
    url: '/console/sign-in',
    headers: { origin: options.origin },
    payload: { token: link.token },
  });
  const cookie = response.cookies.find((c) => c.name.endsWith('topicdesk_session'));
  if (response.statusCode !== 200 || !cookie) throw new Error(`not signed in: ${response.body}`);
  const body = response.json<{ csrfToken: string; session: { id: string } }>();
  return {
    cookie: { [cookie.name]: cookie.value },
    csrf: body.csrfToken,
    sessionId: body.session.id,
  };
}
