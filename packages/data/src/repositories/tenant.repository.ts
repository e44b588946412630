import type { Kysely } from 'kysely';
import type { DB } from '../schema';
import type { Tenant, TenantLimits, TenantSecretsSummary, TenantStatus } from '../tenant.schema';

export interface NewTenantInput {
  id: string;
  name: string;
  plan: string;
  limits: TenantLimits;
  allowedOrigins: readonly string[];
  siteKey: string;
  webhookSecret: string;
}

/** The fields a change may set (each one absent: kept). */
export interface TenantChange {
  name?: string;
  plan?: string;
  limits?: TenantLimits;
  allowedOrigins?: readonly string[];
  status?: TenantStatus;
}

/** The encrypted bundle as stored: all three set, or all three null (no secrets). */
export interface StoredSecrets {
  secrets: string | null;
  dataKey: string | null;
  kekId: string | null;
  summary: TenantSecretsSummary;
}

/**
 * The tenants themselves (migration 0023). Not scoped by tenant: only the platform API and each
 * replica's tenant directory read and change them.
 */
export class TenantRepository {
  constructor(private readonly db: Kysely<DB>) {}

  /** The new row, or undefined when the id is taken. */
  create(input: NewTenantInput): Promise<Tenant | undefined> {
    return this.db
      .insertInto('tenants')
      .values({
        id: input.id,
        name: input.name,
        plan: input.plan,
        limits: JSON.stringify(input.limits),
        allowed_origins: JSON.stringify(input.allowedOrigins),
        site_key: input.siteKey,
        webhook_secret: input.webhookSecret,
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .returningAll()
      .executeTakeFirst();
  }

  find(id: string): Promise<Tenant | undefined> {
    return this.db.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Locks the row for the rest of the transaction (a change reads, merges and writes). */
  lock(id: string): Promise<Tenant | undefined> {
    return this.db
      .selectFrom('tenants')
      .selectAll()
      .where('id', '=', id)
      .forUpdate()
      .executeTakeFirst();
  }

  findBySiteKey(siteKey: string): Promise<Tenant | undefined> {
    return this.db
      .selectFrom('tenants')
      .selectAll()
      .where('site_key', '=', siteKey)
      .executeTakeFirst();
  }

  /** The tenant whose Telegram webhook path carries `webhookSecret` (the bridge's route). */
  findByWebhookSecret(webhookSecret: string): Promise<Tenant | undefined> {
    return this.db
      .selectFrom('tenants')
      .selectAll()
      .where('webhook_secret', '=', webhookSecret)
      .executeTakeFirst();
  }

  /** A page by id, after the previous page's last id; the caller reads `limit + 1` to know more follow. */
  list(options: {
    limit: number;
    afterId?: string | undefined;
    includeDeleted: boolean;
  }): Promise<Tenant[]> {
    let query = this.db.selectFrom('tenants').selectAll();
    if (!options.includeDeleted) query = query.where('status', '<>', 'deleted');
    if (options.afterId !== undefined) query = query.where('id', '>', options.afterId);
    return query.orderBy('id').limit(options.limit).execute();
  }

  update(id: string, change: TenantChange, at: Date): Promise<Tenant | undefined> {
    return this.db
      .updateTable('tenants')
      .set({
        ...(change.name === undefined ? {} : { name: change.name }),
        ...(change.plan === undefined ? {} : { plan: change.plan }),
        ...(change.limits === undefined ? {} : { limits: JSON.stringify(change.limits) }),
        ...(change.allowedOrigins === undefined
          ? {}
          : { allowed_origins: JSON.stringify(change.allowedOrigins) }),
        ...(change.status === undefined
          ? {}
          : {
              status: change.status,
              suspended_at: change.status === 'suspended' ? at : null,
              ...(change.status === 'deleted' ? { deleted_at: at } : {}),
            }),
        updated_at: at,
      })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
  }

  setSecrets(id: string, stored: StoredSecrets, at: Date): Promise<Tenant | undefined> {
    return this.db
      .updateTable('tenants')
      .set({
        secrets: stored.secrets,
        data_key: stored.dataKey,
        kek_id: stored.kekId,
        secrets_summary: JSON.stringify(stored.summary),
        updated_at: at,
      })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
  }

  /**
   * Replaces the wrapped data key if it is still the one wrapped by `fromKekId` (a concurrent
   * rewrap or secrets change wins); whether this one was written.
   */
  async rewrap(id: string, fromKekId: string, dataKey: string, kekId: string): Promise<boolean> {
    const result = await this.db
      .updateTable('tenants')
      .set({ data_key: dataKey, kek_id: kekId })
      .where('id', '=', id)
      .where('kek_id', '=', fromKekId)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** Tenants whose data key is wrapped by another key than `kekId` (what a rotation rewraps). */
  wrappedByOtherThan(kekId: string, limit: number): Promise<Tenant[]> {
    return this.db
      .selectFrom('tenants')
      .selectAll()
      .where('kek_id', 'is not', null)
      .where('kek_id', '<>', kekId)
      .orderBy('id')
      .limit(limit)
      .execute();
  }
}
