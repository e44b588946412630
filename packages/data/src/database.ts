import { mkdirSync } from 'node:fs';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { DB } from './schema';
import { PGliteDialect } from './pglite-dialect';
import { PreparedClient } from './prepared-client';

export interface DatabaseOptions {
  /** A postgres:// URL; when absent, embedded PGlite under `dataDir` is used. */
  url?: string | undefined;
  /** Where PGlite keeps its files (one-process mode); `memory://` keeps nothing. */
  dataDir?: string | undefined;
  /** Pool size for real Postgres. */
  poolSize?: number | undefined;
  applicationName?: string | undefined;
  /** Told when an idle pooled connection fails (the pool replaces it; nothing is lost). */
  onIdleError?: ((error: Error) => void) | undefined;
  /**
   * How long opening one connection may take (default 5 s): with Postgres unreachable or hung, a
   * caller fails fast (the gateway answers `UNAVAILABLE`) instead of waiting forever. Waiting for
   * a busy pool is not limited by it: a burst queues, bounded by the queries ahead of it.
   */
  connectTimeoutMs?: number | undefined;
  /**
   * How long one query may go unanswered before it fails (default 30 s; 0 turns it off): a
   * Postgres that accepts connections but never answers. Raise it for long migrations.
   */
  queryTimeoutMs?: number | undefined;
  /**
   * How long a statement may wait for a lock (Postgres `lock_timeout`; default 5 s; 0 turns it
   * off). Nothing here waits long for a row: a wait this long means the holder hangs (a frozen
   * replica inside a transaction), and without a limit every caller queues behind it until the
   * pool is used up and the whole process stalls. Raise it for long concurrent migrations.
   */
  lockTimeoutMs?: number | undefined;
  /**
   * How long a pooled connection may sit idle before it is closed (default 0: never). pg-pool's
   * own default, 10 s, closed the connections a quiet spell or the pool's LIFO order left idle;
   * the next burst then opened them again (50–200 ms each with several at once, and every
   * statement prepared anew), and every message behind them waited: the p99 of issue 13's
   * pipeline benchmark (docs/benchmarks.md). The pool holds at most `poolSize`.
   */
  idleTimeoutMs?: number | undefined;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
const DEFAULT_QUERY_TIMEOUT_MS = 30_000;
const DEFAULT_LOCK_TIMEOUT_MS = 5_000;

export interface Database {
  readonly db: Kysely<DB>;
  readonly kind: 'postgres' | 'pglite';
  /** Round trip to the database, for /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

const INT8_OID = 20;

function parseInt8(value: string): number {
  return Number(value);
}

export async function createDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.url) {
    const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    // pg-pool would apply its connectionTimeoutMillis to waiting for a busy pool too, failing a
    // burst that merely queues; set on the client, it limits opening a connection only.
    class TimedClient extends PreparedClient {
      constructor(config?: string | pg.ClientConfig) {
        super(
          typeof config === 'string'
            ? { connectionString: config, connectionTimeoutMillis: connectTimeoutMs }
            : { ...config, connectionTimeoutMillis: connectTimeoutMs },
        );
      }
    }
    const pool = new pg.Pool({
      Client: TimedClient,
      connectionString: options.url,
      max: options.poolSize ?? 10,
      idleTimeoutMillis: options.idleTimeoutMs ?? 0,
      application_name: options.applicationName ?? 'topicdesk',
      ...((options.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS) > 0
        ? { query_timeout: options.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS }
        : {}),
      ...((options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS) > 0
        ? { lock_timeout: options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS }
        : {}),
      types: {
        getTypeParser: ((oid: number, format?: 'text' | 'binary'): unknown =>
          oid === INT8_OID && format !== 'binary'
            ? parseInt8
            : (pg.types.getTypeParser(oid, format) as unknown)) as typeof pg.types.getTypeParser,
      },
    });
    // An idle client losing its server must not crash the process; the next query reconnects.
    pool.on('error', (error) => options.onIdleError?.(error));
    // A checked-out client (in a transaction, between two statements) has no pool listener, so
    // its connection failing would be an unhandled 'error' event that ends the process. The
    // failure reaches the caller through its next query instead; the pool drops the client on
    // release, and idle clients are reported above.
    pool.on('connect', (client) => client.on('error', () => undefined));
    const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
    return {
      db,
      kind: 'postgres',
      ping: async () => {
        await sql`select 1`.execute(db);
      },
      close: () => db.destroy(),
    };
  }

  const { PGlite, types } = await import('@electric-sql/pglite');
  const dataDir = options.dataDir ?? 'memory://';
  if (!dataDir.startsWith('memory://')) mkdirSync(dataDir, { recursive: true });
  const pglite = new PGlite(dataDir, { parsers: { [types.INT8]: parseInt8 } });
  await pglite.waitReady;
  const db = new Kysely<DB>({ dialect: new PGliteDialect(pglite) });
  return {
    db,
    kind: 'pglite',
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: () => db.destroy(),
  };
}
