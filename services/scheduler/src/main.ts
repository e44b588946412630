// Process entry of the scheduler: telemetry first, then config, infrastructure, jobs, signals.
import { createLogger, initTelemetry } from '@topicdesk/telemetry';
const telemetry = initTelemetry({ serviceName: 'topicdesk-scheduler' });

import {
  createInfrastructure,
  createServer,
  exitOnStartupError,
  onShutdownSignal,
  OutboxRelay,
} from '@topicdesk/core';
import { loadSchedulerConfig } from './config';
import { schedulerClock } from './clock';
import { schedulerJobs } from './jobs';
import { startScheduler } from './scheduler';

try {
  const config = loadSchedulerConfig(process.env);
  const logger = createLogger({ service: 'scheduler', level: config.LOG_LEVEL });
  const infra = await createInfrastructure({
    service: 'scheduler',
    databaseUrl: config.DATABASE_URL,
    dataDir: `${config.DATA_DIR}/pg`,
    natsUrl: config.NATS_URL,
    redisUrl: config.REDIS_URL,
    namespace: config.NAMESPACE,
    logger,
    migrate: !config.DATABASE_URL,
    poolSize: 4,
  });
  const relay = new OutboxRelay({
    db: infra.database.db,
    bus: infra.bus,
    fanout: infra.coordination.fanout,
    logger,
  });
  relay.start();
  const deps = {
    db: infra.database.db,
    relay,
    logger,
    intervalMs: config.SCHEDULER_INTERVAL,
    now: schedulerClock(config.SCHEDULER_CLOCK_FILE),
  };
  const scheduler = startScheduler(deps, schedulerJobs(deps, config));
  const app = createServer({ logger, telemetry, readiness: () => infra.readiness() });
  await app.listen({ port: config.PORT, host: config.HOST });
  logger.info(
    { autoCloseAfterMs: config.AUTO_CLOSE_AFTER, intervalMs: config.SCHEDULER_INTERVAL },
    'scheduler started',
  );
  onShutdownSignal(logger, async () => {
    app.markDraining();
    await scheduler.stop();
    await app.close();
    await relay.stop();
    await infra.close();
    await telemetry.shutdown();
  });
} catch (error) {
  exitOnStartupError(error);
}
