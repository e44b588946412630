// Process entry of the scheduler: telemetry first, then config, infrastructure, jobs, signals.
// Static imports are all evaluated before this module's code runs, so whatever loads pg,
// ioredis or fastify is imported dynamically, after initTelemetry has installed its hooks.
import { createLogger, initTelemetry, secretValues } from '@topicdesk/telemetry';

try {
  const telemetry = initTelemetry({ serviceName: 'topicdesk-scheduler', env: process.env });
  const { createServer, onShutdownSignal, startServiceRuntime } = await import('@topicdesk/core');
  const { loadSchedulerConfig } = await import('./config');
  const { schedulerClock } = await import('./clock');
  const { schedulerJobs } = await import('./jobs');
  const { startScheduler } = await import('./scheduler');

  const config = loadSchedulerConfig(process.env);
  const logger = createLogger({
    service: 'scheduler',
    level: config.LOG_LEVEL,
    secrets: secretValues(process.env),
  });
  const runtime = await startServiceRuntime({ service: 'scheduler', config, logger, poolSize: 4 });
  const { infra, relay } = runtime;
  const deps = {
    db: infra.database.db,
    relay,
    logger,
    intervalMs: config.SCHEDULER_INTERVAL,
    now: schedulerClock(config.SCHEDULER_CLOCK_FILE),
  };
  const scheduler = startScheduler(deps, schedulerJobs(deps, config));
  const app = await createServer({ logger, telemetry, readiness: () => infra.readiness() });
  await app.listen({ port: config.PORT, host: config.HOST });
  logger.info(
    { autoCloseAfterMs: config.AUTO_CLOSE_AFTER, intervalMs: config.SCHEDULER_INTERVAL },
    'scheduler started',
  );
  onShutdownSignal(
    logger,
    async () => {
      app.markDraining();
      await scheduler.stop();
      await app.closeWithin(config.SHUTDOWN_TIMEOUT / 2);
      await runtime.close();
      await telemetry.shutdown();
    },
    config.SHUTDOWN_TIMEOUT,
  );
} catch (error) {
  const { exitOnStartupError } = await import('@topicdesk/core');
  exitOnStartupError(error, process.env);
}
