import { sql } from 'kysely';
import type { DB, Kysely } from '../../src/index';
import type { Seeded } from './seed';

/** What a case is handed: the database (a transaction rolled back afterwards) and two tenants. */
export interface CaseContext {
  db: Kysely<DB>;
  /** The caller's tenant. */
  as: Seeded;
  /** Whose ids the caller uses: the other tenant in the walk, its own in the control. */
  target: Seeded;
}

/**
 * How a method is walked.
 * - `read`: called as B with A's ids, its answer must be the same as with A's rows deleted (it
 *   does not depend on A at all), name nothing of A, and leave A's rows as they were.
 * - `write`: called as B with A's ids, it must leave A's rows as they were, name nothing of A,
 *   and leave no row of B pointing at a row of A.
 * - `lock`: an advisory lock; B's must never be the key A takes.
 * - `global`: a sweep across tenants by design (scheduler, relay, metrics, key rotation). It
 *   takes no tenant, and each row it answers names its tenant, which the caller then uses.
 * In `read`, `write` and `lock`, the control call (as A with A's own ids) must see or change A's
 * rows, so a case that addresses nothing cannot pass.
 */
export type IsolationCase =
  | { kind: 'read' | 'write' | 'lock'; call: (c: CaseContext) => Promise<unknown> }
  | { kind: 'global'; why: string; call: (db: Kysely<DB>) => Promise<unknown> };

export type Outcome = { value: unknown } | { error: string };

/** Every table that carries `tenant_id` (all but `tenants`). */
export async function tenantTables(db: Kysely<DB>): Promise<string[]> {
  const { rows } = await sql<{ table_name: string }>`
    select table_name from information_schema.columns
    where table_schema = current_schema() and column_name = 'tenant_id' and table_name <> 'tenants'
    order by table_name`.execute(db);
  return rows.map((r) => r.table_name);
}

/** Every row of the tenant, as text, in a stable order. */
export async function snapshot(
  db: Kysely<DB>,
  tables: readonly string[],
  tenantId: string,
): Promise<string[]> {
  const parts = tables.map(
    (t) =>
      sql`select ${t}::text as t, to_jsonb(x)::text as r from ${sql.table(t)} x where x.tenant_id = ${tenantId}`,
  );
  const { rows } = await sql<{ t: string; r: string }>`${sql.join(parts, sql` union all `)}
    order by 1, 2`.execute(db);
  return rows.map((row) => `${row.t} ${row.r}`);
}

/** Deletes every row of the tenant (conversations first: most rows hang off them). */
export async function removeTenantRows(
  db: Kysely<DB>,
  tables: readonly string[],
  tenantId: string,
): Promise<void> {
  // Bot channels last: their users name them.
  const ordered = tables.filter((t) => t !== 'bot_channels');
  for (const table of ['conversations', 'agents', ...ordered, 'bot_channels'])
    await sql`delete from ${sql.table(table)} where tenant_id = ${tenantId}`.execute(db);
}

/** [child, column, parent]: references whose two rows must be of one tenant. */
const REFERENCES = [
  ['messages', 'conversation_id', 'conversations'],
  ['notes', 'conversation_id', 'conversations'],
  ['system_message_marks', 'conversation_id', 'conversations'],
  ['telegram_posts', 'conversation_id', 'conversations'],
  ['telegram_conversations', 'conversation_id', 'conversations'],
  ['telegram_private_messages', 'conversation_id', 'conversations'],
  ['conversation_ratings', 'conversation_id', 'conversations'],
  ['attachments', 'conversation_id', 'conversations'],
  ['conversation_escalations', 'conversation_id', 'conversations'],
  ['sla_events', 'conversation_id', 'conversations'],
  ['telegram_conversations', 'telegram_user_id', 'telegram_users'],
  ['console_links', 'agent_id', 'agents'],
  ['console_sessions', 'agent_id', 'agents'],
  ['message_edits', 'message_id', 'messages'],
  ['telegram_private_messages', 'message_id', 'messages'],
  ['attachments', 'message_id', 'messages'],
  ['messages', 'agent_id', 'agents'],
  ['notes', 'agent_id', 'agents'],
  ['conversations', 'claimed_by_agent_id', 'agents'],
  ['telegram_users', 'bot_channel_id', 'bot_channels'],
] as const;

