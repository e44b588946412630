import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { backends, useDatabase } from './backends';

// Issue 13's tail: pg-pool closed connections idle for 10 s, and the next burst waited for new
// ones (connect, authentication, every statement prepared again). The pool keeps them.
const postgres = backends.find((b) => b.name === 'postgres')!;
const CONNECTIONS = 3;

/** The backend pids of CONNECTIONS queries run at once (each on its own connection). */
async function backendPids(db: ReturnType<typeof useDatabase>['db']): Promise<number[]> {
  const pids = await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      const { rows } = await sql<{
        pid: number;
      }>`select pg_backend_pid() as pid, pg_sleep(0.05)`.execute(db);
      return rows[0]!.pid;
    }),
  );
  return pids.sort((a, b) => a - b);
}

describe('the Postgres pool after a quiet spell', () => {
  const database = useDatabase(postgres, { poolSize: CONNECTIONS });

  it('keeps its idle connections past pg-pool’s 10 s default', { timeout: 30_000 }, async () => {
    const before = await backendPids(database.db);
    expect(new Set(before).size).toBe(CONNECTIONS);
    await new Promise((resolve) => setTimeout(resolve, 11_000));
    expect(await backendPids(database.db)).toEqual(before);
  });
});
