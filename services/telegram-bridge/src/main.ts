// Process entry of the Telegram bridge: telemetry first, then config, infrastructure, app, signals.
import { createLogger, initTelemetry } from '@topicdesk/telemetry';
const telemetry = initTelemetry({ serviceName: 'topicdesk-telegram-bridge' });

import {
  createInfrastructure,
  createServer,
  exitOnStartupError,
  onShutdownSignal,
  OutboxRelay,
} from '@topicdesk/core';
import { createBridge } from './bridge';
import { loadBridgeConfig } from './config';

try {
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
  const app = createServer({
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
    app.markDraining();
    await app.close();
    await bridge.stop();
    await relay.stop();
    await infra.close();
    await telemetry.shutdown();
  });
} catch (error) {
  exitOnStartupError(error);
}
