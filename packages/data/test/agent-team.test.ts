import { describe, expect, it } from 'vitest';
import {
  AgentRepository,
  AgentTeamRepository,
  ConversationRepository,
  DEFAULT_TENANT_ID,
  PriorityRuleRepository,
  readTopicState,
  SupportGroupRepository,
  TelegramPostRepository,
} from '../src/index';
import { backends, useDatabase } from './backends';

const tenantId = DEFAULT_TENANT_ID;

for (const backend of backends) {
  describe(`agents as a team (${backend.name})`, () => {
    const database = useDatabase(backend);

    it('queues open unclaimed conversations by priority then age, with their level', async () => {
      const db = database.db;
      await new SupportGroupRepository(db).upsert({ tenantId, chatId: -1002, level: 2 });
      const conversations = new ConversationRepository(db);
      const team = new AgentTeamRepository(db);
      const ids: string[] = [];
      for (const [minutes, priority, group] of [
        [30, 'low', null],
        [20, 'normal', -1002],
        [10, 'high', null],
      ] as const) {
        const { id } = await conversations.create({ tenantId, channel: 'web' });
        await db
          .updateTable('conversations')
          .set({
            created_at: new Date(Date.now() - minutes * 60_000),
            priority,
            group_chat_id: group,
          })
          .where('id', '=', id)
          .execute();
        ids.push(id);
      }
      const queue = await db.transaction().execute(async (trx) => {
        const locked = new AgentTeamRepository(trx);
        await locked.serializeAssignment(tenantId);
        return locked.lockQueue(tenantId, 10);
      });
      expect(queue.map((q) => [q.conversation.id, q.level])).toEqual([
        [ids[2], 1],
        [ids[1], 2],
        [ids[0], 1],
      ]);
      expect(await team.queuedTenants()).toEqual([tenantId]);
    });

    it('keeps presence, activity and load, and moves idle online agents away once', async () => {
      const db = database.db;
      const agents = new AgentRepository(db);
      const team = new AgentTeamRepository(db);
      const alice = await agents.upsert({
        tenantId,
        telegramUserId: 9001,
        displayName: 'Alice',
        capacity: 4,
      });
      expect(alice).toMatchObject({ presence: 'offline', capacity: 4, level: null });
      // A rename leaves the team settings alone.
      expect(
        await agents.upsert({ tenantId, telegramUserId: 9001, displayName: 'Alice M.' }),
      ).toMatchObject({ capacity: 4 });
      const long = new Date(Date.now() - 60 * 60_000);
      expect(await team.setPresence(tenantId, 9001, 'online', long)).toMatchObject({
        presence: 'online',
      });
      expect(await team.setPresence(tenantId, 9999, 'online', long)).toBeUndefined();
      const { id } = await new ConversationRepository(db).create({ tenantId, channel: 'web' });
      await new ConversationRepository(db).setClaim(
        tenantId,
        id,
        { agentId: alice.id, telegramUserId: 9001, name: 'Alice' },
        new Date(),
      );
      const [load] = await team.loads(tenantId, { onlineOnly: true });
      expect(load).toMatchObject({ load: 1 });
      expect(load?.lastAssignedAt).toBeInstanceOf(Date);

      const idleSince = new Date(Date.now() - 30 * 60_000);
      expect(await team.awayWhenIdle(idleSince, new Date())).toHaveLength(1);
      expect(await team.awayWhenIdle(idleSince, new Date())).toHaveLength(0);
      await team.setPresence(tenantId, 9001, 'online', long);
      await team.touch(tenantId, 9001, new Date());
      expect(await team.awayWhenIdle(idleSince, new Date())).toHaveLength(0);
    });

    it('gives a new conversation the priority of the first rule it matches', async () => {
      const db = database.db;
      await new PriorityRuleRepository(db).replace(tenantId, [
        { pageUrlPrefix: 'https://a.example/vip', priority: 'high' },
        { locale: 'pt', priority: 'low' },
      ]);
      const conversations = new ConversationRepository(db);
      const start = async (pageUrl?: string, locale?: string) =>
        (await conversations.create({ tenantId, channel: 'web', pageUrl, locale })).priority;
      expect(await start('https://a.example/vip/1', 'pt-BR')).toBe('high');
      expect(await start(undefined, 'PT-br')).toBe('low');
      expect(await start('https://a.example/', 'en')).toBe('normal');
      await new PriorityRuleRepository(db).replace(tenantId, []);
      expect(await start('https://a.example/vip/1')).toBe('normal');
    });

    it('stores a post’s mention and reads it back with the topic state', async () => {
      const db = database.db;
      const { id } = await new ConversationRepository(db).create({ tenantId, channel: 'web' });
      const entities = [
        { type: 'text_mention' as const, offset: 2, length: 5, user: { id: 1, first_name: 'A' } },
      ];
      await new TelegramPostRepository(db).add([
        { tenantId, conversationId: id, text: 'x Alice', entities },
      ]);
      expect(
        (await new TelegramPostRepository(db).pending(DEFAULT_TENANT_ID, id))[0]?.entities,
      ).toEqual(entities);
      expect((await readTopicState(db, tenantId, id))?.posts[0]?.entities).toEqual(entities);
    });
  });
}
