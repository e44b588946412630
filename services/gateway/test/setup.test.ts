import { topics } from '@topicdesk/bus';
import { SetupAction } from '@topicdesk/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminCaller, startGatewayUnderTest, type GatewayUnderTest } from './gateway-under-test';

// Issue 15: the console's setup page. The Telegram checks are the bridge's: the gateway asks
// over the bus and waits a bounded time; here a stand-in answers as the bridge would.

const SERVICE_TOKEN = 'setup-test-service-token';

describe('admin API: setup checks', () => {
  let gateway: GatewayUnderTest;

  beforeAll(async () => {
    gateway = await startGatewayUnderTest({
      namespace: 'gateway-setup-test',
      env: {
        SERVICE_TOKEN,
        ALLOWED_ORIGINS: 'https://shop.example',
        PUBLIC_URL: 'https://support.example',
        SETUP_BRIDGE_TIMEOUT: '300ms',
      },
    });
  });

  afterAll(async () => {
    await gateway?.close();
  });

  const admin = (method: 'GET' | 'POST', url: string, body?: unknown) =>
    adminCaller(gateway.app, SERVICE_TOKEN)(method, url, body);

  it('answers SETUP_BRIDGE_UNAVAILABLE when no bridge answers in time', async () => {
    const response = await admin('GET', '/v1/admin/setup');
    expect(response).toMatchObject({
      status: 503,
      body: { error: { code: 'SETUP_BRIDGE_UNAVAILABLE' } },
    });
  });

  it("lists the bridge's checks with the gateway's own, and a refused setWebhook as 409", async () => {
    const asked: SetupAction[] = [];
    const bridge = gateway.infra.bus.onSignal(topics.setupRequest, (request) => {
      asked.push(request.action);
      gateway.infra.bus.signal(topics.setupReply, {
        requestId: request.requestId,
        checks: [
          { id: 'bot.token', ok: true, detail: '@support_bot (1)', fix: '' },
          { id: 'webhook', ok: false, detail: 'no webhook is set', fix: 'set it' },
        ],
        ...(request.action === SetupAction.SET_WEBHOOK
          ? { error: { code: 'SETUP_WEBHOOK_UNSET', message: 'TELEGRAM_WEBHOOK_URL is unset' } }
          : {}),
      });
    });
    await bridge.ready;
    try {
      const checks = await admin('GET', '/v1/admin/setup');
      expect(checks.status).toBe(200);
      expect(checks.body).toMatchObject({
        ok: false,
        checks: [
          { id: 'bot.token', ok: true },
          { id: 'webhook', ok: false, fix: 'set it' },
          { id: 'origins', ok: true, detail: 'allowed origins: https://shop.example' },
          { id: 'widget', ok: true },
        ],
      });
      const webhook = await admin('POST', '/v1/admin/setup/webhook', {});
      expect(webhook).toMatchObject({
        status: 409,
        body: {
          error: { code: 'SETUP_WEBHOOK_FAILED', details: { cause: 'SETUP_WEBHOOK_UNSET' } },
        },
      });
      expect(asked).toEqual([SetupAction.CHECK, SetupAction.SET_WEBHOOK]);
    } finally {
      bridge.stop();
    }
  });

  it("gives the widget snippet with its SRI hash and whether the site's origin is allowed", async () => {
    const allowed = await admin('GET', '/v1/admin/setup/snippet?origin=https://shop.example/');
    expect(allowed.status).toBe(200);
    expect(allowed.body).toMatchObject({
      origin: 'https://shop.example',
      originAllowed: true,
      scriptUrl: expect.stringMatching(/^https:\/\/support\.example\/widget\.[0-9a-f]{12}\.js$/),
      integrity: expect.stringMatching(/^sha384-[A-Za-z0-9+/]+=*$/),
    });
    expect(allowed.body['snippet']).toContain(`integrity="${String(allowed.body['integrity'])}"`);
    const script = await gateway.app.inject({
      method: 'GET',
      url: new URL(String(allowed.body['scriptUrl'])).pathname,
    });
    expect(script.statusCode).toBe(200);
    const other = await admin('GET', '/v1/admin/setup/snippet?origin=https://other.example');
    expect(other.body).toMatchObject({
      originAllowed: false,
      fix: expect.stringContaining('ALLOWED_ORIGINS'),
    });
    const bad = await admin('GET', '/v1/admin/setup/snippet?origin=javascript:alert(1)');
    expect(bad).toMatchObject({ status: 400, body: { error: { code: 'INVALID_REQUEST' } } });
    const path = await admin('GET', '/v1/admin/setup/snippet?origin=https://shop.example/cart');
    expect(path.status).toBe(400);
  });
});
