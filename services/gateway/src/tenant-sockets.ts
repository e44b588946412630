import type { TenantConfig } from '@topicdesk/core';
import { tenantKey, type LeaseCounter } from '@topicdesk/fanout';
import type { Logger } from '@topicdesk/telemetry';
import { ErrorCode } from './errors';
import type { TenantQuotaRefusal } from './tenant-quotas';

/** How long a socket's lease outlives its replica's last renewal (a replica that died). */
export const SOCKET_LEASE_TTL_MS = 30_000;

/** The Redis key of a tenant's open sockets (leases, one per socket, on every replica). */
export function tenantSocketsKey(tenantId: string): string {
  return tenantKey(tenantId, 'plan:sockets');
}

/** A socket's place among its tenant's open sockets: `release` once it is closed. */
export type SocketSeat =
  { held: true; release: () => void } | { held: false; refusal: TenantQuotaRefusal };

/**
 * Every tenant's open visitor sockets, counted across replicas: each socket holds a lease in its
 * tenant's set, and each replica renews the leases of its own sockets together, every third of
 * the ttl. A replica that dies stops renewing, so its sockets stop counting within the ttl.
 * Counted for every tenant (the usage report shows them); refused only past
 * `concurrentSockets`.
 */
export class TenantSockets {
  /** This replica's leases, by tenant id. */
  readonly #held = new Map<string, Set<string>>();
  readonly #timer: NodeJS.Timeout;
  #next = 0;

  constructor(
    private readonly deps: {
      leases: LeaseCounter;
      limitsOf: (tenantId: string) => Promise<TenantConfig['limits']>;
      replicaId: string;
      logger: Pick<Logger, 'warn'>;
      onRefused?: () => void;
      ttlMs?: number;
    },
  ) {
    this.#timer = setInterval(() => void this.#renew(), this.#ttl / 3);
    this.#timer.unref();
  }

  get #ttl(): number {
    return this.deps.ttlMs ?? SOCKET_LEASE_TTL_MS;
  }

  /**
   * A seat for one more socket of the tenant, or the refusal past its `concurrentSockets`. Without
   * a limit, a store that cannot be reached leaves the socket uncounted rather than refused.
   */
  async open(tenantId: string): Promise<SocketSeat> {
    const max = (await this.deps.limitsOf(tenantId)).concurrentSockets;
    const key = tenantSocketsKey(tenantId);
    const lease = `${this.deps.replicaId}:${++this.#next}`;
    let held: boolean;
    try {
      held = await this.deps.leases.hold(key, lease, max ?? Number.MAX_SAFE_INTEGER, this.#ttl);
    } catch (error) {
      if (max !== undefined) throw error;
      this.deps.logger.warn({ err: error, tenantId }, 'an open socket left uncounted');
      return { held: true, release: () => {} };
    }
    if (!held) {
      this.deps.onRefused?.();
      return {
        held: false,
        refusal: {
          code: ErrorCode.TENANT_QUOTA_EXCEEDED,
          message: `this site's plan allows ${max} open conversations at once; try again later`,
          limit: 'concurrentSockets',
        },
      };
    }
    const mine = this.#held.get(tenantId) ?? new Set<string>();
    mine.add(lease);
    this.#held.set(tenantId, mine);
    let released = false;
    return {
      held: true,
      release: () => {
        if (released) return;
        released = true;
        mine.delete(lease);
        if (mine.size === 0 && this.#held.get(tenantId) === mine) this.#held.delete(tenantId);
        this.deps.leases.release(key, lease).catch((error: unknown) => {
          // It frees itself within the ttl: nobody renews it any more.
          this.deps.logger.warn({ err: error, tenantId }, 'a socket lease not released');
        });
      },
    };
  }

  /** The tenant's open sockets on every replica. */
  count(tenantId: string): Promise<number> {
    return this.deps.leases.count(tenantSocketsKey(tenantId));
  }

  close(): void {
    clearInterval(this.#timer);
  }

  async #renew(): Promise<void> {
    for (const [tenantId, leases] of this.#held) {
      try {
        await this.deps.leases.renew(tenantSocketsKey(tenantId), [...leases], this.#ttl);
      } catch (error) {
        this.deps.logger.warn({ err: error, tenantId }, "could not renew a tenant's socket leases");
      }
    }
  }
}
