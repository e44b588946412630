import type { Socket } from 'node:net';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@topicdesk/testkit';
import {
  ConversationRepository,
  DEFAULT_TENANT_ID,
  OutboxDestination,
  OutboxRepository,
} from '../src/index';
import { PreparedClient } from '../src/prepared-client';
import { backends, useDatabase } from './backends';

const postgres = backends.find((b) => b.name === 'postgres')!;

// Issue 13, CPU per message: a transaction's BEGIN is not a round trip of its own.
describe('a transaction on a PreparedClient', () => {
  let testDb: TestDatabase;
  let client: PreparedClient;
  /** The socket writes since the last reset, each as the protocol messages' type bytes. */
  const writes: string[] = [];
  const query = (text: string, values: unknown[] = []) =>
    client.query(text, values) as unknown as Promise<{ rows: Array<Record<string, unknown>> }>;

  beforeAll(async () => {
    testDb = await createTestDatabase('data');
    client = new PreparedClient({ connectionString: testDb.url });
    await client.connect();
    const socket = (client as unknown as { connection: { stream: Socket } }).connection.stream;
    const kinds = (buffers: Buffer[]) =>
      buffers.map((b) => String.fromCharCode(b[0] ?? 0)).join('');
    const write = socket._write.bind(socket);
    const writev = socket._writev!.bind(socket);
    socket._write = (chunk: Buffer, encoding, callback) => {
      writes.push(kinds([chunk]));
      write(chunk, encoding, callback);
    };
    socket._writev = (chunks, callback) => {
      writes.push(kinds(chunks.map((c) => c.chunk as Buffer)));
      writev(chunks, callback);
    };
    await query('create table probe (n int)');
  });

  afterAll(async () => {
    await client.end();
    await testDb.drop();
  });

  it('sends BEGIN in one write with the first statement and answers it at once', async () => {
    writes.length = 0;
    await query('begin');
    expect(writes).toEqual([]);
    const { rows } = await query('select $1::int as n, now() as at', [7]);
    expect(rows[0]!['n']).toBe(7);
    // Q (BEGIN), then the statement's Bind, Describe, Execute, Sync (Parse the first time).
    expect(writes[0]).toMatch(/^QP?BDES$/);
    const later = await query('select now() as at', []);
    // Inside one transaction: now() is the transaction's start.
    expect(later.rows[0]!['at']).toEqual(rows[0]!['at']);
    await query('commit');
  });

  it('keeps a transaction whole: its rollback takes back what it wrote', async () => {
    await query('begin');
    await query('insert into probe (n) values ($1)', [1]);
    await query('rollback');
    await query('begin');
    await query('insert into probe (n) values ($1)', [2]);
    await expect(query('insert into probe (n) values ($1)', ['not a number'])).rejects.toThrow();
    await query('rollback');
    expect((await query('select count(*)::int as c from probe')).rows[0]!['c']).toBe(0);
  });

  it('sends a BEGIN as before on a connection that is not idle', async () => {
    // There a BEGIN only warns (a transaction is open): it is answered, not taken on trust.
    await query('begin');
    await query('select 1', []);
    writes.length = 0;
    await query('begin');
    expect(writes).toEqual(['Q']);
    await query('rollback');
  });
});

// Issue 13: each stored message updates its conversation's row; those updates must be HOT
// (no new entry in every index of the table).
describe('the conversation row a message updates', () => {
  const database = useDatabase(postgres, { poolSize: 1 });

  it('is updated in place (HOT), as appendMessage updates it', async () => {
    const { id } = await new ConversationRepository(database.db).create({
      tenantId: DEFAULT_TENANT_ID,
      channel: 'web',
    });
    const hot = await database.db.transaction().execute(async (trx) => {
      for (let i = 0; i < 20; i++)
        await sql`update conversations set last_seq = last_seq + 1, last_activity_at = now(),
          updated_at = now() where id = ${id}`.execute(trx);
      const { rows } = await sql<{ updates: number; hot: number }>`
        select n_tup_upd::int as updates, n_tup_hot_upd::int as hot
        from pg_stat_xact_user_tables where relname = 'conversations'`.execute(trx);
      return rows[0]!;
    });
    expect(hot.updates).toBe(20);
    expect(hot.hot).toBe(20);
  });
});

// Issue 13: the outbox flusher's delete waited 1–5 s behind another process's sweep, which
// holds the rows it claimed while it publishes them.
describe("the outbox flusher's delete", () => {
  const database = useDatabase(postgres, { poolSize: 2 });

  it('deletes the rows no sweep holds, at once, and leaves the held ones to their sweep', async () => {
    const outbox = new OutboxRepository(database.db);
    const rows = await outbox.add(
      [1, 2, 3].map((n) => ({
        tenantId: DEFAULT_TENANT_ID,
        destination: OutboxDestination.bus,
        topic: 'conversationSync',
        payload: { n },
      })),
    );
    const [held, ...free] = rows.map((r) => r.id) as [number, ...number[]];
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let claimed!: () => void;
    const isClaimed = new Promise<void>((resolve) => (claimed = resolve));
    // A sweep: the row claimed (locked) in a transaction that stays open while it publishes.
    const sweep = database.db.transaction().execute(async (trx) => {
      await trx.selectFrom('outbox').select('id').where('id', '=', held).forUpdate().execute();
      claimed();
      await released;
    });
    await isClaimed;
    const started = performance.now();
    await outbox.deleteUnclaimed(rows.map((r) => r.id));
    expect(performance.now() - started).toBeLessThan(1000);
    release();
    await sweep;
    const left = await database.db.selectFrom('outbox').select('id').execute();
    expect(left.map((r) => r.id)).toEqual([held]);
    expect(free).toHaveLength(2);
  });
});
