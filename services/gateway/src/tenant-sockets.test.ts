import { createInProcessCoordination } from '@topicdesk/fanout';
import { afterEach, describe, expect, it } from 'vitest';
import { TenantSockets } from './tenant-sockets';

// The seats of a tenant's open sockets, shared by replicas: each replica renews its own, so the
// seats of a replica that died free themselves within the ttl.

const coordination = createInProcessCoordination();
const logger = { warn: () => {} };
const replicas: TenantSockets[] = [];
afterEach(() => {
  for (const replica of replicas.splice(0)) replica.close();
});

function replica(id: string, limits: Record<string, number>, ttlMs = 600) {
  const sockets = new TenantSockets({
    leases: coordination.leases,
    limitsOf: async () => limits,
    replicaId: id,
    logger,
    ttlMs,
  });
  replicas.push(sockets);
  return sockets;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('TenantSockets', () => {
  it('seats up to concurrentSockets across replicas, renews them while open, frees one on release', async () => {
    const a = replica('a', { concurrentSockets: 2 });
    const b = replica('b', { concurrentSockets: 2 });
    const one = await a.open('acme');
    const two = await b.open('acme');
    expect([one.held, two.held]).toEqual([true, true]);
    // Longer than the ttl: both replicas renew their own seats.
    await sleep(1_300);
    expect(await a.count('acme')).toBe(2);
    const refused = await a.open('acme');
    expect(refused).toMatchObject({
      held: false,
      refusal: { code: 'TENANT_QUOTA_EXCEEDED', limit: 'concurrentSockets' },
    });
    if (two.held) two.release();
    await expect.poll(() => a.count('acme')).toBe(1);
    expect((await a.open('acme')).held).toBe(true);
    // Another tenant has seats of its own.
    expect((await b.open('other')).held).toBe(true);
  });

  it("frees a dead replica's seats within the ttl", async () => {
    const dying = replica('dying', { concurrentSockets: 1 });
    const alive = replica('alive', { concurrentSockets: 1 });
    expect((await dying.open('solo')).held).toBe(true);
    expect((await alive.open('solo')).held).toBe(false);
    dying.close(); // no more renewals, as if the process died
    await sleep(900);
    expect(await alive.count('solo')).toBe(0);
    expect((await alive.open('solo')).held).toBe(true);
  });

  it('counts the sockets of a tenant without a limit, and never refuses them', async () => {
    const a = replica('free', {});
    for (let i = 0; i < 5; i++) expect((await a.open('free')).held).toBe(true);
    expect(await a.count('free')).toBe(5);
  });
});
