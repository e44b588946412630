/**
 * The `tenant` label of per-tenant metrics, bounded: a label value is a time series per metric and
 * label set, so an unbounded one (thousands of tenants, or worse, conversation ids) would grow the
 * Prometheus index without end. The first `limit` tenants a process sees keep their id; every later
 * one is `_other` (tenant ids start with a letter or digit, so no tenant is named that). Which
 * tenants get an id is per process: a restart starts over, and two replicas may differ once there
 * are more tenants than the limit; sums over `tenant` stay right either way.
 */
export const OTHER_TENANTS = '_other';
/** METRICS_TENANT_LABELS' default. */
export const DEFAULT_TENANT_LABELS = 50;

export class TenantLabels {
  readonly #labelled = new Set<string>();

  constructor(private limit: number = DEFAULT_TENANT_LABELS) {}

  /** The label of `tenantId`: its id while it is one of the first `limit` seen, else `_other`. */
  label(tenantId: string): string {
    if (this.#labelled.has(tenantId)) return tenantId;
    if (this.#labelled.size >= this.limit) return OTHER_TENANTS;
    this.#labelled.add(tenantId);
    return tenantId;
  }

  /** Changes the limit (at start); tenants already labelled keep their label. */
  setLimit(limit: number): void {
    this.limit = limit;
  }

  /** How many tenants have their own label. */
  get size(): number {
    return this.#labelled.size;
  }
}

const processLabels = new TenantLabels();

/**
 * The process's bounded `tenant` label for `tenantId` (METRICS_TENANT_LABELS, set by
 * initTelemetry). Use it for counters and histograms that are per tenant by nature, never with
 * conversation or user ids.
 *
 * @example visitorMessages.add(1, { kind: 'visitor', tenant: tenantLabel(tenantId) })
 */
export function tenantLabel(tenantId: string): string {
  return processLabels.label(tenantId);
}

/** Sets the process's limit (initTelemetry, from METRICS_TENANT_LABELS). */
export function setTenantLabelLimit(limit: number): void {
  processLabels.setLimit(limit);
}
