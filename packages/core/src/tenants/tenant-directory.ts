import { topics, type Bus, type SignalSubscription } from '@topicdesk/bus';
import {
  AuditRepository,
  TenantRepository,
  type DB,
  type Kysely,
  type Tenant,
  type TenantLimits,
  type TenantStatus,
} from '@topicdesk/data';
import type { Logger } from '@topicdesk/telemetry';
import type { TenantKeyring } from './envelope';
import type { TenantSecrets } from './tenant-secrets';

/** A tenant as a replica uses it: its settings, and its secrets opened on first use. */
export interface TenantConfig {
  readonly id: string;
  readonly name: string;
  readonly status: TenantStatus;
  readonly plan: string;
  readonly limits: TenantLimits;
  readonly allowedOrigins: readonly string[];
  readonly siteKey: string;
  readonly webhookSecret: string;
  /**
   * The decrypted bundle (empty when none is stored); throws a `TenantSecretsError` when it
   * cannot be opened (no or an unknown KEK, a changed row). Opened once per cache entry.
   */
  secrets(): TenantSecrets;
}

interface Entry {
  loaded: Promise<TenantConfig | undefined>;
  at: number;
}

export interface TenantDirectoryOptions {
  db: Kysely<DB>;
  keyring: TenantKeyring;
  logger: Logger;
  /**
   * How long an entry is trusted without a `tenant.changed` signal: the signal is fire-and-forget,
   * so a replica that missed one reads the tenant again after this at the latest. Default 5 min.
   */
  maxAgeMs?: number;
  now?: () => number;
}

/**
 * Each replica's cache of tenants, by id and by public site key. A change through the platform
 * API signals `tenant.changed`; every replica listening (`listen`) drops that tenant and reads it
 * again on next use, so changes reach every replica without a restart. Reading a tenant whose
 * data key is wrapped by a previous KEK rewraps it with the current one (lazy rotation).
 */
export class TenantDirectory {
  private readonly byId = new Map<string, Entry>();
  private readonly idBySiteKey = new Map<string, string>();
  private readonly maxAgeMs: number;
  private readonly now: () => number;

  constructor(private readonly options: TenantDirectoryOptions) {
    this.maxAgeMs = options.maxAgeMs ?? 300_000;
    this.now = options.now ?? Date.now;
  }

  /** The tenant, or undefined when there is none of that id. */
  get(id: string): Promise<TenantConfig | undefined> {
    const cached = this.byId.get(id);
    if (cached && this.now() - cached.at < this.maxAgeMs) return cached.loaded;
    const loaded = new TenantRepository(this.options.db).find(id).then((row) => this.entry(row));
    this.remember(id, loaded);
    return loaded;
  }

  /** The tenant a widget snippet's public site key names, or undefined. */
  async bySiteKey(siteKey: string): Promise<TenantConfig | undefined> {
    const id = this.idBySiteKey.get(siteKey);
    if (id !== undefined) {
      const tenant = await this.get(id);
      if (tenant?.siteKey === siteKey) return tenant;
      this.idBySiteKey.delete(siteKey);
    }
    const row = await new TenantRepository(this.options.db).findBySiteKey(siteKey);
    if (!row) return undefined;
    const loaded = this.entry(row);
    this.remember(row.id, loaded);
    return loaded;
  }

  /**
   * The tenant whose Telegram webhook path carries `webhookSecret` (the bridge's route), or
   * undefined. Read from Postgres each time: the bridge calls it per webhook delivery only when
   * the secret is not one of the tenants it already serves.
   */
  async byWebhookSecret(webhookSecret: string): Promise<TenantConfig | undefined> {
    const row = await new TenantRepository(this.options.db).findByWebhookSecret(webhookSecret);
    if (!row) return undefined;
    const tenant = await this.get(row.id);
    return tenant?.webhookSecret === webhookSecret ? tenant : undefined;
  }

  /** The ids of every active tenant, read page by page (a bridge serving their bots at start). */
  async activeIds(batch = 100): Promise<string[]> {
    const repository = new TenantRepository(this.options.db);
    const ids: string[] = [];
    let afterId: string | undefined;
    for (;;) {
      const page = await repository.list({ limit: batch, afterId, includeDeleted: false });
      ids.push(...page.filter((row) => row.status === 'active').map((row) => row.id));
      if (page.length < batch) return ids;
      afterId = page[page.length - 1]?.id;
    }
  }

  /** Forgets the tenant: its next use reads it again. */
  drop(id: string): void {
    this.byId.delete(id);
    for (const [siteKey, tenantId] of this.idBySiteKey)
      if (tenantId === id) this.idBySiteKey.delete(siteKey);
  }

