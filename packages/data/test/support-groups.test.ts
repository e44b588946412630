import { Migrator, sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ConversationRepository,
  DEFAULT_TENANT_ID,
  migrateToLatest,
  newTicket,
  pendingMigrations,
  SupportGroupRepository,
  type DB,
  type Kysely,
} from '../src/index';
import { backends, useDatabase } from './backends';
import { migrations } from '../src/migrations/index';

const GERMAN = -1001234567890;
const FRENCH = -1009876543210;
const ESCALATION = -1005555555555;

/** The package's migrator, to stop before 0004 and to step back over it. */
function migrator(database: { db: Kysely<DB> }): Migrator {
  return new Migrator({
    db: database.db,
    provider: { getMigrations: () => Promise.resolve(migrations) },
    migrationTableName: 'topicdesk_migrations',
    migrationLockTableName: 'topicdesk_migrations_lock',
  });
}

for (const backend of backends) {
  describe(`support groups (${backend.name})`, () => {
    const database = useDatabase(backend, { migrate: false });
    let before: string;
    beforeAll(async () => {
      // A conversation from before 0004, to see that it keeps its (default) group.
      const { error } = await migrator(database).migrateTo('0003_telegram_private_chats');
      expect(error).toBeUndefined();
      before = crypto.randomUUID();
      // Written as the code of then wrote it: without group_chat_id.
      await sql`insert into conversations (id, tenant_id, ticket, channel, status, created_at,
        updated_at, last_activity_at)
        values (${before}, ${DEFAULT_TENANT_ID}, ${newTicket()}, 'web', 'open', now(), now(), now())`.execute(
        database.db,
      );
      await migrateToLatest(database.db);
    });

    it('leaves conversations from before the migration in the default group (null)', async () => {
      expect(await pendingMigrations(database.db)).toEqual([]);
      const conversation = await new ConversationRepository(database.db).get(
        DEFAULT_TENANT_ID,
        before,
      );
      expect(conversation.group_chat_id).toBeNull();
    });

    it('registers a group, replaces it on the next upsert and keeps its registration time', async () => {
      const groups = new SupportGroupRepository(database.db);
      const first = await groups.upsert({
        tenantId: DEFAULT_TENANT_ID,
        chatId: GERMAN,
        title: 'Support DE',
        locales: ['de', 'de-AT'],
      });
      expect(first).toMatchObject({
        chat_id: GERMAN,
        title: 'Support DE',
        level: 1,
        locales: ['de', 'de-AT'],
        active: true,
      });
      const second = await groups.upsert({
        tenantId: DEFAULT_TENANT_ID,
        chatId: GERMAN,
        locales: ['de-CH'],
      });
      expect(second).toMatchObject({ chat_id: GERMAN, title: null, level: 1, locales: ['de-CH'] });
      expect(second.created_at).toEqual(first.created_at);
      expect(second.updated_at.getTime()).toBeGreaterThanOrEqual(first.updated_at.getTime());
      expect(await groups.find(DEFAULT_TENANT_ID, GERMAN)).toEqual(second);
      expect(await groups.find(DEFAULT_TENANT_ID, -1000000000042)).toBeUndefined();
      expect(await groups.find('other-tenant', GERMAN)).toBeUndefined();
    });

    it('lists by level, then in registration order, and routes only to active level-1 groups', async () => {
      const groups = new SupportGroupRepository(database.db);
      await groups.upsert({ tenantId: DEFAULT_TENANT_ID, chatId: ESCALATION, level: 2 });
      await groups.upsert({ tenantId: DEFAULT_TENANT_ID, chatId: FRENCH, locales: ['fr'] });
      expect((await groups.list(DEFAULT_TENANT_ID)).map((g) => g.chat_id)).toEqual([
        GERMAN,
        FRENCH,
        ESCALATION,
      ]);
      expect((await groups.activeForRouting(DEFAULT_TENANT_ID)).map((g) => g.chat_id)).toEqual([
        GERMAN,
        FRENCH,
      ]);

      const deactivated = await groups.deactivate(DEFAULT_TENANT_ID, GERMAN);
      expect(deactivated).toMatchObject({ chat_id: GERMAN, active: false, locales: ['de-CH'] });
      expect((await groups.activeForRouting(DEFAULT_TENANT_ID)).map((g) => g.chat_id)).toEqual([
        FRENCH,
      ]);
      expect((await groups.list(DEFAULT_TENANT_ID)).map((g) => g.chat_id)).toContain(GERMAN);
      expect(await groups.deactivate(DEFAULT_TENANT_ID, -1000000000042)).toBeUndefined();

      // Registering it again brings it back, in its old place.
      await groups.upsert({ tenantId: DEFAULT_TENANT_ID, chatId: GERMAN, locales: ['de'] });
      expect((await groups.activeForRouting(DEFAULT_TENANT_ID)).map((g) => g.chat_id)).toEqual([
        GERMAN,
        FRENCH,
      ]);
    });

    it('refuses a level outside 1–3 and locales that are not an array', async () => {
      const groups = new SupportGroupRepository(database.db);
      await expect(
        groups.upsert({ tenantId: DEFAULT_TENANT_ID, chatId: -1000000000004, level: 4 }),
      ).rejects.toThrow(/check constraint/);
      await expect(
        database.db
          .insertInto('support_groups')
          .values({
            tenant_id: DEFAULT_TENANT_ID,
            chat_id: -1000000000005,
            locales: '"de"',
            created_at: new Date(),
            updated_at: new Date(),
          })
          .execute(),
      ).rejects.toThrow(/check constraint/);
      expect(await groups.find(DEFAULT_TENANT_ID, -1000000000004)).toBeUndefined();
    });

    it('stores the segments a group lists (none by default) and refuses a null among them', async () => {
      const groups = new SupportGroupRepository(database.db);
      const VIP = -1000000000006;
      const vip = await groups.upsert({
        tenantId: DEFAULT_TENANT_ID,
        chatId: VIP,
        segments: ['vip', 'Key account'],
      });
      expect(vip.segments).toEqual(['vip', 'Key account']);
      expect((await groups.find(DEFAULT_TENANT_ID, VIP))?.segments).toEqual(['vip', 'Key account']);
      const cleared = await groups.upsert({ tenantId: DEFAULT_TENANT_ID, chatId: VIP });
      expect(cleared.segments).toEqual([]);
      await expect(
        database.db
          .updateTable('support_groups')
          .set({ segments: sql<string[]>`array['vip', null]` })
          .where('chat_id', '=', VIP)
          .execute(),
      ).rejects.toThrow(/check constraint/);
      await groups.deactivate(DEFAULT_TENANT_ID, VIP);
    });

    it('stores the group of a new conversation, and null for the default group', async () => {
      const conversations = new ConversationRepository(database.db);
      const routed = await conversations.create({
        tenantId: DEFAULT_TENANT_ID,
        channel: 'telegram',
        locale: 'fr',
        groupChatId: FRENCH,
      });
      const plain = await conversations.create({ tenantId: DEFAULT_TENANT_ID, channel: 'web' });
      expect((await conversations.get(DEFAULT_TENANT_ID, routed.id)).group_chat_id).toBe(FRENCH);
      expect(plain.group_chat_id).toBeNull();
    });

    it('finds a topic within its group: the same topic id in two groups is two conversations', async () => {
      const conversations = new ConversationRepository(database.db);
      const DEFAULT_GROUP = -1001000000001;
      const inDefault = await conversations.create({ tenantId: DEFAULT_TENANT_ID, channel: 'web' });
      const inFrench = await conversations.create({
        tenantId: DEFAULT_TENANT_ID,
        channel: 'web',
        groupChatId: FRENCH,
      });
      const registeredDefault = await conversations.create({
        tenantId: DEFAULT_TENANT_ID,
        channel: 'web',
        groupChatId: DEFAULT_GROUP,
      });
      await conversations.setTopic(DEFAULT_TENANT_ID, inDefault.id, 77);
      await conversations.setTopic(DEFAULT_TENANT_ID, inFrench.id, 77);
      await conversations.setTopic(DEFAULT_TENANT_ID, registeredDefault.id, 78);
      const find = (chatId: number, topicId: number) =>
        conversations.findByGroupTopic(DEFAULT_TENANT_ID, chatId, topicId, DEFAULT_GROUP);
      expect((await find(DEFAULT_GROUP, 77))?.id).toBe(inDefault.id);
      expect((await find(FRENCH, 77))?.id).toBe(inFrench.id);
      expect((await find(DEFAULT_GROUP, 78))?.id).toBe(registeredDefault.id);
      expect(await find(FRENCH, 78)).toBeUndefined();
      expect(await find(GERMAN, 77)).toBeUndefined();
    });

    it('migrates down over 0004 and up again', async () => {
      // Later migrations sit on top: down over each of them and 0004, up over all of them.
      const names = Object.keys(migrations);
      const fromGroups = names.slice(names.indexOf('0004_support_groups'));
      for (let i = 0; i < fromGroups.length; i++) {
        const { error } = await migrator(database).migrateDown();
        expect(error).toBeUndefined();
      }
      expect(await pendingMigrations(database.db)).toEqual(fromGroups);
      expect(await migrateToLatest(database.db)).toEqual(fromGroups);
      expect(await new SupportGroupRepository(database.db).list(DEFAULT_TENANT_ID)).toEqual([]);
    });
  });
}
