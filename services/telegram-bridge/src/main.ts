// Process entry of the Telegram bridge: telemetry first, then config, infrastructure, app, signals.
// Static imports are all evaluated before this module's code runs, so whatever loads pg,
// ioredis or fastify is imported dynamically, after initTelemetry has installed its hooks.
import { createLogger, initTelemetry, secretValues } from '@topicdesk/telemetry';

try {
  const telemetry = initTelemetry({ serviceName: 'topicdesk-telegram-bridge', env: process.env });
  const { createServer, onShutdownSignal, startServiceRuntime } = await import('@topicdesk/core');
  const { createBridge } = await import('./bridge');
  const { loadBridgeConfig } = await import('./config');

  const config = loadBridgeConfig(process.env);
  const logger = createLogger({
    service: 'telegram-bridge',
    level: config.LOG_LEVEL,
    secrets: secretValues(process.env),
  });
  // The bridge writes a text's receipt and its sync lock's release back to back: one write.
  const runtime = await startServiceRuntime({
    service: 'telegram-bridge',
    config,
    logger,
    coalesceRedisWrites: true,
  });
  const { infra, relay } = runtime;
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
  onShutdownSignal(
    logger,
    async () => {
      // /readyz 503 and new webhook calls refused (Telegram retries them on another replica or
      // later); in-flight ones finish their publish to JetStream before the server closes.
      app.markDraining();
      await app.closeWithin(config.SHUTDOWN_TIMEOUT / 2);
      // Stops polling and consumers, waiting for handlers in flight (a Telegram send included).
      await bridge.stop();
      await runtime.close();
      await telemetry.shutdown();
    },
    config.SHUTDOWN_TIMEOUT,
  );
} catch (error) {
  const { exitOnStartupError } = await import('@topicdesk/core');
  exitOnStartupError(error, process.env);
}
