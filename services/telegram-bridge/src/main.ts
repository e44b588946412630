// Process entry of the Telegram bridge: telemetry first, then config, infrastructure, app, signals.
// Static imports are all evaluated before this module's code runs, so whatever loads pg,
// ioredis or fastify is imported dynamically, after initTelemetry has installed its hooks.
import { createLogger, initTelemetry } from '@topicdesk/telemetry';

try {
  const telemetry = initTelemetry({ serviceName: 'topicdesk-telegram-bridge', env: process.env });
  const { createInfrastructure, createServer, onShutdownSignal, OutboxRelay } =
    await import('@topicdesk/core');
  const { createBridge } = await import('./bridge');
  const { loadBridgeConfig } = await import('./config');

  const config = loadBridgeConfig(process.env);
  const logger = createLogger({ service: 'telegram-bridge', level: config.LOG_LEVEL });
  const infra = await createInfrastructure({
    service: 'telegram-bridge',
    databaseUrl: config.DATABASE_URL,
    dataDir: `${config.DATA_DIR}/pg`,
    natsUrl: config.NATS_URL,
    redisUrl: config.REDIS_URL,
    namespace: config.NAMESPACE,
    logger,
    migrate: !config.DATABASE_URL,
  });
  const relay = new OutboxRelay({
    db: infra.database.db,
    bus: infra.bus,
    fanout: infra.coordination.fanout,
    logger,
  });
  relay.start();
  const bridge = createBridge({
    config,
    db: infra.database.db,
    bus: infra.bus,
    coordination: infra.coordination,
    relay,
    logger,
  });
  const app = await createServer({
    logger,
    telemetry,
    readiness: async () => {
      const readiness = await infra.readiness();
      const telegram = bridge.health();
      return { ok: readiness.ok && telegram.ok, checks: { ...readiness.checks, telegram } };
    },
  });
  await app.register(bridge.routes);
  await app.listen({ port: config.PORT, host: config.HOST });
  await bridge.start();
  onShutdownSignal(logger, async () => {
    // /readyz 503 and new webhook calls refused (Telegram retries them on another replica or
    // later); in-flight ones finish their publish to JetStream before the server closes.
    app.markDraining();
    await app.close();
    // Stops polling and consumers, waiting for handlers in flight (a Telegram send included).
    await bridge.stop();
    await relay.stop();
    await infra.close();
    await telemetry.shutdown();
  });
} catch (error) {
  const { exitOnStartupError } = await import('@topicdesk/core');
  exitOnStartupError(error);
}
