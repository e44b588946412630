// Process entry of the scheduler: telemetry first, then config, infrastructure, jobs, signals.
// Static imports are all evaluated before this module's code runs, so whatever loads pg,
// ioredis or fastify is imported dynamically, after initTelemetry has installed its hooks.
import {
  createLogger,
  initTelemetry,
  ROOT_CONTEXT,
  SpanKind,
  withSpan,
} from '@topicdesk/telemetry';

try {
  const telemetry = initTelemetry({ serviceName: 'topicdesk-scheduler', env: process.env });
  const { createInfrastructure, createServer, onShutdownSignal, OutboxRelay } =
    await import('@topicdesk/core');
  const { loadSchedulerConfig } = await import('./config');
  const { schedulerClock } = await import('./clock');
  const { schedulerJobs } = await import('./jobs');
  const { startScheduler } = await import('./scheduler');

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
  // Each run is a trace of its own: its queries, and what its closes set off in the bridge.
  const jobs = schedulerJobs(deps, config).map((job) => ({
    name: job.name,
    run: () =>
      withSpan(
        `scheduler ${job.name}`,
        {
          kind: SpanKind.INTERNAL,
          parent: ROOT_CONTEXT,
          attributes: { 'topicdesk.job': job.name },
        },
        async (span) => {
          const handled = await job.run();
          span.setAttribute('topicdesk.job.handled', handled);
          return handled;
        },
      ),
  }));
  const scheduler = startScheduler(deps, jobs);
  const app = await createServer({ logger, telemetry, readiness: () => infra.readiness() });
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
  const { exitOnStartupError } = await import('@topicdesk/core');
  exitOnStartupError(error);
}
