import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { createDatabase, migrateToLatest } from '@topicdesk/data';
import {
  cleanupNats,
  cleanupRedis,
  createTestDatabase,
  freePort,
  ServiceProcess,
  testInfra,
  uniqueName,
} from '@topicdesk/testkit';

/** One gateway process against the shared Postgres, NATS and Redis, in a database of its own. */
export interface GatewayUnderTest {
  readonly process: ServiceProcess;
  readonly url: string;
  readonly jwtSecret: string;
  readonly serviceToken: string;
  /** Open file descriptors of the gateway process right now (Linux /proc). */
  openFiles(): number;
  /** SIGTERM; resolves with the exit code and how long the process took to exit. */
  terminate(): Promise<{ code: number | null; ms: number }>;
  cleanup(): Promise<void>;
}

export async function startGateway(env: Record<string, string> = {}): Promise<GatewayUnderTest> {
  const database = await createTestDatabase('harden');
  const migrator = await createDatabase({ url: database.url });
  await migrateToLatest(migrator.db);
  await migrator.close();
  const namespace = uniqueName('harden');
  const port = await freePort();
  const jwtSecret = randomBytes(32).toString('hex');
  const serviceToken = `svc_${randomBytes(16).toString('hex')}`;
  const gateway = new ServiceProcess({
    name: `${namespace}-gateway`,
    script: 'services/gateway/src/main.ts',
    url: `http://127.0.0.1:${port}`,
    env: {
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: database.url,
      NATS_URL: testInfra.natsUrl,
      REDIS_URL: testInfra.redisUrl,
      NAMESPACE: namespace,
      CONVERSATION_JWT_SECRET: jwtSecret,
      SERVICE_TOKEN: serviceToken,
      // Every answer is checked against its /openapi.json schema (500 RESPONSE_SCHEMA_MISMATCH).
      CHECK_RESPONSE_SCHEMAS: 'true',
      ...env,
    },
  });
  try {
    await gateway.start(60_000);
  } catch (error) {
    await database.drop();
    throw error;
  }
  return {
    process: gateway,
    url: gateway.url,
    jwtSecret,
    serviceToken,
    openFiles: () => readdirSync(`/proc/${gateway.pid ?? 0}/fd`).length,
    terminate: async () => {
      const started = Date.now();
      const code = await gateway.stop(30_000);
      return { code, ms: Date.now() - started };
    },
    cleanup: async () => {
      await gateway.stop();
      await Promise.allSettled([cleanupNats(namespace), cleanupRedis(namespace)]);
      await database.drop();
    },
  };
}
