import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@topicdesk/testkit';
import {
  ConversationRepository,
  createDatabase,
  DEFAULT_TENANT_ID,
  migrateToLatest,
  type Database,
} from '../src/index';

const WINDOW_MS = 60_000;

function suite(
  name: string,
  open: () => Promise<{ database: Database; drop: () => Promise<void> }>,
) {
  describe(`conversation token generation (${name})`, () => {
    let database: Database;
    let drop: () => Promise<void>;
    let conversations: ConversationRepository;
    beforeAll(async () => {
      ({ database, drop } = await open());
      await migrateToLatest(database.db);
      conversations = new ConversationRepository(database.db);
    });
    afterAll(async () => {
      await database.close();
      await drop();
    });

    const start = () => conversations.create({ tenantId: DEFAULT_TENANT_ID, channel: 'web' });

    it('starts at generation 0 and moves on once per refresh of the current generation', async () => {
      const { id } = await start();
      expect((await conversations.get(DEFAULT_TENANT_ID, id)).token_generation).toBe(0);
      expect(await conversations.rotateToken(DEFAULT_TENANT_ID, id, 0, WINDOW_MS)).toBe(1);
      expect(await conversations.rotateToken(DEFAULT_TENANT_ID, id, 1, WINDOW_MS)).toBe(2);
      expect((await conversations.get(DEFAULT_TENANT_ID, id)).token_generation).toBe(2);
    });

    it('gives the generation just replaced the current one again within the window, without moving on', async () => {
      const { id } = await start();
      // Two refreshes with the same token at once (two tabs): both get generation 1.
      const both = await Promise.all([
        conversations.rotateToken(DEFAULT_TENANT_ID, id, 0, WINDOW_MS),
        conversations.rotateToken(DEFAULT_TENANT_ID, id, 0, WINDOW_MS),
      ]);
      expect(both).toEqual([1, 1]);
      expect((await conversations.get(DEFAULT_TENANT_ID, id)).token_generation).toBe(1);
    });

    it('refuses a generation replaced longer ago than the window, two generations back, or ahead', async () => {
      const { id } = await start();
      expect(await conversations.rotateToken(DEFAULT_TENANT_ID, id, 0, 50)).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 120));
      expect(await conversations.rotateToken(DEFAULT_TENANT_ID, id, 0, 50)).toBeUndefined();
      expect(await conversations.rotateToken(DEFAULT_TENANT_ID, id, 1, 50)).toBe(2);
      expect(await conversations.rotateToken(DEFAULT_TENANT_ID, id, 0, WINDOW_MS)).toBeUndefined();
      expect(await conversations.rotateToken(DEFAULT_TENANT_ID, id, 5, WINDOW_MS)).toBeUndefined();
      expect(
        await conversations.rotateToken(DEFAULT_TENANT_ID, crypto.randomUUID(), 0, WINDOW_MS),
      ).toBeUndefined();
    });
  });
}

suite('postgres', async () => {
  const testDb: TestDatabase = await createTestDatabase('data');
  const database = await createDatabase({ url: testDb.url });
  return { database, drop: () => testDb.drop() };
});

suite('pglite', async () => {
  const database = await createDatabase({ dataDir: 'memory://' });
  return { database, drop: () => Promise.resolve() };
});
