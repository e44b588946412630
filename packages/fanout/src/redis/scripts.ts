import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/** A Lua script run by EVALSHA, loaded with EVAL the first time a server does not know it. */
export class LuaScript {
  readonly sha: string;

  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(redis: Redis, keys: readonly string[], args: ReadonlyArray<string | number>) {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

/**
 * Sliding-window log over several budgets at once, atomically.
 * KEYS: n log keys (sorted sets, score = ms timestamp), then optionally n block keys.
 * ARGV: member suffix, n, then limit and windowMs for each budget.
 * Time comes from Redis TIME, so the replicas' clocks do not matter.
 * Returns {wait, remaining}: wait 0 means one use was recorded in every log.
 */
export const SLIDING_WINDOW_SCRIPT = new LuaScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local n = tonumber(ARGV[2])
local has_blocks = #KEYS == 2 * n
local wait = 0
local remaining = -1
for i = 1, n do
  local log = KEYS[i]
  local limit = tonumber(ARGV[1 + 2 * i])
  local window = tonumber(ARGV[2 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', log, '-inf', now - window)
  local count = redis.call('ZCARD', log)
  if count >= limit then
    local entry = redis.call('ZRANGE', log, count - limit, count - limit, 'WITHSCORES')
    local w = tonumber(entry[2]) + window - now
    if w < 1 then w = 1 end
    if w > wait then wait = w end
  end
  if has_blocks then
    local blocked = redis.call('PTTL', KEYS[n + i])
    if blocked > wait then wait = blocked end
  end
  local left = limit - count - 1
  if remaining < 0 or left < remaining then remaining = left end
end
if wait > 0 then return {wait, 0} end
local member = now .. '-' .. ARGV[1]
for i = 1, n do
  redis.call('ZADD', KEYS[i], now, member)
  redis.call('PEXPIRE', KEYS[i], tonumber(ARGV[2 + 2 * i]))
end
return {0, remaining}
`);

/** KEYS: block keys. ARGV: ms. Sets each block to ms unless it already lasts longer. */
export const PENALIZE_SCRIPT = new LuaScript(`
local ms = tonumber(ARGV[1])
for _, key in ipairs(KEYS) do
  if redis.call('PTTL', key) < ms then
    redis.call('SET', key, '1', 'PX', ms)
  end
end
return 0
`);

/** KEYS: lock. ARGV: token, ttl. 1 if the lock was ours and is extended, else 0. */
export const EXTEND_LOCK_SCRIPT = new LuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`);

/** KEYS: lock. ARGV: token. 1 if the lock was ours and is deleted, else 0. */
export const RELEASE_LOCK_SCRIPT = new LuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`);

/** Reads the `{wait, remaining}` reply of SLIDING_WINDOW_SCRIPT. */
export function parseWindowReply(reply: unknown): [wait: number, remaining: number] {
  if (!Array.isArray(reply) || reply.length !== 2) {
    throw new Error(`unexpected sliding-window reply: ${JSON.stringify(reply)}`);
  }
  const [wait, remaining] = reply.map(Number) as [number, number];
  if (!Number.isFinite(wait) || !Number.isFinite(remaining)) {
    throw new Error(`unexpected sliding-window reply: ${JSON.stringify(reply)}`);
  }
  return [wait, remaining];
}
