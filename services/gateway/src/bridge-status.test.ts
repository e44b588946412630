import { createInProcessBus, topics, type Bus } from '@topicdesk/bus';
import { BotRole, BotState, timestampFromMs } from '@topicdesk/contracts';
import { DEFAULT_TENANT_ID } from '@topicdesk/core';
import { afterEach, describe, expect, it } from 'vitest';
import { BridgeStatusBoard } from './bridge-status';

const buses: Bus[] = [];
afterEach(async () => {
  for (const bus of buses.splice(0)) await bus.close();
});

const status = (replicaId: string, intervalMs: number, normal = 1) => ({
  replicaId,
  tenantId: DEFAULT_TENANT_ID,
  at: timestampFromMs(Date.now()),
  intervalMs,
  queue: { normal, cosmetic: 0, oldestWaitMs: 0 },
  bots: [{ botId: '1', username: 'main_bot', role: BotRole.MAIN, state: BotState.OK }],
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
    const view = await board.view();
    expect(view).toMatchObject({
      available: true,
      replicas: 2,
      sending: { normal: 3, cosmetic: 0, oldestWaitSeconds: 0 },
      bots: [{ id: '1', username: 'main_bot', role: 'main', state: 'ok' }],
    });
    board.close();
  });

  it('answers unavailable after its wait, then at once until a bridge speaks; forgets a silent one', async () => {
    const bus = createInProcessBus();
    buses.push(bus);
    const board = new BridgeStatusBoard(bus, { waitMs: 100 });
    const began = Date.now();
    expect(await board.view()).toMatchObject({ available: false, bots: [] });
    expect(Date.now() - began).toBeGreaterThanOrEqual(90);
    const again = Date.now();
    expect((await board.view()).available).toBe(false);
    expect(Date.now() - again).toBeLessThan(90);

    let changes = 0;
    const stop = board.onChange(() => (changes += 1));
    // A bridge starting signals on its own; a replica that goes quiet is forgotten (a change).
    bus.signal(topics.bridgeStatus, status('a', 1000));
    await expect.poll(() => changes).toBe(1);
    expect((await board.view()).replicas).toBe(1);
    // The same status again is no change.
    bus.signal(topics.bridgeStatus, status('a', 1000));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(changes).toBe(1);
    await expect.poll(() => changes, { timeout: 6000 }).toBe(2);
    expect((await board.view()).available).toBe(false);
    stop();
    board.close();
  });
});
