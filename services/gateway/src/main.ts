// Process entry of the gateway: telemetry first, then config, infrastructure, app, signals.
// Static imports are all evaluated before this module's code runs, so whatever loads pg,
// ioredis or fastify is imported dynamically, after initTelemetry has installed its hooks.
import { createLogger, initTelemetry, secretValues } from '@topicdesk/telemetry';

try {
  const telemetry = initTelemetry({ serviceName: 'topicdesk-gateway', env: process.env });
  const { createServer, onShutdownSignal, startServiceRuntime } = await import('@topicdesk/core');
  const { closeVisitorSockets, gatewayPlugin } = await import('./app');
  const { loadGatewayConfig, trustProxySetting } = await import('./config');

  const config = loadGatewayConfig(process.env);
  const logger = createLogger({
    service: 'gateway',
    level: config.LOG_LEVEL,
    secrets: secretValues(process.env),
  });
  const runtime = await startServiceRuntime({ service: 'gateway', config, logger });
  const { infra, relay } = runtime;
  const app = await createServer({
    logger,
    telemetry,
    readiness: () => infra.readiness(),
    trustProxy: trustProxySetting(config.TRUST_PROXY),
  });
  await app.register(gatewayPlugin, {
    config,
    db: infra.database.db,
    bus: infra.bus,
    coordination: infra.coordination,
    relay,
    logger,
  });
  await app.listen({ port: config.PORT, host: config.HOST });
  onShutdownSignal(
    logger,
    async () => {
      // /readyz 503 and new requests (WS upgrades too) refused, so nothing new lands here; then
      // visitors are told 1012 (service restart) and reconnect to another replica with a resume.
      app.markDraining();
      closeVisitorSockets(app);
      // Waits for in-flight requests and for the sockets to finish their close handshake, for
      // half the deadline; whatever is still open then is cut.
      await app.closeWithin(config.SHUTDOWN_TIMEOUT / 2);
      // Rows committed but not yet published stay in the outbox for another replica's sweeper.
      await relay.stop();
      // Stops consumers, drains NATS, closes Redis and Postgres.
      await infra.close();
      await telemetry.shutdown();
    },
    config.SHUTDOWN_TIMEOUT,
  );
} catch (error) {
  const { exitOnStartupError } = await import('@topicdesk/core');
  exitOnStartupError(error, process.env);
}
