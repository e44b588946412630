import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@topicdesk/telemetry';
import { unitOfWorkFixture, type UnitOfWorkFixture } from './unit-of-work-fixture';
import { ServiceTokenIndex, TenantDirectory, TenantKeyring, TenantService } from '../src/index';

// Issue 16: a tenant's admin API token is the serviceToken of its encrypted bundle; each replica
// finds the tenant of a bearer token through a map of the tokens' hashes.

const logger = createLogger({ service: 'core-service-token-test', level: 'silent' });
const kek = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;
const token = (name: string) => `${name}-service-token-${randomBytes(12).toString('hex')}`;

describe('service token index', () => {
  let fixture: UnitOfWorkFixture;
  const keyring = TenantKeyring.fromEnv(kek('k1'), undefined);
  let tenants: TenantService;
  const suffix = randomBytes(3).toString('hex');
  const ids = { a: `sti-a-${suffix}`, b: `sti-b-${suffix}`, gone: `sti-gone-${suffix}` };
  const tokens = { a: token('a'), b: token('b'), gone: token('gone') };

  beforeAll(async () => {
    fixture = await unitOfWorkFixture('core-service-token-index');
    tenants = new TenantService(fixture.uow, keyring, () => {});
    for (const name of ['a', 'b', 'gone'] as const)
      await tenants.create('test', {
        id: ids[name],
        name,
        secrets: { serviceToken: tokens[name] },
      });
    await tenants.create('test', { id: `sti-none-${suffix}`, name: 'no token' });
    await tenants.delete('test', ids.gone);
  });

  afterAll(async () => {
    await fixture?.close();
  });

  const indexWith = (ring: TenantKeyring) => {
    const directory = new TenantDirectory({ db: fixture.database.db, keyring: ring, logger });
    return {
      directory,
      index: new ServiceTokenIndex({ db: fixture.database.db, directory, logger }),
    };
  };

  it("finds each live tenant by its token, and none by another, a near one or a deleted tenant's", async () => {
    const { index } = indexWith(keyring);
    expect((await index.find(tokens.a))?.id).toBe(ids.a);
    expect((await index.find(tokens.b))?.id).toBe(ids.b);
    expect(await index.find(`${tokens.a}x`)).toBeUndefined();
    expect(await index.find(tokens.a.slice(0, -1))).toBeUndefined();
    expect(await index.find(tokens.gone)).toBeUndefined();
  });

  it('follows a rotated token once invalidated (a tenant.changed signal)', async () => {
    const { index, directory } = indexWith(keyring);
    expect((await index.find(tokens.b))?.id).toBe(ids.b);
    const rotated = token('b2');
    await tenants.update('test', ids.b, { secrets: { serviceToken: rotated } });
    directory.drop(ids.b);
    index.invalidate();
    expect(await index.find(tokens.b)).toBeUndefined();
    expect((await index.find(rotated))?.id).toBe(ids.b);
  });

  it('keeps the other tenants reachable when one bundle cannot be opened', async () => {
    // A replica without the KEK of one tenant's bundle (here: of every bundle but one).
    const other = TenantKeyring.fromEnv(kek('k9'), undefined);
    const lone = `sti-lone-${suffix}`;
    const loneToken = token('lone');
    await new TenantService(fixture.uow, other, () => {}).create('test', {
      id: lone,
      name: 'lone',
      secrets: { serviceToken: loneToken },
    });
    const { index } = indexWith(other);
    expect((await index.find(loneToken))?.id).toBe(lone);
    expect(await index.find(tokens.a)).toBeUndefined();
  });
});
