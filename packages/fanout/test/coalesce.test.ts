import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testInfra, uniqueName } from '@topicdesk/testkit';
import { closeRedis, openRedis } from '../src/redis/connection';
import { captureLogger, sleep } from './helpers';

type CountedSocket = {
  _write: (...args: unknown[]) => unknown;
  _writev: (...args: unknown[]) => unknown;
};

/** Counts the writes that reach the socket's handle (one system call each). */
function countWrites(redis: Redis): { count: number } {
  const counter = { count: 0 };
  const socket = redis.stream as unknown as CountedSocket;
  for (const method of ['_write', '_writev'] as const) {
    const original = socket[method].bind(socket);
    socket[method] = (...args: unknown[]) => {
      counter.count += 1;
      return original(...args);
    };
  }
  return counter;
}

describe('a Redis connection coalesces the commands of one turn', () => {
  const namespace = uniqueName('coalesce');
  let redis: Redis;

  beforeAll(async () => {
    redis = await openRedis({
      url: testInfra.redisUrl,
      namespace,
      role: 'commands',
      logger: captureLogger(),
      coalesce: true,
    });
  });

  afterAll(async () => {
    await redis.del(`${namespace}:a`, `${namespace}:b`);
    await closeRedis(redis, captureLogger());
  });

  it('writes the commands issued in one turn once, and answers each', async () => {
    const writes = countWrites(redis);
    const replies = await Promise.all([
      redis.set(`${namespace}:a`, '1'),
      redis.publish(`${namespace}:channel`, 'receipt'),
      redis.incr(`${namespace}:a`),
      redis.get(`${namespace}:a`),
    ]);
    expect(replies).toEqual(['OK', 0, 2, '2']);
    expect(writes.count).toBe(1);
  });

  it('writes commands of different turns apart, in order', async () => {
    const writes = countWrites(redis);
    await redis.set(`${namespace}:b`, 'x');
    await redis.append(`${namespace}:b`, 'y');
    expect(await redis.get(`${namespace}:b`)).toBe('xy');
    expect(writes.count).toBe(3);
  });

  it('coalesces again on the socket of a reconnection', async () => {
    redis.stream.destroy();
    for (let i = 0; i < 100 && redis.status === 'ready'; i++) await sleep(10);
    for (let i = 0; i < 500 && redis.status !== 'ready'; i++) await sleep(10);
    expect(redis.status).toBe('ready');
    const writes = countWrites(redis);
    const replies = await Promise.all([
      redis.set(`${namespace}:a`, '5'),
      redis.get(`${namespace}:a`),
    ]);
    expect(replies).toEqual(['OK', '5']);
    expect(writes.count).toBe(1);
  });
});
