import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  appendMessage,
  appendVisitorMessage,
  ConversationClosedError,
  ConversationNotFoundError,
  ConversationRepository,
  DEFAULT_TENANT_ID,
  DeliveryState,
  MessageKind,
  OutboxDestination,
  type VisitorAppendInput,
} from '../src/index';
import { backends, useDatabase } from './backends';

const tenantId = DEFAULT_TENANT_ID;

// Migration 0021: a visitor's text in one statement, with the same outcomes as the row lock,
// `appendMessage` and the outbox rows in a transaction.
for (const backend of backends) {
  describe(`a visitor text in one statement (${backend.name})`, () => {
    const database = useDatabase(backend, { poolSize: 10 });
    let conversations: ConversationRepository;
    beforeAll(() => {
      conversations = new ConversationRepository(database.db);
    });

    /** A conversation with its first visitor message (stored the way the welcome's path does). */
    async function started() {
      const { id } = await conversations.create({ tenantId, channel: 'web' });
      await appendMessage(database.db, {
        tenantId,
        conversationId: id,
        kind: MessageKind.visitor,
        text: 'hello',
        clientId: 'first',
        delivery: DeliveryState.pending,
      });
      return id;
    }

    const text = (conversationId: string, clientId: string): VisitorAppendInput => ({
      tenantId,
      conversationId,
      clientId,
      text: `text ${clientId}`,
      at: new Date('2026-12-06T16:00:00.123Z'),
      announce: [
        {
          tenantId,
          destination: OutboxDestination.bus,
          topic: 'conversationSync',
          payload: { tenantId, conversationId, reason: 2 },
        },
        {
          tenantId,
          destination: OutboxDestination.fanout,
          topic: conversationId,
          payload: { type: 'message', seq: 0, kind: 'visitor', text: `text ${clientId}` },
        },
      ],
    });
    const outboxOf = (conversationId: string) =>
      database.db
        .selectFrom('outbox')
        .select(['id', 'topic', 'payload'])
        .where('topic', 'in', [conversationId, 'conversationSync'])
        .where((eb) =>
          eb.or([
            eb('topic', '=', conversationId),
            eb(eb.ref('payload', '->>').key('conversationId'), '=', conversationId),
          ]),
        )
        .orderBy('id')
        .execute();

    it('stores a text with a lone surrogate as U+FFFD, in the message and in its event alike', async () => {
      const id = await started();
      const input = text(id, 'lone');
      const hostile = 'a\uD800b\uDC00c😀';
      const result = await appendVisitorMessage(database.db, {
        ...input,
        text: hostile,
        announce: input.announce.map((row) =>
          row.destination === OutboxDestination.fanout
            ? { ...row, payload: { ...row.payload, text: hostile } }
            : row,
        ),
      });
      if (result.outcome !== 'stored') throw new Error(`expected stored, got ${result.outcome}`);
      expect(result.message.text).toBe('a\uFFFDb\uFFFDc😀');
      const event = (await outboxOf(id)).find((row) => row.topic === id);
      expect((event?.payload as { text: string }).text).toBe('a\uFFFDb\uFFFDc😀');
    });

    it('stores the text with the next seq and writes its outbox rows, the seq in the event', async () => {
      const id = await started();
      const result = await appendVisitorMessage(database.db, text(id, 'a'));
      if (result.outcome !== 'stored') throw new Error(`expected stored, got ${result.outcome}`);
      expect(result.message).toMatchObject({
        conversation_id: id,
        seq: 2,
        kind: 'visitor',
        text: 'text a',
        client_id: 'a',
        delivery: 'pending',
        author_name: null,
        edited_at: null,
        deleted_at: null,
      });
      expect(result.message.created_at).toEqual(new Date('2026-12-06T16:00:00.123Z'));
      const stored = await database.db
        .selectFrom('messages')
        .selectAll()
        .where('id', '=', result.message.id)
        .executeTakeFirstOrThrow();
      expect(result.message).toEqual(stored);
      expect(result.rows.map((row) => [row.destination, row.topic, row.payload])).toEqual([
        ['bus', 'conversationSync', { tenantId, conversationId: id, reason: 2 }],
        ['fanout', id, { type: 'message', seq: 2, kind: 'visitor', text: 'text a' }],
      ]);
      expect(result.rows.every((row) => row.created_at instanceof Date)).toBe(true);
      expect((await outboxOf(id)).map((row) => row.id)).toEqual(result.rows.map((row) => row.id));
      const conversation = await conversations.get(tenantId, id);
      expect(conversation.last_seq).toBe(2);
      expect(conversation.last_activity_at).toEqual(new Date('2026-12-06T16:00:00.123Z'));
    });

    it('answers a clientId stored before with that message and writes nothing', async () => {
      const id = await started();
      const first = await appendVisitorMessage(database.db, text(id, 'b'));
      const again = await appendVisitorMessage(database.db, text(id, 'b'));
      expect(again).toEqual({
        outcome: 'duplicate',
        message: first.outcome === 'stored' ? first.message : undefined,
      });
      expect((await conversations.get(tenantId, id)).last_seq).toBe(2);
      expect(await outboxOf(id)).toHaveLength(2);
    });

    it("leaves a conversation's first visitor message to the caller (it comes with the welcome)", async () => {
      const { id } = await conversations.create({ tenantId, channel: 'web' });
      expect(await appendVisitorMessage(database.db, text(id, 'c'))).toEqual({
        outcome: 'first',
      });
      expect((await conversations.get(tenantId, id)).last_seq).toBe(0);
      expect(await outboxOf(id)).toEqual([]);
    });

    it('refuses a new text to a closed conversation but answers a resend of one stored before', async () => {
      const id = await started();
      await appendVisitorMessage(database.db, text(id, 'd'));
      await conversations.close(tenantId, id, new Date());
      await expect(appendVisitorMessage(database.db, text(id, 'e'))).rejects.toBeInstanceOf(
        ConversationClosedError,
      );
      expect(await appendVisitorMessage(database.db, text(id, 'd'))).toMatchObject({
        outcome: 'duplicate',
        message: { seq: 2, client_id: 'd' },
      });
      expect(await appendVisitorMessage(database.db, text(id, 'first'))).toMatchObject({
        outcome: 'duplicate',
        message: { seq: 1 },
      });
    });

    it('refuses a conversation that does not exist in the tenant', async () => {
      const id = await started();
      await expect(
        appendVisitorMessage(database.db, { ...text(id, 'f'), tenantId: 'another' }),
      ).rejects.toBeInstanceOf(ConversationNotFoundError);
      await expect(
        appendVisitorMessage(database.db, text(crypto.randomUUID(), 'f')),
      ).rejects.toBeInstanceOf(ConversationNotFoundError);
    });

    it('keeps seqs gap-free and each clientId stored once under concurrent writers', async () => {
      const id = await started();
      const results = await Promise.all(
        Array.from({ length: 16 }, (_, i) =>
          appendVisitorMessage(database.db, text(id, `c${i % 5}`)),
        ),
      );
      const stored = results.filter((r) => r.outcome === 'stored');
      expect(stored).toHaveLength(5);
      expect(results.filter((r) => r.outcome === 'duplicate')).toHaveLength(11);
      expect(stored.map((r) => r.message.seq).sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6]);
      expect((await conversations.get(tenantId, id)).last_seq).toBe(6);
      expect(await outboxOf(id)).toHaveLength(10);
    });

    // Postgres only: PGlite keeps no table statistics to read HOT updates from.
    if (backend.name === 'postgres')
      it("updates the conversation's row in place (HOT), as appendMessage does", async () => {
        const id = await started();
        const counts = await database.db.transaction().execute(async (trx) => {
          // The backend's counts not yet reported (earlier statements' too): the difference.
          const read = async () =>
            (
              await sql<{ updates: number; hot: number }>`
                select n_tup_upd::int as updates, n_tup_hot_upd::int as hot
                from pg_stat_xact_user_tables where relname = 'conversations'`.execute(trx)
            ).rows[0]!;
          const before = await read();
          for (let i = 0; i < 20; i++) await appendVisitorMessage(trx, text(id, `hot${i}`));
          const after = await read();
          return { updates: after.updates - before.updates, hot: after.hot - before.hot };
        });
        expect(counts).toEqual({ updates: 20, hot: 20 });
      });
  });
}
