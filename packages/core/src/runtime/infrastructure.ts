import { OutboxRelay } from '../outbox-relay';
import { createInProcessBus, createNatsBus, type Bus } from '@topicdesk/bus';
import {
  createDatabase,
  migrateToLatest,
  OutboxRepository,
  pendingMigrations,
  type Database,
} from '@topicdesk/data';
import {
  createInProcessCoordination,
  createRedisCoordination,
  type Coordination,
  type Fanout,
  type FanoutEvent,
} from '@topicdesk/fanout';
import {
  context,
  extractContext,
  injectContext,
  meter,
  SpanKind,
  spansRecorded,
  trace,
  tracer,
  withSpan,
  type Logger,
} from '@topicdesk/telemetry';

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
  /** Redis commands of one event-loop turn in one socket write (the bridge's choice). */
  coalesceRedisWrites?: boolean | undefined;
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
    onIdleError: (error) =>
      logger.warn({ err: error }, 'an idle Postgres connection failed; the pool replaces it'),
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
    const coordination = tracedCoordination(
      options.redisUrl
        ? await createRedisCoordination({
            url: options.redisUrl,
            namespace: options.namespace,
            logger,
            coalesceWrites: options.coalesceRedisWrites ?? false,
          })
        : createInProcessCoordination(),
      options.redisUrl ? 'redis' : 'topicdesk_in_process',
    );
    closers.unshift(() => coordination.close());
    closers.push(observeOutboxLag(database, logger));

    let schemaChecked = false;
    // One ping at a time: while Postgres hangs, probes wait on the same ping instead of each
    // taking another pooled connection.
    let ping: Promise<void> | undefined;
    const pingOnce = () =>
      (ping ??= database.ping().finally(() => {
        ping = undefined;
      }));
    return {
      database,
      bus,
      coordination,
      async readiness() {
        const checks: Record<string, { ok: boolean; detail?: string }> = {};
        try {
          await withTimeout(pingOnce(), DATABASE_PING_TIMEOUT_MS, 'database ping');
          if (!schemaChecked) {
            const pending = await withTimeout(
              pendingMigrations(database.db),
              DATABASE_PING_TIMEOUT_MS,
              'schema check',
            );
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
    for (const close of closers)
      await close().catch((e: unknown) =>
        logger.warn({ err: e }, 'error while closing after a failed start'),
      );
    throw error;
  }
}

/** /readyz must answer quickly even when Postgres accepts connections but never replies. */
const DATABASE_PING_TIMEOUT_MS = 1_500;

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** `topicdesk_outbox_lag_seconds`: age of the oldest unpublished outbox row (0 when empty). */
function observeOutboxLag(database: Database, logger: Logger): () => Promise<void> {
  const gauge = meter().createObservableGauge('topicdesk_outbox_lag_seconds', {
    description: 'Age of the oldest outbox row not yet published (0 when none is pending)',
    unit: 's',
  });
  const outbox = new OutboxRepository(database.db);
  const callback = async (result: { observe(value: number): void }) => {
    const stats = await withTimeout(outbox.stats(), DATABASE_PING_TIMEOUT_MS, 'outbox stats').catch(
      (error: unknown) =>
        void logger.debug({ err: error }, 'outbox stats unavailable for the lag gauge'),
    );
    if (stats) result.observe(stats.oldestAgeMs / 1000);
  };
  gauge.addCallback(callback);
  return async () => gauge.removeCallback(callback);
}

/** The in-payload key that carries W3C trace context across the fanout (stripped on receipt). */
const TRACE_KEY = '_trace';

/**
 * The coordination with a traced fanout: a publish runs in a PRODUCER span and carries its trace
 * context inside the event; each delivery to a listener runs in a CONSUMER span continuing it.
 * So one trace runs from an agent's webhook through the bridge, NATS and Redis to the gateway's
 * WebSocket frame.
 */
function tracedCoordination(coordination: Coordination, system: string): Coordination {
  return {
    fanout: tracedFanout(coordination.fanout, system),
    budgets: coordination.budgets,
    quotas: coordination.quotas,
    leases: coordination.leases,
    locks: coordination.locks,
    dedupe: coordination.dedupe,
    health: () => coordination.health(),
    close: () => coordination.close(),
  };
}

function tracedFanout(fanout: Fanout, system: string): Fanout {
  const attributes = (conversationId: string, operation: 'publish' | 'process') => ({
    'messaging.system': system,
    'messaging.destination.name': 'conversation',
    'messaging.operation.type': operation,
    'topicdesk.conversation_id': conversationId,
  });
  return {
    publish: (conversationId, event) =>
      withSpan(
        'publish conversation',
        { kind: SpanKind.PRODUCER, attributes: attributes(conversationId, 'publish') },
        async () => {
          const carrier = injectContext();
          const traced: FanoutEvent =
            Object.keys(carrier).length > 0 ? { ...event, [TRACE_KEY]: carrier } : event;
          await fanout.publish(conversationId, traced);
        },
      ),
    subscribe: (conversationId, listener) =>
      fanout.subscribe(conversationId, (event) => {
        const { [TRACE_KEY]: carrier, ...rest } = event;
        const record =
          typeof carrier === 'object' && carrier !== null
            ? (carrier as Record<string, unknown>)
            : undefined;
        if (!spansRecorded()) {
          // A span here would record nothing: carry the publisher's trace (for log lines), or
          // nothing at all. This runs once per frame a gateway writes.
          if (record === undefined) return listener(rest);
          return context.with(extractContext(record), () => listener(rest));
        }
        const parent = extractContext(record);
        const span = tracer().startSpan(
          'process conversation',
          { kind: SpanKind.CONSUMER, attributes: attributes(conversationId, 'process') },
          parent,
        );
        try {
          // The listener's later work (a queued WebSocket write) keeps this context.
          context.with(trace.setSpan(parent, span), () => listener(rest));
        } finally {
          span.end();
        }
      }),
    onRecovered: (listener) => fanout.onRecovered(listener),
    health: () => fanout.health(),
    close: () => fanout.close(),
  };
}

/** What every service's process needs: the backing services and a running outbox relay. */
export interface ServiceRuntime {
  readonly infra: Infrastructure;
  readonly relay: OutboxRelay;
  /** Stops the relay (unpublished rows stay for another replica), then closes the infrastructure. */
  close(): Promise<void>;
}

export interface ServiceRuntimeOptions {
  service: string;
  /** The shared variables of every service (see `serviceEnv` in @topicdesk/config). */
  config: {
    DATABASE_URL?: string | undefined;
    DATA_DIR: string;
    NATS_URL?: string | undefined;
    REDIS_URL?: string | undefined;
    NAMESPACE: string;
  };
  logger: Logger;
  /** Migrate at start; by default only the embedded database is (distributed runs `pnpm migrate`). */
  migrate?: boolean;
  poolSize?: number;
  /** Redis commands of one event-loop turn in one socket write (see `InfrastructureOptions`). */
  coalesceRedisWrites?: boolean;
}

export async function startServiceRuntime(options: ServiceRuntimeOptions): Promise<ServiceRuntime> {
  const { config, logger } = options;
  const infra = await createInfrastructure({
    service: options.service,
    databaseUrl: config.DATABASE_URL,
    dataDir: `${config.DATA_DIR}/pg`,
    natsUrl: config.NATS_URL,
    redisUrl: config.REDIS_URL,
    namespace: config.NAMESPACE,
    logger,
    migrate: options.migrate ?? !config.DATABASE_URL,
    poolSize: options.poolSize,
    coalesceRedisWrites: options.coalesceRedisWrites,
  });
  const relay = new OutboxRelay({
    db: infra.database.db,
    bus: infra.bus,
    fanout: infra.coordination.fanout,
    logger,
  });
  relay.start();
  return {
    infra,
    relay,
    async close() {
      await relay.stop();
      await infra.close();
    },
  };
}
