import { createInProcessBus, createNatsBus, type Bus } from '@topicdesk/bus';
import { createDatabase, migrateToLatest, pendingMigrations, type Database } from '@topicdesk/data';
import {
  createInProcessCoordination,
  createRedisCoordination,
  type Coordination,
} from '@topicdesk/fanout';
import type { Logger } from '@topicdesk/telemetry';

export interface InfrastructureOptions {
  /** Names the process in NATS and Postgres connection lists. */
  service: string;
  databaseUrl?: string | undefined;
  /** Embedded database directory when no databaseUrl is given. */
  dataDir?: string | undefined;
  natsUrl?: string | undefined;
  redisUrl?: string | undefined;
  namespace: string;
  logger: Logger;
  /** Apply pending migrations at start (one-process mode; distributed runs `pnpm migrate`). */
  migrate?: boolean | undefined;
  poolSize?: number | undefined;
}

/** The three backing services, real or in-process, behind the same interfaces. */
export interface Infrastructure {
  readonly database: Database;
  readonly bus: Bus;
  readonly coordination: Coordination;
  /** Per-dependency readiness for /readyz. */
  readiness(): Promise<{ ok: boolean; checks: Record<string, { ok: boolean; detail?: string }> }>;
  close(): Promise<void>;
}

export async function createInfrastructure(
  options: InfrastructureOptions,
): Promise<Infrastructure> {
  const { logger } = options;
  if (!options.databaseUrl)
    logger.info({ dataDir: options.dataDir ?? 'memory://' }, 'DATABASE_URL unset: embedded PGlite');
  if (!options.natsUrl) logger.info('NATS_URL unset: in-process bus');
  if (!options.redisUrl) logger.info('REDIS_URL unset: in-process fanout and limits');

  const database = await createDatabase({
    url: options.databaseUrl,
    dataDir: options.dataDir,
    poolSize: options.poolSize,
    applicationName: options.service,
  });
  const closers: Array<() => Promise<void>> = [() => database.close()];
  try {
    if (options.migrate) {
      const applied = await migrateToLatest(database.db);
      if (applied.length > 0) logger.info({ applied }, 'migrations applied');
    }
    const bus = options.natsUrl
      ? await createNatsBus({
          servers: options.natsUrl,
          namespace: options.namespace,
          name: options.service,
          logger,
        })
      : createInProcessBus({ logger });
    closers.unshift(() => bus.close());
    const coordination = options.redisUrl
      ? await createRedisCoordination({
          url: options.redisUrl,
          namespace: options.namespace,
          logger,
        })
      : createInProcessCoordination();
    closers.unshift(() => coordination.close());

    let schemaChecked = false;
    return {
      database,
      bus,
      coordination,
      async readiness() {
        const checks: Record<string, { ok: boolean; detail?: string }> = {};
        try {
          await database.ping();
          if (!schemaChecked) {
            const pending = await pendingMigrations(database.db);
            schemaChecked = pending.length === 0;
            checks['schema'] = schemaChecked
              ? { ok: true }
              : { ok: false, detail: `pending migrations: ${pending.join(', ')}` };
          } else {
            checks['schema'] = { ok: true };
          }
          checks['database'] = { ok: true };
        } catch (error) {
          checks['database'] = {
            ok: false,
            detail: error instanceof Error ? error.message : String(error),
          };
        }
        checks['bus'] = bus.health();
        checks['redis'] = coordination.health();
        return { ok: Object.values(checks).every((c) => c.ok), checks };
      },
      async close() {
        for (const close of closers) {
          await close().catch((error: unknown) =>
            logger.warn({ err: error }, 'error while closing'),
          );
        }
      },
    };
  } catch (error) {
    for (const close of closers) await close().catch(() => undefined);
    throw error;
  }
}
