import { describe, expect, it, vi } from 'vitest';
import {
  createInProcessBudgetLimiter,
  createInProcessCoordination,
  createInProcessDeduper,
  createInProcessFanout,
  createInProcessLocker,
  createInProcessQuotaLimiter,
} from '../src/index';
import { coordinationSuite } from './coordination.suite';
import { captureLogger, collector } from './helpers';

const logger = captureLogger();

coordinationSuite(
  'in-process coordination',
  {
    replicas: (log) => {
      const shared = createInProcessCoordination({ logger: log });
      return Promise.resolve([shared, shared]);
    },
    single: () => Promise.resolve(createInProcessCoordination()),
  },
  logger,
);

describe('in-process single-purpose twins', () => {
  it('work on their own', async () => {
    const fanout = createInProcessFanout();
    const seen = collector();
    const off = await fanout.subscribe('c1', seen.listener);
    await fanout.publish('c1', { seq: 1 });
    await vi.waitFor(() => expect(seen.events).toEqual([{ seq: 1 }]));
    await off();
    await fanout.close();

    const budgets = createInProcessBudgetLimiter();
    expect(await budgets.tryAcquire([{ key: 'b', limit: 1, windowMs: 1000 }])).toBe(0);
    expect(await budgets.tryAcquire([{ key: 'b', limit: 1, windowMs: 1000 }])).toBeGreaterThan(0);
    expect((await createInProcessQuotaLimiter().hit('q', 1, 1000)).allowed).toBe(true);
    expect(await createInProcessLocker().tryLock('l')).not.toBeNull();
    expect(await createInProcessDeduper().firstSeen('d', 1000)).toBe(true);
  });
});
