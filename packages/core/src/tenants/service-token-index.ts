import { createHash, timingSafeEqual } from 'node:crypto';
import { TenantRepository, type DB, type Kysely } from '@topicdesk/data';
import type { Logger } from '@topicdesk/telemetry';
import type { TenantConfig, TenantDirectory } from './tenant-directory';

const PAGE = 200;

const digest = (token: string) => createHash('sha256').update(token).digest('base64url');

function same(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

export interface ServiceTokenIndexOptions {
  db: Kysely<DB>;
  directory: TenantDirectory;
  logger: Logger;
  /** How long a built index is trusted without `invalidate` (a missed signal). Default 5 min. */
  maxAgeMs?: number;
  now?: () => number;
}

/**
 * Which tenant an admin API bearer token belongs to: the `serviceToken` of a tenant's secrets
 * bundle. The bundles are encrypted, so no query can find a token: each replica keeps a map of
 * SHA-256(token) → tenant id, built from every live tenant's bundle on first use and again after
 * `invalidate` (a `tenant.changed` signal) or `maxAgeMs`. A hit is confirmed with a constant-time
 * comparison against the tenant's bundle as the directory holds it now. Only the hashes are kept.
 */
export class ServiceTokenIndex {
  private built: { at: number; tenants: Promise<Map<string, string>> } | undefined;
  private readonly maxAgeMs: number;
  private readonly now: () => number;

  constructor(private readonly options: ServiceTokenIndexOptions) {
    this.maxAgeMs = options.maxAgeMs ?? 300_000;
    this.now = options.now ?? Date.now;
  }

  /** The tenant (of any status) whose bundle's service token is `token`, or undefined. */
  async find(token: string): Promise<TenantConfig | undefined> {
    const tenantId = (await this.index()).get(digest(token));
    if (tenantId === undefined) return undefined;
    const tenant = await this.options.directory.get(tenantId);
    const stored = tenant?.secrets().serviceToken;
    return stored !== undefined && same(stored, token) ? tenant : undefined;
  }

  /** The next `find` builds the map again (a tenant's bundle or status changed). */
  invalidate(): void {
    this.built = undefined;
  }

  private index(): Promise<Map<string, string>> {
    if (this.built && this.now() - this.built.at < this.maxAgeMs) return this.built.tenants;
    const built = { at: this.now(), tenants: this.build() };
    this.built = built;
    // A failed build is not kept: the next use tries again.
    built.tenants.catch(() => {
      if (this.built === built) this.built = undefined;
    });
    return built.tenants;
  }

  private async build(): Promise<Map<string, string>> {
    const { db, directory, logger } = this.options;
    const tenants = new Map<string, string>();
    const repository = new TenantRepository(db);
    let afterId: string | undefined;
    for (;;) {
      const rows = await repository.list({ limit: PAGE, afterId, includeDeleted: false });
      for (const row of rows) {
        if (row.secrets_summary.serviceToken === undefined) continue;
        try {
          const token = (await directory.get(row.id))?.secrets().serviceToken;
          if (token !== undefined) tenants.set(digest(token), row.id);
        } catch (error) {
          // One bundle that cannot be opened (a missing KEK) must not lock every tenant out.
          logger.warn({ err: error, tenantId: row.id }, "a tenant's service token is unreadable");
        }
      }
      if (rows.length < PAGE) return tenants;
      afterId = rows[rows.length - 1]?.id;
    }
  }
}
