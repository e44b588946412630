import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { cleanupRedis, testInfra, uniqueName } from '@topicdesk/testkit';
import {
  CoordinationErrorCode,
  createRedisBudgetLimiter,
  createRedisCoordination,
  createRedisDeduper,
  createRedisFanout,
  createRedisLocker,
  createRedisQuotaLimiter,
  LockLostError,
  type Coordination,
} from '../src/index';
import { coordinationSuite } from './coordination.suite';
import { captureLogger, collector, fresh, sleep } from './helpers';

const namespace = uniqueName('fanout');
const logger = captureLogger();
const url = testInfra.redisUrl;

afterAll(async () => {
  await cleanupRedis(namespace);
});

coordinationSuite(
  'redis coordination',
  {
    replicas: async (log) =>
      Promise.all([
        createRedisCoordination({ url, namespace, logger: log }),
        createRedisCoordination({ url, namespace, logger: log }),
      ]),
    single: () => createRedisCoordination({ url, namespace }),
  },
  logger,
);

describe('redis coordination specifics', () => {
  let raw: Redis;
  let a: Coordination;
  let b: Coordination;

  beforeAll(async () => {
    raw = new Redis(url);
    [a, b] = await Promise.all([
      createRedisCoordination({ url, namespace, logger }),
      createRedisCoordination({ url, namespace, logger }),
    ]);
  });

  afterAll(async () => {
    await Promise.all([a.close(), b.close()]);
    raw.disconnect();
  });

  const subscribers = async (conversation: string): Promise<number> => {
    const reply = (await raw.pubsub('NUMSUB', `${namespace}:conv:${conversation}`)) as [
      string,
      number,
    ];
    return reply[1];
  };

  it('holds one Redis subscription per conversation per process, dropped with the last listener', async () => {
    const conversation = fresh('conv');
    const offFirst = await a.fanout.subscribe(conversation, () => {});
    const offSecond = await a.fanout.subscribe(conversation, () => {});
    expect(await subscribers(conversation)).toBe(1);
    const offOther = await b.fanout.subscribe(conversation, () => {});
    expect(await subscribers(conversation)).toBe(2);
    await offFirst();
    expect(await subscribers(conversation)).toBe(2);
    await offSecond();
    expect(await subscribers(conversation)).toBe(1);
    await offOther();
    expect(await subscribers(conversation)).toBe(0);
  });

  it('settles concurrent subscribe and unsubscribe calls to what the listeners want', async () => {
    const conversation = fresh('conv');
    const seen = collector();
    const offs = await Promise.all(
      Array.from({ length: 10 }, () => a.fanout.subscribe(conversation, () => {})),
    );
    const leaving = Promise.all(offs.map((off) => off()));
    const offKept = await a.fanout.subscribe(conversation, seen.listener);
    await leaving;
    expect(await subscribers(conversation)).toBe(1);
    await b.fanout.publish(conversation, { seq: 1 });
    await vi.waitFor(() => expect(seen.events).toHaveLength(1));
    await offKept();
    expect(await subscribers(conversation)).toBe(0);
  });

  it('drops and logs a malformed message on a conversation channel', async () => {
    const conversation = fresh('conv');
    const seen = collector();
    const off = await a.fanout.subscribe(conversation, seen.listener);
    await raw.publish(`${namespace}:conv:${conversation}`, 'not json {');
    await raw.publish(`${namespace}:conv:${conversation}`, '[1,2]');
    await b.fanout.publish(conversation, { seq: 1 });
    await vi.waitFor(() => expect(seen.events).toEqual([{ seq: 1 }]));
    const warnings = logger.entries.filter(
      (e) =>
        e.msg === 'dropped a fanout message that is not a JSON object' &&
        (e.obj as { channel?: string }).channel === `${namespace}:conv:${conversation}`,
    );
    expect(warnings).toHaveLength(2);
    await off();
  });

  it('aborts the signal of a lost lock and never frees the next holder on release', async () => {
    const key = fresh('conv');
    const lock = await a.locks.tryLock(key, 300);
    expect(lock).not.toBeNull();
    await raw.del(`${namespace}:lock:${key}`);
    await vi.waitFor(() => expect(lock?.signal.aborted).toBe(true), { timeout: 1000 });
    expect(lock?.signal.reason).toBeInstanceOf(LockLostError);
    expect(lock?.signal.reason).toMatchObject({ code: CoordinationErrorCode.LockLost, key });
    const next = await b.locks.tryLock(key, 300);
    expect(next).not.toBeNull();
    await lock?.release();
    expect(await a.locks.tryLock(key, 300)).toBeNull();
    await next?.release();
  });

  it('aborts the signal when its ttl runs out without a successful extension', async () => {
    const client = new Redis(url);
    const local = captureLogger();
    const locker = createRedisLocker({ redis: client, namespace, logger: local });
    const lock = await locker.tryLock(fresh('conv'), 300);
    const takenAt = Date.now();
    // Every extension now fails at once ("Connection is closed").
    client.disconnect();
    await vi.waitFor(() => expect(lock?.signal.aborted).toBe(true), { timeout: 1000 });
    expect(Date.now() - takenAt).toBeLessThan(450);
    expect(lock?.signal.reason).toBeInstanceOf(LockLostError);
    expect(local.entries.map((e) => e.msg)).toContain('lock extension failed; retrying');
    await lock?.release();
  });

  it('releases held locks on close so other replicas need not wait for the ttl', async () => {
    const closing = await createRedisCoordination({ url, namespace });
    const key = fresh('conv');
    await closing.locks.tryLock(key, 60_000);
    await closing.close();
    expect(await raw.exists(`${namespace}:lock:${key}`)).toBe(0);
  });

  it('keeps every key under the namespace and gives each an expiry', async () => {
    const key = fresh('k');
    await a.budgets.tryAcquire([{ key, limit: 5, windowMs: 1000 }]);
    await a.budgets.penalize([{ key, limit: 5, windowMs: 1000 }], 800);
    await a.quotas.hit(key, 5, 1000);
    await a.dedupe.firstSeen(key, 1000);
    const lock = await a.locks.tryLock(key, 1000);
    const expected = [
      `${namespace}:budget:${key}`,
      `${namespace}:budget-block:${key}`,
      `${namespace}:quota:${key}`,
      `${namespace}:dedupe:${key}`,
      `${namespace}:lock:${key}`,
    ];
    for (const name of expected) {
      const ttl = await raw.pttl(name);
      expect(ttl, name).toBeGreaterThan(0);
      expect(ttl, name).toBeLessThanOrEqual(1000);
    }
    expect(await raw.type(`${namespace}:budget:${key}`)).toBe('zset');
    expect(await raw.zcard(`${namespace}:budget:${key}`)).toBe(1);
    await lock?.release();
  });

  it('refuses a bad namespace and an unreachable Redis with stable codes', async () => {
    await expect(createRedisCoordination({ url, namespace: 'has space' })).rejects.toMatchObject({
      code: CoordinationErrorCode.InvalidArgument,
    });
    await expect(
      createRedisCoordination({ url: 'redis://:secret@127.0.0.1:1', namespace }),
    ).rejects.toMatchObject({
      code: CoordinationErrorCode.Unavailable,
      message: expect.not.stringContaining('secret') as unknown,
    });
  });

  it('offers single-purpose factories over a caller-owned client', async () => {
    const client = new Redis(url);
    try {
      const options = { redis: client, namespace };
      const key = fresh('k');
      const budgets = createRedisBudgetLimiter(options);
      expect(await budgets.tryAcquire([{ key, limit: 1, windowMs: 1000 }])).toBe(0);
      // Same keys as the coordination: they share the budget.
      expect(await a.budgets.tryAcquire([{ key, limit: 1, windowMs: 1000 }])).toBeGreaterThan(0);
      expect((await createRedisQuotaLimiter(options).hit(key, 1, 1000)).allowed).toBe(true);
      expect(await createRedisDeduper(options).firstSeen(key, 1000)).toBe(true);
      const lock = await createRedisLocker(options).tryLock(key, 1000);
      expect(await a.locks.tryLock(key, 1000)).toBeNull();
      await lock?.release();

      const fanout = await createRedisFanout({ url, namespace });
      const seen = collector();
      const off = await fanout.subscribe(key, seen.listener);
      await a.fanout.publish(key, { seq: 1 });
      await vi.waitFor(() => expect(seen.events).toEqual([{ seq: 1 }]));
      await off();
      await fanout.close();
      expect(fanout.health()).toEqual({ ok: false, detail: 'closed' });
    } finally {
      client.disconnect();
    }
  });
});

