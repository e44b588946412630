// `pnpm tenants:rotate-kek`: rewraps every tenant's data key with TENANT_KEK (the old KEKs in
// TENANT_KEKS_PREVIOUS), so that the old ones can then be removed. Deployments without a source
// checkout use POST /v1/platform/kek/rewrap instead (docs/operations.md, "Many sites").
import { parseEnv, serviceEnv, tenantEnv } from '@topicdesk/config';
import { createInfrastructure, rewrapTenantKeys, TenantKeyring } from '@topicdesk/core';
import { createLogger } from '@topicdesk/telemetry';
import { z } from 'zod';

const env = parseEnv(
  z.object({
    DATABASE_URL: serviceEnv.DATABASE_URL,
    DATA_DIR: serviceEnv.DATA_DIR,
    TENANT_KEK: tenantEnv.TENANT_KEK,
    TENANT_KEKS_PREVIOUS: tenantEnv.TENANT_KEKS_PREVIOUS,
  }),
  process.env,
);
const keyring = TenantKeyring.fromEnv(env.TENANT_KEK, env.TENANT_KEKS_PREVIOUS);
if (!keyring.current) {
  console.error('TENANT_KEK is not set: it is the key every data key is rewrapped with');
  process.exit(1);
}
const logger = createLogger({ service: 'rotate-kek', level: 'warn' });
const infra = await createInfrastructure({
  service: 'rotate-kek',
  ...(env.DATABASE_URL ? { databaseUrl: env.DATABASE_URL } : {}),
  dataDir: `${env.DATA_DIR}/pg`,
  namespace: 'rotate-kek',
  logger,
  migrate: false,
});
try {
  const { rewrapped, failed } = await rewrapTenantKeys(infra.database.db, keyring, {
    actor: { type: 'system', id: 'tenants:rotate-kek' },
  });
  console.log(`rewrapped with ${keyring.current.id}: ${rewrapped.length} tenant(s)`);
  for (const { tenantId, error } of failed)
    console.error(`${tenantId}: ${error instanceof Error ? error.message : String(error)}`);
  if (failed.length > 0) process.exitCode = 1;
} finally {
  await infra.close();
}
