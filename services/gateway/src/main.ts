// Process entry of the gateway: telemetry first, then config, infrastructure, app, signals.
import { createLogger, initTelemetry } from '@topicdesk/telemetry';
const telemetry = initTelemetry({ serviceName: 'topicdesk-gateway' });

import {
  createInfrastructure,
  createServer,
  exitOnStartupError,
  onShutdownSignal,
  OutboxRelay,
} from '@topicdesk/core';
import { closeVisitorSockets, gatewayPlugin } from './app';
import { loadGatewayConfig, trustProxySetting } from './config';

try {
  const config = loadGatewayConfig(process.env);
  const logger = createLogger({ service: 'gateway', level: config.LOG_LEVEL });
  const infra = await createInfrastructure({
    service: 'gateway',
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
  const app = createServer({
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
  onShutdownSignal(logger, async () => {
    app.markDraining();
    closeVisitorSockets(app);
    await app.close();
    await relay.stop();
    await infra.close();
    await telemetry.shutdown();
  });
} catch (error) {
  exitOnStartupError(error);
}
