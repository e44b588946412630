import { sql, type Kysely } from 'kysely';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations see the database as it was then */

/**
 * Tenants managed by the platform API (issue 16): a status (deleted is soft: the row and its
 * data stay, nothing is served), a plan and its limits, the origins its widget may be used on,
 * a public site key (the widget snippet's) and a webhook path secret, both unique, and the
 * secrets bundle encrypted at rest: the bundle under the tenant's data key (AES-256-GCM), the
 * data key wrapped by a key-encryption key from the environment, named by `kek_id`.
 * `secrets_summary` says which secrets are set, with keyed fingerprints, so a listing decrypts
 * nothing. The default tenant of an existing install gets its keys here and no secrets: its
 * configuration stays in the environment.
 */
export async function up(db: Kysely<any>): Promise<void> {
  const randomKey = (prefix: string) =>
    sql`${prefix} || replace(gen_random_uuid()::text, '-', '') || replace(gen_random_uuid()::text, '-', '')`;
  await db.schema
    .alterTable('tenants')
    .addColumn('status', 'text', (c) =>
      c
        .notNull()
        .defaultTo('active')
        .check(sql`status in ('active', 'suspended', 'deleted')`),
    )
    .addColumn('plan', 'text', (c) => c.notNull().defaultTo('default'))
    .addColumn('limits', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('allowed_origins', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('site_key', 'text')
    .addColumn('webhook_secret', 'text')
    .addColumn('secrets', 'text')
    .addColumn('data_key', 'text')
    .addColumn('kek_id', 'text')
    .addColumn('secrets_summary', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('suspended_at', 'timestamptz')
    .addColumn('deleted_at', 'timestamptz')
    .execute();
  await db
    .updateTable('tenants')
    .set({ site_key: randomKey('pk_'), webhook_secret: randomKey('wh_') })
    .execute();
  await db.schema
    .alterTable('tenants')
    .alterColumn('site_key', (c) => c.setNotNull())
    .execute();
  await db.schema
    .alterTable('tenants')
    .alterColumn('webhook_secret', (c) => c.setNotNull())
    .execute();
  await db.schema
    .alterTable('tenants')
    .addUniqueConstraint('tenants_site_key_unique', ['site_key'])
    .execute();
  await db.schema
    .alterTable('tenants')
    .addUniqueConstraint('tenants_webhook_secret_unique', ['webhook_secret'])
    .execute();
  // The bundle and its key come together or not at all.
  await db.schema
    .alterTable('tenants')
    .addCheckConstraint(
      'tenants_secrets_whole',
      sql`(secrets is null) = (data_key is null) and (data_key is null) = (kek_id is null)`,
    )
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const constraint of [
    'tenants_secrets_whole',
    'tenants_webhook_secret_unique',
    'tenants_site_key_unique',
  ])
    await db.schema.alterTable('tenants').dropConstraint(constraint).execute();
  for (const column of [
    'status',
    'plan',
    'limits',
    'allowed_origins',
    'site_key',
    'webhook_secret',
    'secrets',
    'data_key',
    'kek_id',
    'secrets_summary',
    'updated_at',
    'suspended_at',
    'deleted_at',
  ])
    await db.schema.alterTable('tenants').dropColumn(column).execute();
}
