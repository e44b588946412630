export type {
  AnyAcquired,
  AcquireOptions,
  Budget,
  BudgetLimiter,
  BudgetUse,
  Coordination,
  Deduper,
  DueLock,
  Fanout,
  FanoutEvent,
  FanoutListener,
  Health,
  LeaseCounter,
  Lock,
  Locker,
  QuotaLimiter,
  QuotaResult,
} from './types';
export {
  CoordinationClosedError,
  CoordinationError,
  CoordinationErrorCode,
  CoordinationUnavailableError,
  InvalidCoordinationArgumentError,
  LockLostError,
} from './errors';
export { noopLogger, type Logger } from './logger';
export { coordinationKeys, DEFAULT_TENANT, tenantKey, type CoordinationKeys } from './keys';
export { DEFAULT_LOCK_TTL_MS } from './defaults';
export {
  createInProcessBudgetLimiter,
  createInProcessCoordination,
  createInProcessDeduper,
  createInProcessFanout,
  createInProcessLocker,
  createInProcessQuotaLimiter,
  type InProcessOptions,
} from './in-process';
export {
  createRedisBudgetLimiter,
  createRedisCoordination,
  createRedisDeduper,
  createRedisFanout,
  createRedisLocker,
  createRedisQuotaLimiter,
  type RedisClientOptions,
  type RedisCoordinationOptions,
} from './redis/coordination';
