import { describe, expect, it } from 'vitest';
import {
  appendMessage,
  ConversationClosedError,
  ConversationRepository,
  DEFAULT_TENANT_ID,
  DeliveryState,
  MessageRepository,
  migrateToLatest,
  OutboxRepository,
  pendingMigrations,
  TelegramUpdateRepository,
} from '../src/index';
import { backends, useDatabase } from './backends';

for (const backend of backends) {
  describe(backend.name, () => {
    const database = useDatabase(backend, { poolSize: 25 });

    it('reports no pending migrations once migrated, and migrating again applies nothing', async () => {
      expect(await pendingMigrations(database.db)).toEqual([]);
      expect(await migrateToLatest(database.db)).toEqual([]);
    });

    it('hands out gap-free seqs under concurrent writers and dedupes clientIds', async () => {
      const conversations = new ConversationRepository(database.db);
      const conversation = await conversations.create({
        tenantId: DEFAULT_TENANT_ID,
        channel: 'web',
      });
      expect(conversation.ticket).toMatch(/^SUPP-[0-9A-Z]+-[0-9A-Z]{4}$/);
      const append = (clientId: string) =>
        database.db.transaction().execute((trx) =>
          appendMessage(trx, {
            tenantId: DEFAULT_TENANT_ID,
            conversationId: conversation.id,
            kind: 'visitor',
            text: `hello ${clientId}`,
            clientId,
            delivery: DeliveryState.pending,
            requireOpen: true,
          }),
        );
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => append(`c${i}`)));
      expect(results.map((r) => r.message.seq).sort((a, b) => a - b)).toEqual(
        Array.from({ length: 20 }, (_, i) => i + 1),
      );
      const again = await append('c3');
      expect(again.duplicate).toBe(true);
      expect(again.message.seq).toBe(results[3]!.message.seq);
      const history = await new MessageRepository(database.db).listAfter(
        DEFAULT_TENANT_ID,
        conversation.id,
        0,
        100,
      );
      expect(history).toHaveLength(20);
      expect((await conversations.get(DEFAULT_TENANT_ID, conversation.id)).last_seq).toBe(20);
    });

    it('refuses visitor messages to a closed conversation without using a seq', async () => {
      const conversations = new ConversationRepository(database.db);
      const conversation = await conversations.create({
        tenantId: DEFAULT_TENANT_ID,
        channel: 'web',
      });
      expect(await conversations.close(DEFAULT_TENANT_ID, conversation.id, new Date())).toBe(true);
      expect(await conversations.close(DEFAULT_TENANT_ID, conversation.id, new Date())).toBe(false);
      await expect(
        database.db.transaction().execute((trx) =>
          appendMessage(trx, {
            tenantId: DEFAULT_TENANT_ID,
            conversationId: conversation.id,
            kind: 'visitor',
            text: 'late',
            delivery: DeliveryState.pending,
            requireOpen: true,
          }),
        ),
      ).rejects.toBeInstanceOf(ConversationClosedError);
      expect((await conversations.get(DEFAULT_TENANT_ID, conversation.id)).last_seq).toBe(0);
    });

    it('keeps the edit history and stores big Telegram ids as numbers', async () => {
      const conversations = new ConversationRepository(database.db);
      const conversation = await conversations.create({
        tenantId: DEFAULT_TENANT_ID,
        channel: 'web',
      });
      await conversations.setTopic(DEFAULT_TENANT_ID, conversation.id, 4_000_000_001);
      const inDefaultGroup = await conversations.findByGroupTopic(
        DEFAULT_TENANT_ID,
        -1001000000001,
        4_000_000_001,
        -1001000000001,
      );
      expect(inDefaultGroup?.id).toBe(conversation.id);
      const { message } = await database.db.transaction().execute((trx) =>
        appendMessage(trx, {
          tenantId: DEFAULT_TENANT_ID,
          conversationId: conversation.id,
          kind: 'agent',
          text: 'first',
          delivery: DeliveryState.none,
          telegramChatId: -1001234567890,
          telegramMessageId: 77,
        }),
      );
      const messages = new MessageRepository(database.db);
      const edited = await messages.edit(DEFAULT_TENANT_ID, message, 'second', new Date());
      expect(edited.text).toBe('second');
      expect(edited.edited_at).toBeInstanceOf(Date);
      expect(
        (await messages.editHistory(DEFAULT_TENANT_ID, message.id)).map((e) => e.previous_text),
      ).toEqual(['first']);
      const found = await messages.findAgentMessage(DEFAULT_TENANT_ID, -1001234567890, 77);
      expect(found?.telegram_chat_id).toBe(-1001234567890);
    });

    it('marks one visitor message delivered, and a batch of them, and nothing else', async () => {
      const conversation = await new ConversationRepository(database.db).create({
        tenantId: DEFAULT_TENANT_ID,
        channel: 'web',
      });
      const texts = ['one', 'two', 'three', 'four'];
      const appended = [];
      for (const text of texts)
        appended.push(
          await database.db.transaction().execute((trx) =>
            appendMessage(trx, {
              tenantId: DEFAULT_TENANT_ID,
              conversationId: conversation.id,
              kind: 'visitor',
              text,
              delivery: DeliveryState.pending,
            }),
          ),
        );
      const [one, two, three] = appended.map((a) => a.message.id);
      const messages = new MessageRepository(database.db);
      // Twice: the single-message statement is built once and then only given values.
      await messages.markDelivered(
        DEFAULT_TENANT_ID,
        [one!],
        -1001000000001,
        4_000_000_001,
        '200000001',
      );
      await messages.markDelivered(DEFAULT_TENANT_ID, [two!, three!], -1001000000001, 12, null);
      const rows = await messages.listAfter(DEFAULT_TENANT_ID, conversation.id, 0, 10);
      expect(
        rows.map((m) => [m.text, m.delivery, m.telegram_message_id, m.telegram_bot_id]),
      ).toEqual([
        ['one', 'delivered', 4_000_000_001, '200000001'],
        ['two', 'delivered', 12, null],
        ['three', 'delivered', 12, null],
        ['four', 'pending', null, null],
      ]);
      expect(
        (await messages.pending(DEFAULT_TENANT_ID, conversation.id)).map((m) => m.text),
      ).toEqual(['four']);
    });

    it('claims stale outbox rows once and dedupes Telegram updates', async () => {
      const outbox = new OutboxRepository(database.db);
      await outbox.add([
        { tenantId: DEFAULT_TENANT_ID, destination: 'fanout', topic: 'x', payload: { a: 1 } },
      ]);
      const claimed = await database.db
        .transaction()
        .execute((trx) => new OutboxRepository(trx).claimStale(new Date(Date.now() + 1000), 10));
      expect(claimed.map((r) => r.payload)).toEqual([{ a: 1 }]);
      expect((await outbox.stats()).pending).toBe(1);
      await outbox.delete(claimed.map((r) => r.id));
      expect((await outbox.stats()).pending).toBe(0);

      const updates = new TelegramUpdateRepository(database.db);
      expect(await updates.markProcessed(DEFAULT_TENANT_ID, '42', 1001)).toBe(true);
      expect(await updates.markProcessed(DEFAULT_TENANT_ID, '42', 1001)).toBe(false);
    });
  });
}
