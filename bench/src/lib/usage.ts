import pg from 'pg';
import { cpuSeconds, round, writeCalls } from './machine';

/** CPU and Postgres commits used so far by the processes of one pipeline run. */
export interface UsageSnapshot {
  /** CPU seconds by process name (services and the benchmark process). */
  readonly cpu: Record<string, number>;
  /** Write system calls by process name (see `writeCalls`). */
  readonly writes: Record<string, number>;
  /** CPU seconds by pid of every Postgres backend serving the run's database. */
  readonly backends: Map<number, number>;
  /** pg_stat_database.xact_commit of the run's database. */
  readonly commits: number;
}

/** What a stretch of the run cost, per message. */
export interface Usage {
  /** Gateway + bridge + Postgres backends: the "CPU per message". */
  cpuMsPerMessage: number;
  cpuMsPerMessageByProcess: Record<string, number>;
  cpuShare: Record<string, string>;
  /** Write system calls per message by process (about one per message it sends; load-proof). */
  writesPerMessage: Record<string, number>;
  postgresCommitsPerMessage: number;
  /**
   * The same two less what the idle pipeline uses in as long (its sweepers, gauges and pool
   * checks, measured before the load by `measureIdle`): what the messages themselves cost,
   * which matters when few messages get through (a loaded machine).
   */
  cpuMsPerMessageNetOfIdle?: number;
  postgresCommitsPerMessageNetOfIdle?: number;
}

interface IdleRates {
  cpuPerSecond: number;
  commitsPerSecond: number;
}

/** Not part of the pipeline's cost: the visitors and the Telegram sandbox. */
export const BENCH_PROCESS = 'bench process (visitors, sandbox)';
export const POSTGRES = 'postgres backends';

/**
 * Reads the CPU of the pipeline's processes (/proc/<pid>/stat) and of the Postgres backends
 * serving its database (pids from pg_stat_activity), and the database's committed
 * transactions, over one admin connection to the `postgres` database (whose own queries are
 * counted there, not in the run's database).
 */
export class UsageMeter {
  readonly #client: pg.Client;
  #idle: IdleRates | undefined;

  private constructor(
    private readonly pids: Record<string, number>,
    private readonly databaseName: string,
    client: pg.Client,
  ) {
    this.#client = client;
  }

  static async open(
    pids: Record<string, number>,
    databaseName: string,
    adminUrl: string,
  ): Promise<UsageMeter> {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    return new UsageMeter(pids, databaseName, client);
  }

  async snapshot(): Promise<UsageSnapshot> {
    const cpu: Record<string, number> = {};
    const writes: Record<string, number> = {};
    for (const [name, pid] of Object.entries(this.pids)) {
      cpu[name] = cpuSeconds(pid);
      writes[name] = writeCalls(pid);
    }
    const { rows } = await this.#client.query<{ pid: number }>(
      'select pid from pg_stat_activity where datname = $1',
      [this.databaseName],
    );
    const backends = new Map<number, number>();
    for (const { pid } of rows) {
      try {
        backends.set(pid, cpuSeconds(pid));
      } catch {
        // The backend exited between the query and the reading: it has nothing more to count.
      }
    }
    // Counters are read fresh: each query is a transaction of its own on this connection.
    const commits = await databaseCommits(this.#client, this.databaseName);
    return { cpu, writes, backends, commits };
  }

  /** What the pipeline uses with no messages, over `seconds` from now. */
  async measureIdle(seconds: number): Promise<IdleRates> {
    const before = await this.snapshot();
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    const usage = await this.since(before, 1, seconds);
    this.#idle = {
      cpuPerSecond: usage.cpuMsPerMessage / 1000 / seconds,
      commitsPerSecond: usage.postgresCommitsPerMessage / seconds,
    };
    return this.#idle;
  }

  /** The cost between `before` and now of `messages` messages over `seconds`. */
  async since(before: UsageSnapshot, messages: number, seconds: number): Promise<Usage> {
    const after = await this.snapshot();
    const idle = this.#idle;
    const used: Record<string, number> = {};
    for (const name of Object.keys(this.pids)) used[name] = after.cpu[name]! - before.cpu[name]!;
    // Pooled connections come and go: every backend there now, less what it had used before.
    let postgres = 0;
    for (const [pid, cpu] of after.backends) postgres += cpu - (before.backends.get(pid) ?? 0);
    used[POSTGRES] = postgres;
    const perMessage = (s: number) => round((s * 1000) / Math.max(1, messages), 2);
    const pipeline = Object.entries(used)
      .filter(([name]) => name !== BENCH_PROCESS)
      .reduce((sum, [, s]) => sum + s, 0);
    return {
      cpuMsPerMessage: perMessage(pipeline),
      cpuMsPerMessageByProcess: Object.fromEntries(
        Object.entries(used).map(([name, s]) => [name, perMessage(s)]),
      ),
      cpuShare: Object.fromEntries(
        Object.entries(used).map(([name, s]) => [name, `${round((s / seconds) * 100)}% of a core`]),
      ),
      writesPerMessage: Object.fromEntries(
        Object.keys(this.pids).map((name) => [
          name,
          round((after.writes[name]! - before.writes[name]!) / Math.max(1, messages), 2),
        ]),
      ),
      postgresCommitsPerMessage: round((after.commits - before.commits) / Math.max(1, messages), 2),
      ...(idle
        ? {
            cpuMsPerMessageNetOfIdle: perMessage(pipeline - idle.cpuPerSecond * seconds),
            postgresCommitsPerMessageNetOfIdle: round(
              (after.commits - before.commits - idle.commitsPerSecond * seconds) /
                Math.max(1, messages),
              2,
            ),
          }
        : {}),
    };
  }

  async close(): Promise<void> {
    await this.#client.end();
  }
}

/** pg_stat_database.xact_commit of `database` (Postgres reports a backend's commits lazily). */
export async function databaseCommits(client: pg.Client, database: string): Promise<number> {
  const { rows } = await client.query<{ commits: string }>(
    'select xact_commit as commits from pg_stat_database where datname = $1',
    [database],
  );
  return Number(rows[0]?.commits ?? 0);
}
