import type { Redis } from 'ioredis';
import type { Gate } from '../gate';
import type { CoordinationKeys } from '../keys';
import type { Deduper } from '../types';
import { validateKey, validatePositive } from '../validate';
import { redisCall } from './connection';

export interface RedisDeduperOptions {
  redis: Redis;
  keys: CoordinationKeys;
  gate?: Gate;
}

/** `SET key 1 NX PX ttl`: only the first caller within the ttl gets OK. */
export class RedisDeduper implements Deduper {
  constructor(private readonly options: RedisDeduperOptions) {}

  async firstSeen(key: string, ttlMs: number): Promise<boolean> {
    validateKey('dedupe key', key);
    const ttl = validatePositive('dedupe ttlMs', ttlMs);
    const { redis, keys, gate } = this.options;
    const reply = await redisCall(gate, 'dedupe', () =>
      redis.set(keys.dedupe(key), '1', 'PX', ttl, 'NX'),
    );
    return reply === 'OK';
  }
}
