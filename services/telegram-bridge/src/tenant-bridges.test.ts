import {
  TenantSecretsError,
  TenantSecretsErrorCode,
  type TenantConfig,
  type TenantSecrets,
} from '@topicdesk/core';
import { createLogger } from '@topicdesk/telemetry';
import { describe, expect, it } from 'vitest';
import { BridgeErrorCode } from './errors';
import { TenantBridges, type TenantBridge } from './tenant-bridges';
import type { TenantTelegram } from './wiring';

const logger = createLogger({ service: 'unit', level: 'silent' });

/** A tenant as the directory hands it out. */
function tenant(id: string, secrets: TenantSecrets, status = 'active'): TenantConfig {
  return {
    id,
    name: id,
    status: status as TenantConfig['status'],
    plan: 'default',
    limits: {},
    allowedOrigins: [],
    siteKey: `pk_${id}`,
    webhookSecret: `wh_${id}`,
    secrets: () => secrets,
  };
}

/** The registry over a directory of `rows`, recording what it builds, serves and retires. */
function registry(rows: Map<string, TenantConfig>) {
  const built: TenantTelegram[] = [];
  const closed: string[] = [];
  const stopped: string[] = [];
  const fake = (telegram: TenantTelegram) =>
    ({
      tenantId: telegram.tenantId,
      telegram,
      pool: { main: { id: telegram.botToken.split(':')[0] }, bots: [] },
      sender: { close: () => closed.push(telegram.botToken) },
      logger,
    }) as unknown as TenantBridge;
  const lookups: string[] = [];
  const bridges = new TenantBridges({
    tenants: {
      get: async (id) => rows.get(id),
      drop: () => undefined,
      byWebhookSecret: async (secret) => {
        lookups.push(secret);
        return [...rows.values()].find((t) => t.webhookSecret === secret);
      },
      activeIds: async () =>
        [...rows.values()].filter((t) => t.status === 'active').map((t) => t.id),
    },
    main: fake({ tenantId: 'default', botToken: '1:main', senderBotTokens: [], groupId: -1 }),
    logger,
    build: (telegram) => {
      built.push(telegram);
      return fake(telegram);
    },
  });
  bridges.onServe((bridge) => () => void stopped.push(bridge.telegram.botToken));
  return { bridges, built, closed, stopped, lookups };
}

const acme = (botToken = '42:acme') =>
  tenant('acme', { botToken, supportGroups: ['-100042'], senderBotTokens: ['43:acme-sender'] });

describe('TenantBridges', () => {
  it("answers the default tenant with the environment's parts, building nothing", async () => {
    const { bridges, built } = registry(new Map());
    expect((await bridges.get('default')).telegram.botToken).toBe('1:main');
    expect((await bridges.get('')).tenantId).toBe('default');
    expect(built).toEqual([]);
  });

  it("builds a tenant's parts once from its bundle, even for deliveries at the same time", async () => {
    const { bridges, built } = registry(new Map([['acme', acme()]]));
    const [a, b] = await Promise.all([bridges.get('acme'), bridges.get('acme')]);
    expect(a).toBe(b);
    expect(built).toEqual([
      {
        tenantId: 'acme',
        botToken: '42:acme',
        senderBotTokens: ['43:acme-sender'],
        groupId: -100042,
        webhookSecret: 'wh_acme',
      },
    ]);
    expect(bridges.served().map((bridge) => bridge.tenantId)).toEqual(['default', 'acme']);
  });

  it('refuses a tenant without a bot token or group (TENANT_BOT_MISSING), and an inactive one', async () => {
    const rows = new Map([
      ['nobot', tenant('nobot', { supportGroups: ['-1001'] })],
      ['nogroup', tenant('nogroup', { botToken: '5:x' })],
      ['paused', tenant('paused', { botToken: '6:x', supportGroups: ['-1006'] }, 'suspended')],
    ]);
    const { bridges, built } = registry(rows);
    await expect(bridges.get('nobot')).rejects.toMatchObject({
      code: BridgeErrorCode.TENANT_BOT_MISSING,
    });
    await expect(bridges.get('nogroup')).rejects.toMatchObject({
      code: BridgeErrorCode.TENANT_BOT_MISSING,
    });
    await expect(bridges.get('paused')).rejects.toMatchObject({
      code: BridgeErrorCode.TENANT_INACTIVE,
    });
    await expect(bridges.get('nobody')).rejects.toMatchObject({
      code: BridgeErrorCode.TENANT_INACTIVE,
    });
    expect(await bridges.refresh('nobot')).toBe(false);
    expect(built).toEqual([]);
  });

  it('passes on why a bundle does not open here (no TENANT_KEK), building nothing', async () => {
    const sealed: TenantConfig = {
      ...acme(),
      secrets: () => {
        throw new TenantSecretsError(TenantSecretsErrorCode.kekMissing, 'TENANT_KEK is not set');
      },
    };
    const { bridges, built } = registry(new Map([['acme', sealed]]));
    await expect(bridges.get('acme')).rejects.toMatchObject({ code: 'TENANT_KEK_MISSING' });
    expect(built).toEqual([]);
  });

  it('rebuilds on a token change and retires on a suspension: old sender closed, its hooks stopped', async () => {
    const rows = new Map([['acme', acme()]]);
    const { bridges, built, closed, stopped } = registry(rows);
    const first = await bridges.get('acme');
    rows.set('acme', acme('44:acme-new'));
    const second = await bridges.get('acme');
    expect(second).not.toBe(first);
    expect(built.map((t) => t.botToken)).toEqual(['42:acme', '44:acme-new']);
    expect(closed).toEqual(['42:acme']);
    expect(stopped).toEqual(['42:acme']);

    rows.set('acme', tenant('acme', acme('44:acme-new').secrets(), 'suspended'));
    expect(await bridges.refresh('acme')).toBe(false);
    expect(closed).toEqual(['42:acme', '44:acme-new']);
    expect(bridges.served().map((bridge) => bridge.tenantId)).toEqual(['default']);
  });

  it("finds a webhook's tenant by its path secret, a served one without reading it again", async () => {
    const rows = new Map([
      ['acme', acme()],
      ['paused', tenant('paused', { botToken: '6:x', supportGroups: ['-1006'] }, 'suspended')],
    ]);
    const { bridges, lookups } = registry(rows);
    expect((await bridges.byWebhookSecret('wh_acme'))?.id).toBe('acme');
    expect(lookups).toEqual(['wh_acme']);
    await bridges.get('acme');
    expect((await bridges.byWebhookSecret('wh_acme'))?.id).toBe('acme');
    expect(lookups).toEqual(['wh_acme']);
    expect(await bridges.byWebhookSecret('wh_paused')).toBeUndefined();
    expect(await bridges.byWebhookSecret('wh_nobody')).toBeUndefined();
  });

  it('serves every active tenant with a bot at start', async () => {
    const rows = new Map([
      ['acme', acme()],
      ['nobot', tenant('nobot', {})],
      ['paused', tenant('paused', { botToken: '6:x', supportGroups: ['-1006'] }, 'suspended')],
    ]);
    const { bridges } = registry(rows);
    expect(await bridges.serveAll()).toBe(1);
    await bridges.stop();
    expect(bridges.served().map((bridge) => bridge.tenantId)).toEqual(['default']);
  });
});
