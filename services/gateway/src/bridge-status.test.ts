import { createInProcessBus, topics, type Bus } from '@topicdesk/bus';
import { BotRole, BotState, timestampFromMs } from '@topicdesk/contracts';
import { DEFAULT_TENANT_ID } from '@topicdesk/core';
import { afterEach, describe, expect, it } from 'vitest';
import { BridgeStatusBoard } from './bridge-status';

const buses: Bus[] = [];
afterEach(async () => {
  for (const bus of buses.splice(0)) await bus.close();
});

const status = (
  replicaId: string,
  intervalMs: number,
  normal = 1,
  tenantId: string = DEFAULT_TENANT_ID,
  botId = '1',
) => ({
  replicaId,
  tenantId,
  at: timestampFromMs(Date.now()),
  intervalMs,
  queue: { normal, cosmetic: 0, oldestWaitMs: 0 },
  bots: [{ botId, username: `bot_${botId}`, role: BotRole.MAIN, state: BotState.OK }],
});

describe('BridgeStatusBoard', () => {
  it('asks the bridges when it has heard none, and takes every replica that answers', async () => {
    const bus = createInProcessBus();
    buses.push(bus);
    const bridges = bus.onSignal(topics.bridgeStatusRequest, () => {
      bus.signal(topics.bridgeStatus, status('a', 5000, 1));
      bus.signal(topics.bridgeStatus, status('b', 5000, 2));
    });
    await bridges.ready;
    const board = new BridgeStatusBoard(bus, { waitMs: 2000 });
    const view = await board.view(DEFAULT_TENANT_ID);
    expect(view).toMatchObject({
      available: true,
      replicas: 2,
      sending: { normal: 3, cosmetic: 0, oldestWaitSeconds: 0 },
      bots: [{ id: '1', username: 'bot_1', role: 'main', state: 'ok' }],
    });
    board.close();
  });

  it('answers unavailable after its wait, then at once until a bridge speaks; forgets a silent one', async () => {
    const bus = createInProcessBus();
    buses.push(bus);
    const board = new BridgeStatusBoard(bus, { waitMs: 100 });
    const began = Date.now();
    expect(await board.view(DEFAULT_TENANT_ID)).toMatchObject({ available: false, bots: [] });
    expect(Date.now() - began).toBeGreaterThanOrEqual(90);
    const again = Date.now();
    expect((await board.view(DEFAULT_TENANT_ID)).available).toBe(false);
    expect(Date.now() - again).toBeLessThan(90);

    let changes = 0;
    const stop = board.onChange(() => (changes += 1));
    // A bridge starting signals on its own; a replica that goes quiet is forgotten (a change).
    bus.signal(topics.bridgeStatus, status('a', 1000));
    await expect.poll(() => changes).toBe(1);
    expect((await board.view(DEFAULT_TENANT_ID)).replicas).toBe(1);
    // The same status again is no change.
    bus.signal(topics.bridgeStatus, status('a', 1000));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(changes).toBe(1);
    await expect.poll(() => changes, { timeout: 6000 }).toBe(2);
    expect((await board.view(DEFAULT_TENANT_ID)).available).toBe(false);
    stop();
    board.close();
  });

  it("shows each tenant its own bridges' bots and queues, asks for that tenant, and tells which tenant changed", async () => {
    const bus = createInProcessBus();
    buses.push(bus);
    const asked: string[] = [];
    const bridges = bus.onSignal(topics.bridgeStatusRequest, ({ tenantId }) => {
      asked.push(tenantId);
      if (tenantId === 'tenant-b')
        bus.signal(topics.bridgeStatus, status('r1', 5000, 7, 'tenant-b', '22'));
    });
    await bridges.ready;
    const board = new BridgeStatusBoard(bus, { waitMs: 500 });
    const changed: string[] = [];
    const stop = board.onChange((tenantId) => changed.push(tenantId));
    bus.signal(topics.bridgeStatus, status('r1', 5000, 2, 'tenant-a', '11'));
    await expect.poll(() => changed).toEqual(['tenant-a']);

    const a = await board.view('tenant-a');
    expect(a).toMatchObject({ available: true, replicas: 1, sending: { normal: 2 } });
    expect(a.bots.map((bot) => bot.id)).toEqual(['11']);
    // B's replica was not heard yet: the board asks for B only, and shows B's bot only.
    const b = await board.view('tenant-b');
    expect(asked).toEqual(['tenant-b']);
    expect(b).toMatchObject({ available: true, replicas: 1, sending: { normal: 7 } });
    expect(b.bots.map((bot) => bot.id)).toEqual(['22']);
    expect(changed).toEqual(['tenant-a', 'tenant-b']);
    // A tenant no bridge serves sees nothing of the others.
    expect(await board.view('tenant-c')).toMatchObject({ available: false, bots: [] });
    stop();
    board.close();
  });
});
