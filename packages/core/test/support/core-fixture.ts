import { createLogger, type Logger } from '@topicdesk/telemetry';
import { createTestDatabase } from '@topicdesk/testkit';
import { createInfrastructure, type Infrastructure } from '../../src/index';

export interface CoreFixture {
  infra: Infrastructure;
  logger: Logger;
  /** Closes the infrastructure and drops the database. */
  close(): Promise<void>;
}

/**
 * A migrated database of its own (real Postgres) with the bus and coordination of one-process
 * mode: what core's use cases need, without NATS or Redis.
 */
export async function coreFixture(): Promise<CoreFixture> {
  const testDb = await createTestDatabase('core');
  const logger = createLogger({ service: 'core-test', level: 'warn' });
  const infra = await createInfrastructure({
    service: 'core-test',
    databaseUrl: testDb.url,
    namespace: 'core-test',
    logger,
    migrate: true,
  });
  return {
    infra,
    logger,
    close: async () => {
      await infra.close();
      await testDb.drop();
    },
  };
}
