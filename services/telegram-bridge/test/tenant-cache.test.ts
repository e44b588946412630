import { randomUUID } from 'node:crypto';
import { topics } from '@topicdesk/bus';
import { SetupAction, type SetupCheck } from '@topicdesk/contracts';
import {
  startServiceRuntime,
  TenantKeyring,
  TenantService,
  UnitOfWork,
  type ServiceRuntime,
} from '@topicdesk/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBridgeUnderTest, type BridgeUnderTest } from './bridge-under-test';

const TOKEN = '200000016:tenant-cache-test';

// Issue 16: the bridge keeps its own cache of tenants; a change made through the platform API in
// another process (a gateway) reaches it over NATS at once, without a restart. Seen through the
// setup checks, whose first check is the tenant's status as the bridge knows it.
describe("the bridge's tenant cache", () => {
  let under: BridgeUnderTest;
  let platform: ServiceRuntime;
  let tenants: TenantService;

  beforeAll(async () => {
    under = await startBridgeUnderTest({ name: 'tenants', token: TOKEN, distributed: true });
    platform = await startServiceRuntime({
      service: 'platform-test',
      config: { ...under.shared, DATA_DIR: '.' },
      logger: under.logger,
    });
    const bus = platform.infra.bus;
    tenants = new TenantService(
      new UnitOfWork(platform.infra.database.db, platform.relay),
      TenantKeyring.fromEnv(undefined, undefined),
      (tenantId) => bus.signal(topics.tenantChanged, { tenantId }),
    );
  });

  afterAll(async () => {
    await platform?.close();
    await under?.close();
  });

  /** The bridge's setup checks for `tenantId`, asked over NATS as a gateway asks them. */
  async function tenantCheck(tenantId: string): Promise<SetupCheck | undefined> {
    const requestId = randomUUID();
    const bus = platform.infra.bus;
    let subscription: { stop(): void } | undefined;
    const reply = new Promise<SetupCheck[]>((resolve) => {
      subscription = bus.onSignal(topics.setupReply, (data) => {
        if (data.requestId === requestId) resolve(data.checks);
      });
    });
    try {
      bus.signal(topics.setupRequest, { requestId, tenantId, action: SetupAction.CHECK });
      return (await reply).find((check) => check.id === 'tenant');
    } finally {
      subscription?.stop();
    }
  }

  it('sees a suspension and a resumption made elsewhere at once', async () => {
    await tenants.create('platform-token', { id: 'acme', name: 'Acme' });
    expect(await tenantCheck('acme')).toMatchObject({ ok: true, detail: 'Acme (active)' });

    // The bridge holds the tenant now (for minutes); only the signal can make it read it again.
    await tenants.setSuspended('platform-token', 'acme', true);
    await expect
      .poll(async () => (await tenantCheck('acme'))?.ok, { timeout: 5_000, interval: 50 })
      .toBe(false);
    expect(await tenantCheck('acme')).toMatchObject({
      detail: 'Acme is suspended: visitors get TENANT_INACTIVE',
      fix: 'resume it: POST /v1/platform/tenants/acme/resume',
    });

    await tenants.setSuspended('platform-token', 'acme', false);
    await expect
      .poll(async () => (await tenantCheck('acme'))?.ok, { timeout: 5_000, interval: 50 })
      .toBe(true);
    expect(await tenantCheck('nobody')).toMatchObject({ ok: false, detail: 'no tenant "nobody"' });
    expect(await tenantCheck('default')).toMatchObject({ ok: true });
  });
});
