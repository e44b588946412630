import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditRepository, DEFAULT_TENANT_ID, TenantRepository } from '@topicdesk/data';
import { createLogger } from '@topicdesk/telemetry';
import { unitOfWorkFixture, type UnitOfWorkFixture } from './unit-of-work-fixture';
import {
  rewrapTenantKeys,
  TenantDirectory,
  TenantError,
  TenantKeyring,
  TenantRefusal,
  TenantService,
} from '../src/index';

// Issue 16: tenants created, changed, suspended and deleted through the platform's service, their
// secrets encrypted at rest, each replica's cache, and the rotation of the key-encryption key.

const logger = createLogger({ service: 'core-tenants-test', level: 'silent' });
const kek = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;
const BOT = '7000001:AAbbCCddEEffGGhhIIjjKKllMMnnOOppQQ';
const OTHER_BOT = '7000002:ZZyyXXwwVVuuTTssRRqqPPooNNmmLLkkJJ';

async function refusal(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TenantError) return error.code;
    throw error;
  }
  return undefined;
}

describe('tenants: the platform service, the directory and KEK rotation', () => {
  let fixture: UnitOfWorkFixture;
  const first = kek('k1');
  const keyring = TenantKeyring.fromEnv(first, undefined);
  const notified: string[] = [];
  let tenants: TenantService;

  beforeAll(async () => {
    fixture = await unitOfWorkFixture('core-tenants');
    tenants = new TenantService(fixture.uow, keyring, (id) => notified.push(id));
  });

  afterAll(async () => {
    await fixture?.close();
  });

  it('an existing install has its default tenant, active, with keys and no secrets', async () => {
    const row = await new TenantRepository(fixture.database.db).find(DEFAULT_TENANT_ID);
    expect(row).toMatchObject({ status: 'active', plan: 'default', secrets: null, kek_id: null });
    expect(row?.site_key).toMatch(/^pk_[0-9a-f]{64}$/);
    expect(row?.webhook_secret).toMatch(/^wh_[0-9a-f]{64}$/);
    const view = await tenants.get(DEFAULT_TENANT_ID);
    expect(view.secrets.botToken).toEqual({ set: false });
  });

  it('creates a tenant with secrets stored encrypted, shown only as set and fingerprinted; audited and announced', async () => {
    const created = await tenants.create('platform-token', {
      id: 'acme',
      name: 'Acme',
      plan: 'pro',
      limits: { conversationsPerDay: 100, retentionDays: 30 },
      allowedOrigins: ['https://acme.example'],
      secrets: { botToken: BOT, supportGroups: ['-1001234567890'] },
    });
    expect(created).toMatchObject({
      id: 'acme',
      status: 'active',
      plan: 'pro',
      limits: { conversationsPerDay: 100, retentionDays: 30 },
      allowedOrigins: ['https://acme.example'],
      kekId: 'k1',
    });
    expect(created.secrets.botToken).toEqual({ set: true, fingerprint: expect.any(String) });
    expect(created.secrets.supportGroups).toMatchObject({ set: true, count: 1 });
    expect(created.secrets.jwtSecret).toEqual({ set: false });
    expect(JSON.stringify(created)).not.toContain(BOT);

    const row = await new TenantRepository(fixture.database.db).find('acme');
    expect(JSON.stringify(row)).not.toContain('AAbbCCdd');
    expect(notified).toContain('acme');
    const audit = await new AuditRepository(fixture.database.db).list('acme', { limit: 5 });
    expect(audit[0]).toMatchObject({ action: 'tenant.create', actor_type: 'platform' });
    expect(JSON.stringify(audit)).not.toContain('AAbbCCdd');

    expect(await refusal(tenants.create('p', { id: 'acme', name: 'Again' }))).toBe(
      TenantRefusal.exists,
    );
  });

  it('a change of one secret keeps the others and their fingerprints; null clears', async () => {
    const before = await tenants.get('acme');
    const changed = await tenants.update('p', 'acme', {
      name: 'Acme Inc.',
      secrets: { botToken: OTHER_BOT, jwtSecret: 'j'.repeat(40) },
    });
    expect(changed.name).toBe('Acme Inc.');
    expect(changed.secrets.supportGroups).toEqual(before.secrets.supportGroups);
    expect(changed.secrets.botToken.fingerprint).not.toBe(before.secrets.botToken.fingerprint);
    const directory = new TenantDirectory({ db: fixture.database.db, keyring, logger });
    expect((await directory.get('acme'))?.secrets()).toEqual({
      botToken: OTHER_BOT,
      supportGroups: ['-1001234567890'],
      jwtSecret: 'j'.repeat(40),
    });
    const cleared = await tenants.update('p', 'acme', { secrets: { jwtSecret: null } });
    expect(cleared.secrets.jwtSecret).toEqual({ set: false });
    expect(cleared.secrets.botToken).toEqual(changed.secrets.botToken);
    const audit = await new AuditRepository(fixture.database.db).list('acme', { limit: 1 });
    expect(audit[0]?.details).toMatchObject({ secretsCleared: ['jwtSecret'], secretsSet: [] });
  });

  it('suspends, resumes and softly deletes; a deleted tenant is kept and never changed again', async () => {
    await tenants.create('p', { id: 'globex', name: 'Globex' });
    expect((await tenants.setSuspended('p', 'globex', true)).status).toBe('suspended');
    expect((await tenants.setSuspended('p', 'globex', false)).status).toBe('active');
    const deleted = await tenants.delete('p', 'globex');
    expect(deleted).toMatchObject({ status: 'deleted', deletedAt: expect.any(String) });
    expect(await refusal(tenants.update('p', 'globex', { name: 'x' }))).toBe(TenantRefusal.deleted);
    expect(await refusal(tenants.create('p', { id: 'globex', name: 'x' }))).toBe(
      TenantRefusal.exists,
    );
    expect(await refusal(tenants.delete('p', DEFAULT_TENANT_ID))).toBe(TenantRefusal.protected);
    expect(await refusal(tenants.get('nobody'))).toBe(TenantRefusal.notFound);
    const actions = (await new AuditRepository(fixture.database.db).list('globex', { limit: 10 }))
      .map((entry) => entry.action)
      .reverse();
    expect(actions).toEqual(['tenant.create', 'tenant.suspend', 'tenant.resume', 'tenant.delete']);
  });

  it('lists by id with a cursor, deleted tenants only when asked', async () => {
    for (const id of ['list-a', 'list-b', 'list-c']) await tenants.create('p', { id, name: id });
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await tenants.list({ limit: 2, cursor, includeDeleted: false });
      seen.push(...page.items.map((t) => t.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual(['acme', 'default', 'list-a', 'list-b', 'list-c']);
    const all = await tenants.list({ limit: 50, includeDeleted: true });
    expect(all.items.map((t) => t.id)).toContain('globex');
  });

  it('the directory caches, finds by site key, and reads again once dropped', async () => {
    let now = 0;
    const directory = new TenantDirectory({
      db: fixture.database.db,
      keyring,
      logger,
      maxAgeMs: 1000,
      now: () => now,
    });
    const view = await tenants.create('p', { id: 'initech', name: 'Initech' });
    expect((await directory.bySiteKey(view.siteKey))?.id).toBe('initech');
    expect(await directory.bySiteKey('pk_nothing')).toBeUndefined();
    await tenants.setSuspended('p', 'initech', true);
    expect((await directory.get('initech'))?.status).toBe('active');
    directory.drop('initech');
    expect((await directory.get('initech'))?.status).toBe('suspended');
    await tenants.setSuspended('p', 'initech', false);
    now += 1000;
    expect((await directory.get('initech'))?.status).toBe('active');
    expect(await directory.get('nobody')).toBeUndefined();
    // Misses are not kept: ids come from unverified tokens too, and the cache must not grow.
    const held = directory.size;
    for (let i = 0; i < 50; i++) expect(await directory.get(`nobody-${i}`)).toBeUndefined();
    expect(directory.size).toBe(held);
  });

  it("the directory finds a tenant by its webhook path secret, and lists the active tenants' ids", async () => {
    const directory = new TenantDirectory({ db: fixture.database.db, keyring, logger });
    await tenants.create('p', { id: 'hooli', name: 'Hooli' });
    const row = await new TenantRepository(fixture.database.db).find('hooli');
    expect((await directory.byWebhookSecret(row!.webhook_secret))?.id).toBe('hooli');
    expect(await directory.byWebhookSecret('wh_nothing')).toBeUndefined();
    expect(await directory.activeIds(2)).toContain('hooli');
    await tenants.setSuspended('p', 'hooli', true);
    directory.drop('hooli');
    // Still found (the caller checks the status); no longer listed as active.
    expect((await directory.byWebhookSecret(row!.webhook_secret))?.status).toBe('suspended');
    const active = await directory.activeIds(2);
    expect(active).not.toContain('hooli');
    expect(active).toContain(DEFAULT_TENANT_ID);
  });

  it('rotating the KEK loses nothing: reads rewrap lazily, the command rewraps the rest', async () => {
    await tenants.create('p', { id: 'rot-a', name: 'A', secrets: { botToken: BOT } });
    await tenants.create('p', {
      id: 'rot-b',
      name: 'B',
      secrets: { serviceToken: 's'.repeat(20) },
    });
    const rotated = TenantKeyring.fromEnv(kek('k2'), first);
    const repository = new TenantRepository(fixture.database.db);

    // A replica with the new keys reads rot-a: its key is rewrapped on the way.
    const directory = new TenantDirectory({ db: fixture.database.db, keyring: rotated, logger });
    expect((await directory.get('rot-a'))?.secrets()).toEqual({ botToken: BOT });
    expect((await repository.find('rot-a'))?.kek_id).toBe('k2');

    // The command does the others (acme and rot-b), once.
    const actor = { type: 'system', id: 'test' } as const;
    const result = await rewrapTenantKeys(fixture.database.db, rotated, { actor });
    expect(result.failed).toEqual([]);
    expect(result.rewrapped.sort()).toEqual(['acme', 'rot-b']);
    expect((await rewrapTenantKeys(fixture.database.db, rotated, { actor })).rewrapped).toEqual([]);
    const audit = await new AuditRepository(fixture.database.db).list('rot-b', { limit: 1 });
    expect(audit[0]).toMatchObject({
      action: 'tenant.kek_rewrap',
      details: { from: 'k1', to: 'k2' },
    });

    // k1 retired: everything still opens with k2 alone, fingerprints unchanged.
    const only = new TenantKeyring(rotated.current, []);
    const fresh = new TenantDirectory({ db: fixture.database.db, keyring: only, logger });
    expect((await fresh.get('rot-b'))?.secrets()).toEqual({ serviceToken: 's'.repeat(20) });
    expect((await fresh.get('acme'))?.secrets().botToken).toBe(OTHER_BOT);
    const service = new TenantService(fixture.uow, only, () => {});
    const acme = await service.update('p', 'acme', { secrets: { serviceToken: 't'.repeat(20) } });
    expect(acme.kekId).toBe('k2');
    expect((await fresh.get('acme'))?.secrets().botToken).toBe(OTHER_BOT);
  });

  it("a row copied onto another tenant does not open: a clear error, not another tenant's secrets", async () => {
    const repository = new TenantRepository(fixture.database.db);
    await tenants.create('p', { id: 'source', name: 'Source', secrets: { botToken: BOT } });
    const source = await repository.find('source');
    await tenants.create('p', { id: 'copycat', name: 'Copy' });
    await repository.setSecrets(
      'copycat',
      {
        secrets: source?.secrets ?? null,
        dataKey: source?.data_key ?? null,
        kekId: source?.kek_id ?? null,
        summary: {},
      },
      new Date(),
    );
    const directory = new TenantDirectory({ db: fixture.database.db, keyring, logger });
    const tenant = await directory.get('copycat');
    expect(() => tenant?.secrets()).toThrow(
      expect.objectContaining({ name: 'TenantSecretsError', code: 'TENANT_SECRETS_CORRUPT' }),
    );
    expect((await directory.get('source'))?.secrets()).toEqual({ botToken: BOT });
  });
});
