import { randomBytes } from 'node:crypto';
import {
  AuditRepository,
  DEFAULT_TENANT_ID,
  TenantRepository,
  type Tenant,
  type TenantLimits,
  type TenantStatus,
} from '@topicdesk/data';
import { decodeCursor, pageFrom, type CursorPage } from '../console/cursor';
import type { UnitOfWork } from '../unit-of-work';
import { newDataKey, type TenantKeyring } from './envelope';
import {
  applySecretsChange,
  secretsView,
  summarize,
  TENANT_SECRET_NAMES,
  type TenantSecrets,
  type TenantSecretsChange,
} from './tenant-secrets';

/** What a tenant id can be: `default`, a slug chosen at creation, or `t-` and 12 hex digits. */
export const TENANT_ID_PATTERN = /^[a-z0-9][a-z0-9-]{1,62}$/;

export const TenantRefusal = {
  notFound: 'TENANT_NOT_FOUND',
  /** The id is taken (by a live or a deleted tenant: ids are never reused). */
  exists: 'TENANT_EXISTS',
  /** A deleted tenant is kept for its data, never changed again. */
  deleted: 'TENANT_DELETED',
  /** The default tenant (one-process mode, an existing install) cannot be deleted. */
  protected: 'TENANT_PROTECTED',
} as const;
export type TenantRefusal = (typeof TenantRefusal)[keyof typeof TenantRefusal];

export class TenantError extends Error {
  override readonly name = 'TenantError';
  constructor(
    readonly code: TenantRefusal,
    message: string,
  ) {
    super(message);
  }
}

/** What the platform API shows of a tenant: everything but the secrets' values. */
export function tenantView(tenant: Tenant) {
  return {
    id: tenant.id,
    name: tenant.name,
    status: tenant.status,
    plan: tenant.plan,
    limits: tenant.limits,
    allowedOrigins: tenant.allowed_origins,
    siteKey: tenant.site_key,
    secrets: secretsView(tenant.secrets_summary),
    kekId: tenant.kek_id,
    createdAt: tenant.created_at.toISOString(),
    updatedAt: tenant.updated_at.toISOString(),
    suspendedAt: tenant.suspended_at?.toISOString() ?? null,
    deletedAt: tenant.deleted_at?.toISOString() ?? null,
  };
}
export type TenantView = ReturnType<typeof tenantView>;

export interface NewTenant {
  /** Chosen by the caller (a slug), else `t-` and 12 hex digits. */
  id?: string | undefined;
  name: string;
  plan?: string | undefined;
  limits?: TenantLimits | undefined;
  allowedOrigins?: readonly string[] | undefined;
  secrets?: TenantSecrets | undefined;
}

export interface TenantPatch {
  name?: string | undefined;
  plan?: string | undefined;
  /** Replaces the limits whole (an absent limit: the deployment's default). */
  limits?: TenantLimits | undefined;
  allowedOrigins?: readonly string[] | undefined;
  secrets?: TenantSecretsChange | undefined;
}

const TENANTS = 'tenants';
const randomKey = (prefix: string) => `${prefix}${randomBytes(24).toString('base64url')}`;

/**
 * The tenants of the platform API: created, listed, changed, suspended, resumed and (softly)
 * deleted; every change audited under the tenant it concerns and announced, once committed, to
 * every replica (`notify`, the `tenant.changed` signal) so their caches drop it. Secrets are
 * written encrypted (envelope, `TenantKeyring`) and never read back out: a view shows which
 * are set and their fingerprints.
 */