describe('redis fanout recovery', () => {
  // A namespace of its own: the test kills this namespace's subscriber connections by name.
  const recoveryNamespace = uniqueName('fanout_recovery');

  afterAll(async () => {
    await cleanupRedis(recoveryNamespace);
  });

  it('resubscribes after its subscriber connection drops and then reports recovery', async () => {
    const raw = new Redis(url);
    const local = captureLogger();
    const [a, b] = await Promise.all([
      createRedisCoordination({ url, namespace: recoveryNamespace, logger: local }),
      createRedisCoordination({ url, namespace: recoveryNamespace }),
    ]);
    try {
      const conversation = fresh('conv');
      const seen = collector();
      await a.fanout.subscribe(conversation, seen.listener);
      let recovered = 0;
      a.fanout.onRecovered(() => recovered++);

      const clients = (await raw.client('LIST')) as string;
      const ids = clients
        .split('\n')
        .filter((line) => line.includes(` name=${recoveryNamespace}:coordination:subscriber `))
        .map((line) => /(?:^|\s)id=(\d+)/.exec(line)?.[1])
        .filter((id): id is string => id !== undefined);
      expect(ids).toHaveLength(2);
      for (const id of ids) await raw.client('KILL', 'ID', id);

      await vi.waitFor(() => expect(recovered).toBe(1), { timeout: 5000, interval: 20 });
      expect(a.health()).toEqual({ ok: true });
      await b.fanout.publish(conversation, { seq: 2 });
      await vi.waitFor(() => expect(seen.events).toEqual([{ seq: 2 }]));
      expect(local.entries.map((e) => e.msg)).toEqual(
        expect.arrayContaining([
          'redis connection lost; reconnecting',
          'redis connection restored',
          'fanout resubscribed after reconnect',
        ]),
      );
      await sleep(10);
    } finally {
      await Promise.all([a.close(), b.close()]);
      raw.disconnect();
    }
  });
});
