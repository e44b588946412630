import { validateNamespace } from './validate';

/** Every Redis key and channel this package touches; all start with `${namespace}:`. */
export interface CoordinationKeys {
  readonly namespace: string;
  conversationChannel(conversationId: string): string;
  budgetLog(key: string): string;
  budgetBlock(key: string): string;
  quotaLog(key: string): string;
  /** A `LeaseCounter` key's leases (sorted set, score = expiry). */
  lease(key: string): string;
  lock(key: string): string;
  /** The due mark of a lock's key (`Locker.tryLockDue`). */
  due(key: string): string;
  dedupe(key: string): string;
}

/** The tenant every install starts with (`DEFAULT_TENANT_ID` of @topicdesk/data). */
export const DEFAULT_TENANT = 'default';

/**
 * A caller's key (a quota, budget, lock or dedupe key) within its tenant. The default tenant's
 * keys keep the names they always had, so a rolling upgrade goes on counting in the same windows
 * and holding the same locks; every other tenant's start with `tenant:<id>:`, so two tenants
 * never share a window or a lock (docs/security.md, "Tenant scoping").
 */
export function tenantKey(tenantId: string, key: string): string {
  return tenantId === DEFAULT_TENANT ? key : `tenant:${tenantId}:${key}`;
}

export function coordinationKeys(namespace: string): CoordinationKeys {
  const ns = validateNamespace(namespace);
  return {
    namespace: ns,
    conversationChannel: (conversationId) => `${ns}:conv:${conversationId}`,
    budgetLog: (key) => `${ns}:budget:${key}`,
    // A separate prefix, not a `:block` suffix, so no budget key can collide with a block key.
    budgetBlock: (key) => `${ns}:budget-block:${key}`,
    quotaLog: (key) => `${ns}:quota:${key}`,
    lease: (key) => `${ns}:lease:${key}`,
    lock: (key) => `${ns}:lock:${key}`,
    due: (key) => `${ns}:due:${key}`,
    dedupe: (key) => `${ns}:dedupe:${key}`,
  };
}