export class TenantService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly keyring: TenantKeyring,
    private readonly notify: (tenantId: string) => void,
  ) {}

  async get(id: string): Promise<TenantView> {
    const tenant = await new TenantRepository(this.uow.db).find(id);
    if (!tenant) throw new TenantError(TenantRefusal.notFound, `no tenant "${id}"`);
    return tenantView(tenant);
  }

  async list(page: {
    cursor?: string | undefined;
    limit: number;
    includeDeleted: boolean;
  }): Promise<CursorPage<TenantView>> {
    const afterId =
      page.cursor === undefined ? undefined : decodeCursor(TENANTS, page.cursor, ['string'])[0];
    const rows = await new TenantRepository(this.uow.db).list({
      limit: page.limit + 1,
      afterId,
      includeDeleted: page.includeDeleted,
    });
    const listed = pageFrom(TENANTS, rows, page.limit, (row) => [row.id]);
    return { items: listed.items.map(tenantView), nextCursor: listed.nextCursor };
  }

  create(actor: string, input: NewTenant): Promise<TenantView> {
    const id = input.id ?? `t-${randomBytes(6).toString('hex')}`;
    return this.change(id, actor, 'tenant.create', async (repository) => {
      const created = await repository.create({
        id,
        name: input.name,
        plan: input.plan ?? 'default',
        limits: input.limits ?? {},
        allowedOrigins: input.allowedOrigins ?? [],
        siteKey: randomKey('pk_'),
        webhookSecret: randomKey('wh_'),
      });
      if (!created) throw new TenantError(TenantRefusal.exists, `the tenant id "${id}" is taken`);
      const secrets = input.secrets ?? {};
      const stored =
        Object.keys(secrets).length === 0
          ? created
          : await this.writeSecrets(repository, created, secrets);
      return {
        tenant: stored,
        details: {
          name: input.name,
          plan: stored.plan,
          secretsSet: Object.keys(secrets),
        },
      };
    });
  }

  update(actor: string, id: string, patch: TenantPatch): Promise<TenantView> {
    return this.change(id, actor, 'tenant.update', async (repository) => {
      const current = await this.live(repository, id);
      let tenant =
        (await repository.update(
          id,
          {
            ...(patch.name === undefined ? {} : { name: patch.name }),
            ...(patch.plan === undefined ? {} : { plan: patch.plan }),
            ...(patch.limits === undefined ? {} : { limits: patch.limits }),
            ...(patch.allowedOrigins === undefined ? {} : { allowedOrigins: patch.allowedOrigins }),
          },
          new Date(),
        )) ?? current;
      const change = patch.secrets ?? {};
      const touched = TENANT_SECRET_NAMES.filter((name) => change[name] !== undefined);
      if (touched.length > 0) {
        const before = this.readSecrets(current);
        tenant = await this.writeSecrets(repository, tenant, applySecretsChange(before, change));
      }
      return {
        tenant,
        details: {
          fields: Object.keys(patch).filter(
            (key) => key !== 'secrets' && patch[key as keyof TenantPatch] !== undefined,
          ),
          secretsSet: touched.filter((name) => change[name] !== null),
          secretsCleared: touched.filter((name) => change[name] === null),
        },
      };
    });
  }

  /** Suspends (nothing of the tenant is served, its data kept) or resumes a tenant. */
  setSuspended(actor: string, id: string, suspended: boolean): Promise<TenantView> {
    return this.setStatus(actor, id, suspended ? 'suspended' : 'active');
  }

  /** Soft delete: the row and its data stay (and its id stays taken); nothing is served. */
  delete(actor: string, id: string): Promise<TenantView> {
    if (id === DEFAULT_TENANT_ID)
      return Promise.reject(
        new TenantError(TenantRefusal.protected, 'the default tenant cannot be deleted'),
      );
    return this.setStatus(actor, id, 'deleted');
  }

  private setStatus(actor: string, id: string, status: TenantStatus): Promise<TenantView> {
    const action =
      status === 'deleted'
        ? 'tenant.delete'
        : status === 'suspended'
          ? 'tenant.suspend'
          : 'tenant.resume';
    return this.change(id, actor, action, async (repository) => {
      const current = await this.live(repository, id);
      const tenant =
        current.status === status
          ? current
          : ((await repository.update(id, { status }, new Date())) ?? current);
      return { tenant, details: { from: current.status, to: status } };
    });
  }

  /** One audited change of one tenant, announced to every replica once committed. */
  private async change(
    id: string,
    actor: string,
    action: string,
    fn: (
      repository: TenantRepository,
    ) => Promise<{ tenant: Tenant; details: Record<string, unknown> }>,
  ): Promise<TenantView> {
    return this.uow.run(async (work) => {
      const repository = new TenantRepository(work.trx);
      const { tenant, details } = await fn(repository);
      await new AuditRepository(work.trx).record({
        tenantId: tenant.id,
        actorType: 'platform',
        actorId: actor,
        action,
        details,
      });
      work.afterCommit(() => this.notify(tenant.id));
      return tenantView(tenant);
    });
  }

  private async live(repository: TenantRepository, id: string): Promise<Tenant> {
    const tenant = await repository.lock(id);
    if (!tenant) throw new TenantError(TenantRefusal.notFound, `no tenant "${id}"`);
    if (tenant.status === 'deleted')
      throw new TenantError(TenantRefusal.deleted, `the tenant "${id}" was deleted`);
    return tenant;
  }

  private readSecrets(tenant: Tenant): TenantSecrets {
    if (tenant.secrets === null || tenant.data_key === null || tenant.kek_id === null) return {};
    const plain = this.keyring.open(tenant.id, {
      secrets: tenant.secrets,
      dataKey: tenant.data_key,
      kekId: tenant.kek_id,
    });
    return JSON.parse(plain.toString('utf8')) as TenantSecrets;
  }

  /** Seals `secrets` under the tenant's data key (a new one for its first bundle). */
  private async writeSecrets(
    repository: TenantRepository,
    tenant: Tenant,
    secrets: TenantSecrets,
  ): Promise<Tenant> {
    if (Object.keys(secrets).length === 0) {
      const cleared = await repository.setSecrets(
        tenant.id,
        { secrets: null, dataKey: null, kekId: null, summary: {} },
        new Date(),
      );
      return cleared ?? tenant;
    }
    const dataKey =
      tenant.data_key !== null && tenant.kek_id !== null
        ? this.keyring.unwrap(tenant.id, { dataKey: tenant.data_key, kekId: tenant.kek_id })
        : newDataKey();
    const sealed = this.keyring.seal(tenant.id, Buffer.from(JSON.stringify(secrets)), dataKey);
    const stored = await repository.setSecrets(
      tenant.id,
      { ...sealed, summary: summarize(dataKey, secrets) },
      new Date(),
    );
    return stored ?? tenant;
  }
}
