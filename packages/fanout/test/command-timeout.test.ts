import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupRedis, TcpProxy, testInfra, uniqueName } from '@topicdesk/testkit';
import { CoordinationErrorCode, createRedisCoordination, type Coordination } from '../src/index';

// A Redis that stops answering (a hung server, a connection that died unseen): every command
// must fail within the command timeout, never wait for ever. A consumer whose only handler
// awaits such a command would otherwise stop for good (issue 13's failover runs).

const namespace = uniqueName('fanout-timeout');
let proxy: TcpProxy;
let coordination: Coordination;

beforeAll(async () => {
  const target = new URL(testInfra.redisUrl);
  proxy = await TcpProxy.start({
    target: { host: target.hostname, port: Number(target.port || 6379) },
  });
  coordination = await createRedisCoordination({
    url: `redis://${proxy.address}`,
    namespace,
    commandTimeoutMs: 300,
  });
});

afterAll(async () => {
  proxy.restore();
  await coordination?.close();
  await proxy?.close();
  await cleanupRedis(namespace);
});

describe('a Redis that stops answering', () => {
  it('fails a command after the command timeout with COORDINATION_UNAVAILABLE, then works again', async () => {
    await coordination.fanout.publish('c-1', { type: 'status', status: 'open' });

    proxy.stall();
    const started = performance.now();
    const outcomes = await Promise.allSettled([
      coordination.fanout.publish('c-1', { type: 'status', status: 'open' }),
      coordination.dedupe.firstSeen('k-1', 1000),
      coordination.locks.tryLock('l-1', 1000),
    ]);
    const elapsed = performance.now() - started;
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected');
      const reason = (outcome as PromiseRejectedResult).reason as { code?: string };
      expect(reason.code).toBe(CoordinationErrorCode.Unavailable);
    }
    expect(elapsed).toBeLessThan(5_000);

    // The stalled connection is reset when the server "comes back"; ioredis reconnects.
    proxy.restore();
    await expect
      .poll(
        () =>
          coordination.fanout.publish('c-1', { type: 'status', status: 'open' }).then(
            () => true,
            () => false,
          ),
        { timeout: 10_000, interval: 200 },
      )
      .toBe(true);
  });
});