  /** Drops tenants as `tenant.changed` signals name them (every replica hears every signal). */
  listen(bus: Bus): SignalSubscription {
    return bus.onSignal(topics.tenantChanged, (signal) => {
      this.drop(signal.tenantId);
    });
  }

  /** Tenants held (for tests and a gauge). */
  get size(): number {
    return this.byId.size;
  }

  private remember(id: string, loaded: Promise<TenantConfig | undefined>): void {
    const entry: Entry = { loaded, at: this.now() };
    this.byId.set(id, entry);
    // A failed read is not cached: the next use tries again. Nor is a miss: ids come from
    // unverified tokens too, and a map of every id ever asked for would only grow.
    loaded.then(
      (tenant) => {
        if (this.byId.get(id) !== entry) return;
        if (tenant) this.idBySiteKey.set(tenant.siteKey, id);
        else this.byId.delete(id);
      },
      () => {
        if (this.byId.get(id) === entry) this.byId.delete(id);
      },
    );
  }

  private async entry(row: Tenant | undefined): Promise<TenantConfig | undefined> {
    if (!row) return undefined;
    const sealed = await this.rewrapped(row);
    const { keyring } = this.options;
    let opened: TenantSecrets | undefined;
    return {
      id: row.id,
      name: row.name,
      status: row.status,
      plan: row.plan,
      limits: row.limits,
      allowedOrigins: row.allowed_origins,
      siteKey: row.site_key,
      webhookSecret: row.webhook_secret,
      secrets: () =>
        (opened ??= sealed
          ? (JSON.parse(keyring.open(row.id, sealed).toString('utf8')) as TenantSecrets)
          : {}),
    };
  }

  /** The row's sealed bundle, its data key rewrapped with the current KEK if it was not. */
  private async rewrapped(row: Tenant) {
    if (row.secrets === null || row.data_key === null || row.kek_id === null) return undefined;
    const sealed = { secrets: row.secrets, dataKey: row.data_key, kekId: row.kek_id };
    const { keyring, logger } = this.options;
    if (!keyring.needsRewrap(sealed.kekId)) return sealed;
    try {
      const next = keyring.rewrap(row.id, sealed);
      await new TenantRepository(this.options.db).rewrap(
        row.id,
        sealed.kekId,
        next.dataKey,
        next.kekId,
      );
      logger.info(
        { tenantId: row.id, fromKek: sealed.kekId, toKek: next.kekId },
        "tenant's data key rewrapped with the current KEK",
      );
      return { ...sealed, ...next };
    } catch (error) {
      // Reading goes on with the stored key; opening the bundle reports what is wrong.
      logger.warn(
        { err: error, tenantId: row.id, kekId: sealed.kekId },
        "could not rewrap the tenant's data key with the current KEK",
      );
      return sealed;
    }
  }
}

/**
 * Rewraps every tenant's data key with the current KEK (`pnpm tenants:rotate-kek`): after it, the
 * previous KEKs can be removed from TENANT_KEKS_PREVIOUS. The bundles are not re-encrypted, only
 * their keys; a tenant whose key does not unwrap is reported and left as it is.
 */
export async function rewrapTenantKeys(
  db: Kysely<DB>,
  keyring: TenantKeyring,
  options: {
    /** Who asked: each rewrap is audited (`tenant.kek_rewrap`) under its tenant. */
    actor: { type: 'platform' | 'system'; id: string };
    batch?: number;
  },
): Promise<{ rewrapped: string[]; failed: Array<{ tenantId: string; error: unknown }> }> {
  const current = keyring.current?.id;
  if (current === undefined) throw new Error('TENANT_KEK is not set: nothing to rewrap with');
  const repository = new TenantRepository(db);
  const rewrapped: string[] = [];
  const failed: Array<{ tenantId: string; error: unknown }> = [];
  const skip = new Set<string>();
  for (;;) {
    const rows = (
      await repository.wrappedByOtherThan(current, (options.batch ?? 100) + skip.size)
    ).filter((row) => !skip.has(row.id));
    if (rows.length === 0) break;
    for (const row of rows) {
      if (row.data_key === null || row.kek_id === null) continue;
      try {
        const next = keyring.rewrap(row.id, { dataKey: row.data_key, kekId: row.kek_id });
        if (await repository.rewrap(row.id, row.kek_id, next.dataKey, next.kekId)) {
          rewrapped.push(row.id);
          await new AuditRepository(db).record({
            tenantId: row.id,
            actorType: options.actor.type,
            actorId: options.actor.id,
            action: 'tenant.kek_rewrap',
            details: { from: row.kek_id, to: next.kekId },
          });
        }
      } catch (error) {
        failed.push({ tenantId: row.id, error });
        skip.add(row.id);
      }
    }
  }
  return { rewrapped, failed };
}
