// `pnpm start`: gateway, bridge and scheduler in one process on one port, with embedded
// defaults (PGlite, in-process bus and fanout, the Telegram sandbox) for whatever is unset.
// Static imports are all evaluated before this module's code runs, so whatever loads pg,
// ioredis or fastify is imported dynamically, after initTelemetry has installed its hooks.
import { join, resolve } from 'node:path';
import { ConfigError } from '@topicdesk/config';
import { createLogger, initTelemetry, secretValues } from '@topicdesk/telemetry';
import { printStartup, startupLines } from './startup';

const SANDBOX_PREFIX = '/telegram-sandbox';

try {
  const telemetry = initTelemetry({ serviceName: 'topicdesk', env: process.env });
  const { createServer, onShutdownSignal, startServiceRuntime } = await import('@topicdesk/core');
  const { closeVisitorSockets, gatewayPlugin, loadGatewayConfig, trustProxySetting } =
    await import('@topicdesk/gateway');
  const { loadSchedulerConfig, schedulerClock, schedulerJobs, startScheduler } =
    await import('@topicdesk/scheduler');
  const { createBridge, loadBridgeConfig } = await import('@topicdesk/telegram-bridge');
  const { SandboxState, sandboxPlugin } = await import('@topicdesk/telegram-sandbox');
  const {
    loadStandaloneConfig,
    PersistentSecret,
    persistentSecret,
    SANDBOX_BOT_TOKEN,
    SANDBOX_GROUP_ID,
  } = await import('./config');

  const config = loadStandaloneConfig(process.env);
  const dataDir = resolve(config.DATA_DIR);
  // Generated once and kept in DATA_DIR when unset; secrets of the logger like the configured ones.
  const jwtSecret =
    config.CONVERSATION_JWT_SECRET ?? persistentSecret(dataDir, PersistentSecret.conversationJwt);
  const userKey =
    config.TELEGRAM_USER_KEY ?? persistentSecret(dataDir, PersistentSecret.telegramUserKey);
  const logger = createLogger({
    service: 'topicdesk',
    level: config.LOG_LEVEL,
    pretty: config.LOG_PRETTY,
    secrets: [...secretValues(process.env), jwtSecret, userKey],
  });
  const useSandbox = !config.BOT_TOKEN;
  if (config.BOT_TOKEN && !config.SUPPORT_GROUP_ID)
    throw new ConfigError(['SUPPORT_GROUP_ID: required when BOT_TOKEN is set']);

  const shared = {
    ...process.env,
    DATA_DIR: dataDir,
    HOST: config.HOST,
    PORT: String(config.PORT),
    CONVERSATION_JWT_SECRET: jwtSecret,
    // Bot channels (issue 19) seal tokens and users with the same key as the bridge.
    TELEGRAM_USER_KEY: userKey,
  };
  const gatewayConfig = loadGatewayConfig(shared);
  const schedulerConfig = loadSchedulerConfig(shared);

  const runtime = await startServiceRuntime({
    service: 'topicdesk',
    config: { ...gatewayConfig, DATA_DIR: dataDir },
    logger,
    migrate: true,
  });
  const { infra, relay } = runtime;

  const sandbox = useSandbox
    ? new SandboxState({
        statePath: join(dataDir, 'telegram-sandbox.json'),
        supergroupId: SANDBOX_GROUP_ID,
      })
    : undefined;
  let bridgeHealth = () => ({ ok: false, detail: 'starting' }) as { ok: boolean; detail?: string };
  const app = await createServer({
    logger,
    telemetry,
    // Behind a proxy, visitors' own addresses (their per-address limits) come from it.
    trustProxy: trustProxySetting(gatewayConfig.TRUST_PROXY),
    readiness: async () => {
      const readiness = await infra.readiness();
      const telegram = bridgeHealth();
      return { ok: readiness.ok && telegram.ok, checks: { ...readiness.checks, telegram } };
    },
  });
  await app.register(gatewayPlugin, {
    config: gatewayConfig,
    db: infra.database.db,
    bus: infra.bus,
    coordination: infra.coordination,
    relay,
    logger,
  });
  // The sandbox answers to loopback names and to the host it was told to listen on.
  if (sandbox)
    await app.register(sandboxPlugin, {
      prefix: SANDBOX_PREFIX,
      state: sandbox,
      allowedHosts: [config.HOST],
    });
  app.get('/', async (_request, reply) => reply.redirect('/demo'));
  await app.listen({ port: config.PORT, host: config.HOST });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  const base = `http://${config.HOST === '0.0.0.0' ? '127.0.0.1' : config.HOST}:${port}`;

  const bridgeConfig = loadBridgeConfig({
    ...shared,
    ...(sandbox
      ? {
          BOT_TOKEN: SANDBOX_BOT_TOKEN,
          SUPPORT_GROUP_ID: String(SANDBOX_GROUP_ID),
          TELEGRAM_API_ROOT: `${base}${SANDBOX_PREFIX}`,
        }
      : {}),
    TELEGRAM_UPDATES: 'polling',
    // The bot's console sign-in links point here unless a public URL is configured.
    ...(process.env['CONSOLE_URL'] || process.env['PUBLIC_URL']
      ? {}
      : { CONSOLE_URL: `${base}/console` }),
    // Private chats with the bot need a key; one is generated and kept like the JWT secret.
    TELEGRAM_USER_KEY: userKey,
  });
  const bridge = createBridge({
    config: bridgeConfig,
    db: infra.database.db,
    bus: infra.bus,
    coordination: infra.coordination,
    relay,
    logger,
  });
  bridgeHealth = () => bridge.health();
  await bridge.start();

  const deps = {
    db: infra.database.db,
    relay,
    logger,
    intervalMs: schedulerConfig.SCHEDULER_INTERVAL,
    now: schedulerClock(schedulerConfig.SCHEDULER_CLOCK_FILE),
  };
  const scheduler = startScheduler(deps, schedulerJobs(deps, schedulerConfig));

  printStartup(
    startupLines({
      base,
      dataDir,
      ...(sandbox
        ? { sandboxPath: SANDBOX_PREFIX }
        : { supportGroupId: String(bridgeConfig.SUPPORT_GROUP_ID) }),
    }),
    process.stdout,
    (done) =>
      logger.flush((error) => {
        if (error) logger.warn({ err: error }, 'could not flush the logs before the start-up URLs');
        done();
      }),
  );

  onShutdownSignal(
    logger,
    async () => {
      app.markDraining();
      closeVisitorSockets(app);
      await scheduler.stop();
      await bridge.stop();
      await app.closeWithin(gatewayConfig.SHUTDOWN_TIMEOUT / 2);
      await sandbox?.close();
      await runtime.close();
      await telemetry.shutdown();
    },
    gatewayConfig.SHUTDOWN_TIMEOUT,
  );
} catch (error) {
  const { exitOnStartupError } = await import('@topicdesk/core');
  exitOnStartupError(error, process.env);
}
