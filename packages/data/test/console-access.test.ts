import { Migrator, sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ConsoleLinkRepository,
  DEFAULT_TENANT_ID,
  migrateToLatest,
  type DB,
  type Kysely,
} from '../src/index';
import { migrations } from '../src/migrations/index';
import { backends, useDatabase } from './backends';

function migrator(db: Kysely<DB>): Migrator {
  return new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(migrations) },
    migrationTableName: 'topicdesk_migrations',
    migrationLockTableName: 'topicdesk_migrations_lock',
  });
}

for (const backend of backends) {
  describe(`console access tables (${backend.name})`, () => {
    const database = useDatabase(backend, { migrate: false });

    beforeAll(async () => {
      const { error } = await migrator(database.db).migrateTo('0014_conversations_hot_updates');
      expect(error).toBeUndefined();
      // Roles as the admin API took them before 0018.
      for (const [id, role] of [
        [1, 'lead'],
        [2, 'admin'],
        [3, 'agent'],
        [4, 'chief'],
      ] as const) {
        await sql`insert into agents (tenant_id, telegram_user_id, display_name, role)
          values (${DEFAULT_TENANT_ID}, ${id}, ${`A${id}`}, ${role})`.execute(database.db);
      }
      await migrateToLatest(database.db);
    });

    it('turns lead into supervisor, an unknown role into agent, and keeps roles to the five', async () => {
      const rows = await database.db
        .selectFrom('agents')
        .select(['telegram_user_id', 'role'])
        .orderBy('telegram_user_id')
        .execute();
      expect(rows.map((r) => r.role)).toEqual(['supervisor', 'admin', 'agent', 'agent']);
      await expect(
        sql`update agents set role = 'root' where telegram_user_id = 1`.execute(database.db),
      ).rejects.toThrow(/agents_role_check/);
    });

    it('consumes a link once, and never after it expired', async () => {
      const links = new ConsoleLinkRepository(database.db);
      const agent = await database.db
        .selectFrom('agents')
        .select('id')
        .where('telegram_user_id', '=', 2)
        .executeTakeFirstOrThrow();
      const now = new Date();
      await links.add({
        tenantId: DEFAULT_TENANT_ID,
        tokenHash: 'h1',
        agentId: agent.id,
        expiresAt: new Date(now.getTime() + 60_000),
      });
      await links.add({
        tenantId: DEFAULT_TENANT_ID,
        tokenHash: 'h2',
        agentId: agent.id,
        expiresAt: new Date(now.getTime() - 1),
      });
      const [first, second] = await Promise.all([
        links.consume(DEFAULT_TENANT_ID, 'h1', now),
        links.consume(DEFAULT_TENANT_ID, 'h1', now),
      ]);
      expect([first, second].filter(Boolean)).toHaveLength(1);
      expect(await links.consume(DEFAULT_TENANT_ID, 'h2', now)).toBeUndefined();
      expect((await links.find(DEFAULT_TENANT_ID, 'h1'))?.used_at).toBeInstanceOf(Date);
    });
  });
}
