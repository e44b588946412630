/**
 * Each tenant's share of the conversation syncs a replica holds at once. The sync consumer's
 * slots (its maxAckPending) are shared by every tenant, and a sync waiting for its bot's budget
 * holds one: a tenant flooding at its bot's limit would hold them all and starve the others. So
 * a tenant holds at most `max(minimum, total ÷ tenants served)` of this replica's syncs; another
 * of its deliveries waits briefly for one of them to end, else it is handed back (consumers.ts).
 */
export class FairShare {
  readonly #inFlight = new Map<string, number>();
  readonly #waiting = new Map<string, Array<() => void>>();

  constructor(
    private readonly options: {
      /** The consumer's slots (TELEGRAM_SYNC_IN_FLIGHT). */
      total: number;
      /** Never fewer than this per tenant (8): a tenant's several groups and bots keep busy. */
      minimum: number;
      /** How many tenants this replica serves now (the default one included). */
      tenants: () => number;
    },
  ) {}

  /** A tenant's share now. */
  get cap(): number {
    const { total, minimum, tenants } = this.options;
    return Math.max(minimum, Math.floor(total / Math.max(1, tenants())));
  }

  /** The tenant's syncs held now. */
  inFlight(tenantId: string): number {
    return this.#inFlight.get(tenantId) ?? 0;
  }

  /**
   * A place for one of the tenant's syncs, waiting at most `waitMs` for one to free up; its
   * release, or undefined when the tenant is still at its share.
   */
  async enter(tenantId: string, waitMs: number): Promise<(() => void) | undefined> {
    if (this.inFlight(tenantId) >= this.cap) {
      await new Promise<void>((resolve) => {
        const queue = this.#waiting.get(tenantId) ?? [];
        this.#waiting.set(tenantId, queue);
        const wake = () => {
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          const at = queue.indexOf(wake);
          if (at >= 0) queue.splice(at, 1);
          resolve();
        }, waitMs);
        queue.push(wake);
      });
      if (this.inFlight(tenantId) >= this.cap) return undefined;
    }
    this.#inFlight.set(tenantId, this.inFlight(tenantId) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = this.inFlight(tenantId) - 1;
      if (left > 0) this.#inFlight.set(tenantId, left);
      else this.#inFlight.delete(tenantId);
      const queue = this.#waiting.get(tenantId);
      queue?.shift()?.();
      if (queue?.length === 0) this.#waiting.delete(tenantId);
    };
  }
}
