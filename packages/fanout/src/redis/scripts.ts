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
 * What both sliding-window scripts start with: the time from Redis TIME (so the replicas' clocks
 * do not matter), and `room`, which trims a budget's log to its window and answers how long
 * until it has room for one more use (0 when it has) and how many uses are left after that one.
 */
const SLIDING_WINDOW_PRELUDE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function room(log, limit, window)
  redis.call('ZREMRANGEBYSCORE', log, '-inf', now - window)
  local count = redis.call('ZCARD', log)
  local wait = 0
  if count >= limit then
    local entry = redis.call('ZRANGE', log, count - limit, count - limit, 'WITHSCORES')
    wait = tonumber(entry[2]) + window - now
    if wait < 1 then wait = 1 end
  end
  return wait, limit - count - 1
end
`;

/**
 * Sliding-window log over several budgets at once, atomically.
 * KEYS: n log keys (sorted sets, score = ms timestamp), then optionally n block keys.
 * ARGV: member suffix, n, then limit and windowMs for each budget.
 * Returns {wait, remaining}, or {0, remaining, member} when one use was recorded in every log
 * (the member names it, for a refund).
 */
export const SLIDING_WINDOW_SCRIPT = new LuaScript(`${SLIDING_WINDOW_PRELUDE}
local n = tonumber(ARGV[2])
local has_blocks = #KEYS == 2 * n
local wait = 0
local remaining = -1
for i = 1, n do
  local w, left = room(KEYS[i], tonumber(ARGV[1 + 2 * i]), tonumber(ARGV[2 + 2 * i]))
  if w > wait then wait = w end
  if has_blocks then
    local blocked = redis.call('PTTL', KEYS[n + i])
    if blocked > wait then wait = blocked end
  end
  if remaining < 0 or left < remaining then remaining = left end
end
if wait > 0 then return {wait, 0} end
local member = now .. '-' .. ARGV[1]
for i = 1, n do
  redis.call('ZADD', KEYS[i], now, member)
  redis.call('PEXPIRE', KEYS[i], tonumber(ARGV[2 + 2 * i]))
end
return {0, remaining, member}
`);

/**
 * The sliding window over several candidates (the bots of a pool), atomically: the candidate
 * whose budgets all have room and with the most room left gets one use in each of its budgets.
 * KEYS: for each candidate, for each of its budgets, its log key then its block key.
 * ARGV: member suffix, c, then for each candidate: n, then limit and windowMs per budget.
 * Returns {index (0-based), 0}, or {-1, ms until the first candidate has room}.
 */
export const ACQUIRE_ANY_SCRIPT = new LuaScript(`${SLIDING_WINDOW_PRELUDE}
local c = tonumber(ARGV[2])
local arg = 3
local key = 1
local best = -1
local best_remaining = nil
local best_from = 0
local best_n = 0
local best_arg = 0
local min_wait = -1
for i = 1, c do
  local n = tonumber(ARGV[arg])
  local from_key = key
  local from_arg = arg + 1
  local wait = 0
  local remaining = nil
  for j = 1, n do
    local w, left = room(KEYS[key], tonumber(ARGV[arg + 2 * j - 1]), tonumber(ARGV[arg + 2 * j]))
    if w > wait then wait = w end
    local blocked = redis.call('PTTL', KEYS[key + 1])
    if blocked > wait then wait = blocked end
    if remaining == nil or left < remaining then remaining = left end
    key = key + 2
  end
  if wait > 0 then
    if min_wait < 0 or wait < min_wait then min_wait = wait end
  elseif best_remaining == nil or remaining > best_remaining then
    best = i - 1
    best_remaining = remaining
    best_from = from_key
    best_n = n
    best_arg = from_arg
  end
  arg = arg + 1 + 2 * n
end
if best < 0 then
  if min_wait < 0 then min_wait = 0 end
  return {-1, min_wait}
