import { randomBytes } from 'node:crypto';
import { topics } from '@topicdesk/bus';
import { TenantKeyring, TenantService, telegramHeaderSecret } from '@topicdesk/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBridge, type Bridge } from '../src/index';
import { startBridgeUnderTest, type BridgeUnderTest } from './bridge-under-test';

const KEK = `k1:${randomBytes(32).toString('base64')}`;
const token = (id: number) => `${id}:tenant-webhooks-test`;
const ACME_BOT = 200000062;
const ACME_NEW_BOT = 200000063;
const ACME_GROUP = -1001000000062;
// Nothing listens there: the sandbox's deliveries fail, which is not what this test looks at.
const WEBHOOK_URL = 'http://127.0.0.1:9/v1/telegram/webhook/default-path-secret';

// Issue 16: in webhook mode each tenant's bot gets its own webhook (the default URL with the
// tenant's path secret, and its derived header secret), set by one replica only, at once when the
// tenant is created and again when its token changes.
describe("tenants' webhooks", () => {
  let under: BridgeUnderTest;
  let second: Bridge;
  let tenants: TenantService;

  beforeAll(async () => {
    under = await startBridgeUnderTest({
      name: 'tenant_webhooks',
      token: token(200000061),
      env: {
        TENANT_KEK: KEK,
        TELEGRAM_UPDATES: 'webhook',
        TELEGRAM_WEBHOOK_URL: WEBHOOK_URL,
        TELEGRAM_WEBHOOK_SECRET: 'default-path-secret',
      },
    });
    under.sandbox.state.world.addForum(ACME_GROUP, 'Acme desk');
    // A second replica on the same database, bus and Redis.
    const { infra, relay } = under.runtime;
    second = createBridge({
      config: under.config,
      db: infra.database.db,
      bus: infra.bus,
      coordination: infra.coordination,
      relay,
      logger: under.logger,
    });
    await second.start();
    tenants = new TenantService(under.uow, TenantKeyring.fromEnv(KEK, undefined), (tenantId) =>
      infra.bus.signal(topics.tenantChanged, { tenantId }),
    );
  });

  afterAll(async () => {
    await second?.stop();
    await under?.close();
  });

  const setWebhooks = (botId: number) =>
    under.sandbox.state.calls({ method: 'setWebhook' }).filter((call) => call.botId === botId);

  it("sets the tenant's webhook once across replicas, and again for a new token", async () => {
    await tenants.create('platform-test', {
      id: 'acme',
      name: 'Acme',
      secrets: { botToken: token(ACME_BOT), supportGroups: [String(ACME_GROUP)] },
    });
    const { webhook_secret: secret } = await under.runtime.infra.database.db
      .selectFrom('tenants')
      .select('webhook_secret')
      .where('id', '=', 'acme')
      .executeTakeFirstOrThrow();
    await under.sandbox.state.waitFor(() => setWebhooks(ACME_BOT).length > 0, 10_000);
    expect(setWebhooks(ACME_BOT)[0]?.params).toMatchObject({
      url: `http://127.0.0.1:9/v1/telegram/webhook/${secret}`,
      secret_token: telegramHeaderSecret(secret),
    });
    // Both replicas serve the tenant; only one registered its webhook.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(setWebhooks(ACME_BOT)).toHaveLength(1);

    await tenants.update('platform-test', 'acme', { secrets: { botToken: token(ACME_NEW_BOT) } });
    await under.sandbox.state.waitFor(() => setWebhooks(ACME_NEW_BOT).length > 0, 10_000);
    expect(setWebhooks(ACME_NEW_BOT)[0]?.params).toMatchObject({
      url: `http://127.0.0.1:9/v1/telegram/webhook/${secret}`,
      secret_token: telegramHeaderSecret(secret),
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(setWebhooks(ACME_NEW_BOT)).toHaveLength(1);
    // The default tenant's bot keeps its own URL and secret from the environment.
    expect(setWebhooks(200000061).map((call) => call.params.url)).toContain(WEBHOOK_URL);
  });
});
