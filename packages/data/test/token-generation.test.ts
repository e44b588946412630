import { beforeAll, describe, expect, it } from 'vitest';
import { ConversationRepository, DEFAULT_TENANT_ID } from '../src/index';
import { backends, useDatabase } from './backends';

const WINDOW_MS = 60_000;

for (const backend of backends) {
  describe(`conversation token generation (${backend.name})`, () => {
    const database = useDatabase(backend);
    let conversations: ConversationRepository;
    beforeAll(() => {
      conversations = new ConversationRepository(database.db);
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