end
local member = now .. '-' .. ARGV[1]
for j = 1, best_n do
  local log = KEYS[best_from + 2 * (j - 1)]
  redis.call('ZADD', log, now, member)
  redis.call('PEXPIRE', log, tonumber(ARGV[best_arg + 2 * j - 1]))
end
return {best, 0}
`);

/**
 * Reads budgets without recording a use (status pages). KEYS: n log keys, then n block keys.
 * ARGV: windowMs for each budget. Returns, per budget, its uses in the window and its block's
 * remaining ms (0 when none).
 */
export const PEEK_SCRIPT = new LuaScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local n = #ARGV
local out = {}
for i = 1, n do
  local used = redis.call('ZCOUNT', KEYS[i], '(' .. (now - tonumber(ARGV[i])), '+inf')
  local blocked = redis.call('PTTL', KEYS[n + i])
  if blocked < 0 then blocked = 0 end
  out[2 * i - 1] = used
  out[2 * i] = blocked
end
return out
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

/**
 * `Locker.tryLockDue`. KEYS: lock, due mark. ARGV: token, lock ttl ms, mark ttl ms. 1 when the
 * lock is taken (and the mark cleared), 0 when another holds it (and the mark is set).
 */
export const LOCK_OR_MARK_DUE_SCRIPT = new LuaScript(`
if redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then
  redis.call('DEL', KEYS[2])
  return 1
end
redis.call('SET', KEYS[2], '1', 'PX', ARGV[3])
return 0
`);

/**
 * `DueLock.releaseAndTakeDue`. KEYS: lock, due mark. ARGV: token. Deletes the lock if it is
 * still ours, and takes the mark whoever holds the lock: 1 when it was set, else 0.
 */
export const RELEASE_AND_TAKE_DUE_SCRIPT = new LuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
end
return redis.call('DEL', KEYS[2])
`);

/** Reads the `{wait, remaining[, member]}` reply of SLIDING_WINDOW_SCRIPT (and ACQUIRE_ANY). */
export function parseWindowReply(
  reply: unknown,
): [wait: number, remaining: number, member: string | undefined] {
  if (!Array.isArray(reply) || (reply.length !== 2 && reply.length !== 3)) {
    throw new Error(`unexpected sliding-window reply: ${JSON.stringify(reply)}`);
  }
  const wait = Number(reply[0]);
  const remaining = Number(reply[1]);
  const member: unknown = reply[2];
  if (
    !Number.isFinite(wait) ||
    !Number.isFinite(remaining) ||
    (member !== undefined && typeof member !== 'string')
  ) {
    throw new Error(`unexpected sliding-window reply: ${JSON.stringify(reply)}`);
  }
  return [wait, remaining, member];
}

/** The time from Redis TIME, in ms (the replicas' clocks do not matter). */
const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/**
 * Holds a lease of a `LeaseCounter` key (sorted set, score = when the lease expires).
 * KEYS: the lease key. ARGV: lease, limit, ttlMs. Returns 1 when held, 0 when the key is full.
 */
export const LEASE_HOLD_SCRIPT = new LuaScript(`${NOW}
local ttl = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1
`);

/** Extends held leases. KEYS: the lease key. ARGV: ttlMs, then the leases. */
export const LEASE_RENEW_SCRIPT = new LuaScript(`${NOW}
local ttl = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
for i = 2, #ARGV do
  redis.call('ZADD', KEYS[1], 'XX', now + ttl, ARGV[i])
end
if redis.call('EXISTS', KEYS[1]) == 1 and redis.call('PTTL', KEYS[1]) < ttl then
  redis.call('PEXPIRE', KEYS[1], ttl)
end
return 1
`);

/** Leases held now. KEYS: the lease key. */
export const LEASE_COUNT_SCRIPT = new LuaScript(`${NOW}
return redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')
`);

/** Uses in a quota's window now. KEYS: the quota log. ARGV: windowMs. */
export const QUOTA_USED_SCRIPT = new LuaScript(`${NOW}
return redis.call('ZCOUNT', KEYS[1], '(' .. (now - tonumber(ARGV[1])), '+inf')
`);
