import {
  createInfrastructure,
  OutboxRelay,
  type DB,
  type Infrastructure,
  type Kysely,
} from '@topicdesk/core';
import type { Bus } from '@topicdesk/bus';
import type { Coordination } from '@topicdesk/fanout';
import { createLogger, type Logger } from '@topicdesk/telemetry';
import Fastify, { type FastifyInstance } from 'fastify';
import { gatewayPlugin } from './app';
import { loadGatewayConfig } from './config';

/** What a caller may give the gateway instead of the infrastructure's own (a test counting calls). */
export interface GatewayParts {
  db?: Kysely<DB>;
  bus?: Bus;
  coordination?: Coordination;
  /** How long the outbox relay's published rows wait to be deleted together (default 100 ms). */
  flushDelayMs?: number;
}

/**
 * The gateway plugin on `app` over an infrastructure made in this process (no server of its
 * own), with an outbox relay the caller stops after closing `app`: the OpenAPI document below
 * and the gateway's tests build it so.
 */
export async function registerGateway(
  app: FastifyInstance,
  infra: Infrastructure,
  env: Record<string, string | undefined>,
  logger: Logger,
  parts: GatewayParts = {},
): Promise<OutboxRelay> {
  const db = parts.db ?? infra.database.db;
  const bus = parts.bus ?? infra.bus;
  const coordination = parts.coordination ?? infra.coordination;
  const relay = new OutboxRelay({
    db,
    bus,
    fanout: coordination.fanout,
    logger,
    ...(parts.flushDelayMs === undefined ? {} : { flushDelayMs: parts.flushDelayMs }),
  });
  await app.register(gatewayPlugin, {
    config: loadGatewayConfig(env),
    db,
    bus,
    coordination,
    relay,
    logger,
  });
  return relay;
}

/**
 * /openapi.json as this source registers it, without a server or a database: the gateway
 * plugin over an in-memory PGlite and the in-process bus, asked once and closed. The console's
 * typed client is generated from it (`pnpm generate`, scripts/generate-contracts.ts).
 */
export async function currentOpenApiDocument(): Promise<Record<string, unknown>> {
  const logger = createLogger({ service: 'openapi', level: 'silent' });
  const infra = await createInfrastructure({
    service: 'openapi',
    namespace: 'openapi',
    logger,
    migrate: true,
  });
  const app = Fastify();
  let relay: OutboxRelay | undefined;
  try {
    relay = await registerGateway(
      app,
      infra,
      { CONVERSATION_JWT_SECRET: 'only-for-the-document-never-for-tokens-0123456789' },
      logger,
    );
    await app.ready();
    const response = await app.inject({ method: 'GET', url: '/openapi.json' });
    if (response.statusCode !== 200)
      throw new Error(`/openapi.json answered ${response.statusCode}: ${response.body}`);
    return response.json<Record<string, unknown>>();
  } finally {
    await app.close();
    await relay?.stop();
    await infra.close();
  }
}
