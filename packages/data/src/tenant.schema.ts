import type { ColumnType, Generated, Selectable } from 'kysely';

/** Tenants (migrations 0001 and 0023): what the platform API manages. */

type NullableTimestamp = ColumnType<
  Date | null,
  Date | string | null | undefined,
  Date | string | null
>;

export const TenantStatus = {
  active: 'active',
  suspended: 'suspended',
  /** Soft: the row and its data stay; nothing of the tenant is served. */
  deleted: 'deleted',
} as const;
export type TenantStatus = (typeof TenantStatus)[keyof typeof TenantStatus];

/** A tenant's limits (migration 0023); an absent limit is the deployment's default (env). */
export interface TenantLimits {
  conversationsPerDay?: number;
  messagesPerHour?: number;
  concurrentSockets?: number;
  retentionDays?: number;
  attachmentMaxBytes?: number;
  attachmentsPerHour?: number;
}

/** Which secrets of the bundle are set, each with its keyed fingerprint (never the value). */
export type TenantSecretsSummary = Record<string, { fingerprint: string; count?: number }>;

export interface TenantTable {
  id: string;
  name: string;
  status: Generated<TenantStatus>;
  plan: Generated<string>;
  limits: ColumnType<TenantLimits, string | undefined, string>;
  allowed_origins: ColumnType<string[], string | undefined, string>;
  /** Public: the widget snippet names its tenant with it. */
  site_key: string;
  /** Secret: the tenant's webhook path (`/v1/telegram/webhook/:tenantSecret`). */
  webhook_secret: string;
  /** The secrets bundle under the data key (`v1.` + base64url nonce|tag|ciphertext). */
  secrets: string | null;
  /** The data key wrapped by the key-encryption key `kek_id`. */
  data_key: string | null;
  kek_id: string | null;
  secrets_summary: ColumnType<TenantSecretsSummary, string | undefined, string>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  suspended_at: NullableTimestamp;
  deleted_at: NullableTimestamp;
}

export type Tenant = Selectable<TenantTable>;
