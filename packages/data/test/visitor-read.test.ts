import { beforeAll, describe, expect, it } from 'vitest';
import {
  appendMessage,
  ConversationRepository,
  DEFAULT_TENANT_ID,
  DeliveryState,
  MessageKind,
  readAgentMessageToMark,
  readTopicState,
} from '../src/index';
import { backends, useDatabase } from './backends';

const tenantId = DEFAULT_TENANT_ID;

for (const backend of backends) {
  describe(`what the visitor read (${backend.name})`, () => {
    const database = useDatabase(backend, { poolSize: 10 });
    let conversations: ConversationRepository;
    beforeAll(() => {
      conversations = new ConversationRepository(database.db);
    });

    /** A conversation of: visitor, agent (in Telegram), agent (no Telegram id), visitor, agent. */
    let telegramIds = 0;
    async function conversation() {
      const { id } = await conversations.create({ tenantId, channel: 'web' });
      const [first, second] = [++telegramIds, ++telegramIds];
      const append = async (kind: MessageKind, telegramMessageId: number | null) =>
        (
          await appendMessage(database.db, {
            tenantId,
            conversationId: id,
            kind,
            text: `${kind} ${telegramMessageId}`,
            delivery: kind === MessageKind.visitor ? DeliveryState.pending : DeliveryState.none,
            ...(kind === MessageKind.agent
              ? { authorName: 'Alice', telegramChatId: -100, telegramMessageId }
              : { clientId: crypto.randomUUID() }),
          })
        ).message;
      const messages = [
        await append(MessageKind.visitor, null),
        await append(MessageKind.agent, first),
        await append(MessageKind.agent, null),
        await append(MessageKind.visitor, null),
        await append(MessageKind.agent, second),
      ];
      return { id, seqs: messages.map((m) => m.seq), telegram: [first, second] };
    }
    const seen = async (id: string) => (await readTopicState(database.db, tenantId, id))?.seen;

    it('moves only up, within the conversation, and says when an agent message was newly read', async () => {
      const { id, seqs } = await conversation();
      expect(seqs).toEqual([1, 2, 3, 4, 5]);
      expect(await conversations.markRead(tenantId, id, 1)).toEqual({ agentRead: false });
      expect(await conversations.markRead(tenantId, id, 3)).toEqual({ agentRead: true });
      expect(await conversations.markRead(tenantId, id, 2)).toBeUndefined();
      expect(await conversations.markRead(tenantId, id, 3)).toBeUndefined();
      expect(await conversations.markRead(tenantId, id, 4)).toEqual({ agentRead: false });
      expect(await conversations.markRead(tenantId, id, 6)).toBeUndefined();
      expect(await conversations.markRead('other', id, 5)).toBeUndefined();
      expect((await conversations.get(tenantId, id)).visitor_read_seq).toBe(4);
      expect(await conversations.markRead(tenantId, id, 5)).toEqual({ agentRead: true });
    });

    it('reads each range once under concurrent reads: an agent message makes one sync at most', async () => {
      const { id } = await conversation();
      // Tabs telling the same reads at once: the agent messages (2 and 5) are each newly read
      // by one of them only.
      const results = await Promise.all(
        [5, 1, 2, 4, 3, 5, 2, 4, 1, 3].map((seq) => conversations.markRead(tenantId, id, seq)),
      );
      const asked = results.filter((r) => r?.agentRead).length;
      expect(asked).toBeGreaterThanOrEqual(1);
      expect(asked).toBeLessThanOrEqual(2);
      expect((await conversations.get(tenantId, id)).visitor_read_seq).toBe(5);
    });

    it('hands the newest read agent message with a Telegram id until it is marked', async () => {
      const { id, telegram } = await conversation();
      expect(await seen(id)).toBeUndefined();
      await conversations.markRead(tenantId, id, 4);
      // seq 3 is newer but has no Telegram message to react to.
      expect(await seen(id)).toMatchObject({ seq: 2, telegram_message_id: telegram[0] });
      await conversations.setSeenReaction(tenantId, id, 2);
      expect(await seen(id)).toBeUndefined();
      await conversations.markRead(tenantId, id, 5);
      expect(await seen(id)).toMatchObject({ seq: 5, telegram_message_id: telegram[1] });
      expect(await readAgentMessageToMark(database.db, tenantId, id)).toMatchObject({ seq: 5 });
      await conversations.setSeenReaction(tenantId, id, 5);
      await conversations.setSeenReaction(tenantId, id, 2);
      expect((await conversations.get(tenantId, id)).seen_reaction_seq).toBe(5);
      expect(await readAgentMessageToMark(database.db, tenantId, id)).toBeUndefined();
    });
  });
}
