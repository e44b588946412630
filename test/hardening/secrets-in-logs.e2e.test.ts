import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { afterAll, expect, it } from 'vitest';
import { createDatabase, migrateToLatest } from '@topicdesk/data';
import {
  cleanupNats,
  cleanupRedis,
  createTestDatabase,
  freePort,
  ServiceProcess,
  testInfra,
  uniqueName,
  type TestDatabase,
} from '@topicdesk/testkit';

// Issue 12, item 3: with the Bot API unreachable, the bridge logged grammY's errors whole, and
// their messages (and their causes') hold the URL `…/bot<TOKEN>/deleteWebhook`. Every secret a
// service is given must stay out of its output, nested causes included.

let database: TestDatabase | undefined;
let bridge: ServiceProcess | undefined;
let refuser: Server | undefined;
const namespace = uniqueName('harden');

afterAll(async () => {
  await bridge?.stop();
  await new Promise((resolve) => (refuser ? refuser.close(resolve) : resolve(undefined)));
  await Promise.allSettled([cleanupNats(namespace), cleanupRedis(namespace)]);
  await database?.drop();
});

it('keeps the bot token and every configured secret out of the logs of a bridge whose Bot API is unreachable', async () => {
  database = await createTestDatabase('harden');
  const migrator = await createDatabase({ url: database.url });
  await migrateToLatest(migrator.db);
  await migrator.close();
  // A Bot API that takes the connection and resets it: grammY's errors, with causes, every time.
  refuser = createServer((socket) => socket.resetAndDestroy());
  const apiPort = await freePort();
  await new Promise<void>((resolve) => refuser!.listen(apiPort, '127.0.0.1', resolve));

  const secrets = {
    BOT_TOKEN: `${900000000 + Math.floor(Math.random() * 1e6)}:AAF${randomBytes(16).toString('hex')}`,
    TELEGRAM_WEBHOOK_SECRET: `hook-${randomBytes(12).toString('hex')}`,
    TELEGRAM_HEADER_SECRET: `hdr_${randomBytes(12).toString('hex')}`,
    TELEGRAM_USER_KEY: randomBytes(32).toString('base64'),
    DATABASE_PASSWORD: `pw${randomBytes(10).toString('hex')}`,
  };
  const dbUrl = new URL(database.url);
  dbUrl.password = secrets.DATABASE_PASSWORD;
  const port = await freePort();
  bridge = new ServiceProcess({
    name: `${namespace}-bridge-secrets`,
    script: 'services/telegram-bridge/src/main.ts',
    url: `http://127.0.0.1:${port}`,
    readyPath: '/healthz',
    env: {
      HOST: '127.0.0.1',
      PORT: String(port),
      // Postgres trusts local connections: the password is carried, not checked.
      DATABASE_URL: dbUrl.toString(),
      NATS_URL: testInfra.natsUrl,
      REDIS_URL: testInfra.redisUrl,
      NAMESPACE: namespace,
      BOT_TOKEN: secrets.BOT_TOKEN,
      SUPPORT_GROUP_ID: '-1001000000001',
      TELEGRAM_API_ROOT: `http://127.0.0.1:${apiPort}`,
      TELEGRAM_UPDATES: 'polling',
      TELEGRAM_WEBHOOK_SECRET: secrets.TELEGRAM_WEBHOOK_SECRET,
      TELEGRAM_HEADER_SECRET: secrets.TELEGRAM_HEADER_SECRET,
      TELEGRAM_USER_KEY: secrets.TELEGRAM_USER_KEY,
      LOG_LEVEL: 'debug',
    },
  });
  await bridge.start(60_000).catch(() => undefined);
  // Failed Bot API calls are logged while the bridge retries.
  const deadline = Date.now() + 20_000;
  while (!/polling failed|getMe|failed to start/.test(bridge.output) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 250));
  await bridge.stop();

  const output = bridge.output;
  // The run did fail against the Bot API and said so.
  expect(output).toMatch(/polling failed|getMe|failed to start/);
  for (const [name, value] of Object.entries(secrets)) {
    expect(output.includes(value), `${name} appears in the output`).toBe(false);
    // Nor its URL-encoded or JSON-escaped form.
    expect(output.includes(encodeURIComponent(value)), `${name} (URL-encoded)`).toBe(false);
  }
  expect(output).not.toMatch(/\/bot\d+:[A-Za-z0-9_-]{10,}/);
});