/** The references (as `child.column`) that join rows of two tenants; none is allowed. */
export async function crossTenantReferences(db: Kysely<DB>): Promise<string[]> {
  const parts = REFERENCES.map(
    ([child, column, parent]) =>
      sql`select ${`${child}.${column}`}::text as ref from ${sql.table(child)} x
        join ${sql.table(parent)} p on p.id = x.${sql.ref(column)} where p.tenant_id <> x.tenant_id`,
  );
  const { rows } = await sql<{ ref: string }>`${sql.join(parts, sql` union all `)}`.execute(db);
  return [...new Set(rows.map((r) => r.ref))];
}

/** An answer as plain JSON (Maps as entries, bigints as text), comparable across runs. */
export function plain(value: unknown): unknown {
  if (value === undefined) return null;
  return JSON.parse(
    JSON.stringify(value, (_key, v: unknown) =>
      v instanceof Map ? [...(v as Map<unknown, unknown>)] : typeof v === 'bigint' ? String(v) : v,
    ),
  ) as unknown;
}

const ROLLBACK = new Error('rolled back on purpose');

export interface Run {
  outcome: Outcome;
  /** The target tenant's rows before and after the call. */
  before: string[];
  after: string[];
  crossReferences: string[];
}

/**
 * Runs `call` in a transaction that is always rolled back, so every run starts from the seed;
 * `withoutTarget` deletes the target tenant's rows first. A call that fails is rolled back to a
 * savepoint (its outcome is the error's name and code), so the checks after it still run.
 */
export async function run(
  db: Kysely<DB>,
  tables: readonly string[],
  targetTenantId: string,
  call: (trx: Kysely<DB>) => Promise<unknown>,
  withoutTarget = false,
): Promise<Run> {
  let result: Run | undefined;
  await db
    .transaction()
    .execute(async (trx) => {
      if (withoutTarget) await removeTenantRows(trx, tables, targetTenantId);
      const before = await snapshot(trx, tables, targetTenantId);
      await sql`savepoint isolation_call`.execute(trx);
      let outcome: Outcome;
      try {
        outcome = { value: plain(await call(trx)) };
        await sql`release savepoint isolation_call`.execute(trx);
      } catch (error) {
        await sql`rollback to savepoint isolation_call`.execute(trx);
        const { name, code } = error as { name?: string; code?: string };
        outcome = { error: `${name ?? 'Error'} ${code ?? ''}`.trim() };
      }
      result = {
        outcome,
        before,
        after: await snapshot(trx, tables, targetTenantId),
        crossReferences: await crossTenantReferences(trx),
      };
      throw ROLLBACK;
    })
    .catch((error: unknown) => {
      if (error !== ROLLBACK) throw error;
    });
  if (!result) throw new Error('the run ended without a result');
  return result;
}

/** The advisory locks this session holds (their keys), for the `lock` cases. */
export async function advisoryLocks(db: Kysely<DB>): Promise<string[]> {
  const { rows } = await sql<{ key: string }>`
    select classid::text || ':' || objid::text as key from pg_locks
    where locktype = 'advisory' and pid = pg_backend_pid()`.execute(db);
  return rows.map((r) => r.key);
}

/** The names of a function's parameters, from its source (a global sweep must take no tenant). */
export function parameterNames(fn: (...args: never[]) => unknown): string[] {
  const source = fn.toString();
  const open = source.indexOf('(');
  let depth = 0;
  let close = open;
  for (let i = open; i < source.length; i++) {
    if (source[i] === '(') depth++;
    if (source[i] === ')' && --depth === 0) {
      close = i;
      break;
    }
  }
  return source
    .slice(open + 1, close)
    .split(',')
    .map((p) => p.trim().split(/[\s=:]/)[0] ?? '')
    .filter((p) => p.length > 0);
}
