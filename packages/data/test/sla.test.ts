import { describe, expect, it } from 'vitest';
import {
  appendMessage,
  ConversationRepository,
  DEFAULT_TENANT_ID,
  SlaRepository,
  type MessageKind,
} from '../src/index';
import { backends, useDatabase } from './backends';

const T0 = new Date('2026-12-01T10:00:00Z');
const after = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

for (const backend of backends) {
  describe(`SLA clocks (${backend.name})`, () => {
    const database = useDatabase(backend);

    const open = async (topicId: number) => {
      const conversations = new ConversationRepository(database.db);
      const { id } = await conversations.create({ tenantId: DEFAULT_TENANT_ID, channel: 'web' });
      await conversations.setTopic(DEFAULT_TENANT_ID, id, topicId);
      await database.db
        .updateTable('conversations')
        .set({ created_at: T0 })
        .where('id', '=', id)
        .execute();
      return id;
    };
    const write = (conversationId: string, kind: MessageKind, at: Date) =>
      appendMessage(database.db, {
        tenantId: DEFAULT_TENANT_ID,
        conversationId,
        kind,
        text: kind,
        delivery: 'none',
        at,
      });

    it('finds the targets due for a reminder or a breach, and records each post once', async () => {
      const slas = new SlaRepository(database.db);
      await slas.setPolicy(
        DEFAULT_TENANT_ID,
        { normal: { first_response: 100, resolution: 1000, business_hours: false } },
        50,
      );
      const waiting = await open(1);
      await write(waiting, 'visitor', T0);
      // A system message is no reply; without a visitor message a conversation has no clock.
      await write(waiting, 'system', after(1));
      await open(2);

      expect(await slas.due(after(49), 10)).toEqual([]);
      expect(await slas.due(after(50), 10)).toEqual([
        expect.objectContaining({
          conversationId: waiting,
          target: 'first_response',
          kind: 'reminder',
          targetSeconds: 100,
          elapsedSeconds: 50,
          businessHours: false,
          claimedBy: null,
        }),
      ]);
      const reminder = {
        tenantId: DEFAULT_TENANT_ID,
        conversationId: waiting,
        target: 'first_response' as const,
        kind: 'reminder' as const,
        priority: 'normal' as const,
        targetSeconds: 100,
        businessHours: false,
        at: after(50),
      };
      expect(await slas.record(reminder)).toBe(true);
      expect(await slas.record(reminder)).toBe(false);
      expect(await slas.due(after(60), 10)).toEqual([]);
      expect((await slas.due(after(101), 10)).map((d) => [d.target, d.kind])).toEqual([
        ['first_response', 'breach'],
      ]);

      // The first agent reply stops the first-response clock; the resolution's keeps running.
      await write(waiting, 'agent', after(102));
      expect(await slas.due(after(200), 10)).toEqual([]);
      expect((await slas.due(after(1001), 10)).map((d) => [d.target, d.kind])).toEqual([
        ['resolution', 'breach'],
      ]);
    });

    it('leaves conversations of priorities with targets out of the unclaimed reminders', async () => {
      const candidates = async () =>
        database.db
          .transaction()
          .execute(async (trx) =>
            (
              await new ConversationRepository(trx).claimDueReminders(
                new Date(Date.now() + 1),
                1,
                50,
              )
            ).map((c) => c.priority),
          );
      expect(new Set(await candidates())).toEqual(new Set());
      const low = await open(3);
      await database.db
        .updateTable('conversations')
        .set({ priority: 'low' })
        .where('id', '=', low)
        .execute();
      expect(await candidates()).toEqual(['low']);
    });
  });
}
