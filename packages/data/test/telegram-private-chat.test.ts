import { describe, expect, it } from 'vitest';
import {
  appendMessage,
  ConversationRepository,
  DEFAULT_TENANT_ID,
  DeliveryState,
  MessageRepository,
  RatingRepository,
  TelegramConversationRepository,
  TelegramUserRepository,
  TemplateRepository,
} from '../src/index';
import { backends, useDatabase } from './backends';

const secret = (hash: string, keyId = 'k1') => ({
  lookupHash: hash,
  keyId,
  nonce: 'bm9uY2U=',
  ciphertext: 'Y2lwaGVydGV4dA==',
});

for (const backend of backends) {
  describe(`telegram private chats (${backend.name})`, () => {
    const database = useDatabase(backend);

    it('finds a user by any of its lookup hashes, inserts once, and re-keys', async () => {
      const users = new TelegramUserRepository(database.db);
      const at = new Date();
      const id = crypto.randomUUID();
      const user = await users.insert({
        id,
        tenantId: DEFAULT_TENANT_ID,
        languageCode: 'de',
        at,
        ...secret('hash-old', 'old'),
      });
      // The same hash again returns the existing row, not a second one.
      const again = await users.insert({
        id: crypto.randomUUID(),
        tenantId: DEFAULT_TENANT_ID,
        languageCode: null,
        at,
        ...secret('hash-old', 'old'),
      });
      expect(again.id).toBe(user.id);
      expect((await users.findByLookup(DEFAULT_TENANT_ID, ['hash-new', 'hash-old']))?.id).toBe(id);
      expect(await users.countWithOtherKey('new')).toBe(1);
      expect(await users.encryptedWithOtherKey('new', null, 10)).toHaveLength(1);
      expect(await users.encryptedWithOtherKey('new', id, 10)).toHaveLength(0);
      expect(await users.rekey(DEFAULT_TENANT_ID, id, 'old', secret('hash-new', 'new'))).toBe(true);
      expect(await users.rekey(DEFAULT_TENANT_ID, id, 'old', secret('hash-new', 'new'))).toBe(
        false,
      );
      expect((await users.findByLookup(DEFAULT_TENANT_ID, ['hash-new']))?.key_id).toBe('new');
      expect(await users.countWithOtherKey('new')).toBe(0);
    });

    it('forgets users without conversations once they were last seen before the cutoff', async () => {
      const users = new TelegramUserRepository(database.db);
      const old = new Date(Date.now() - 100 * 86_400_000);
      const add = (at: Date) =>
        users.insert({
          id: crypto.randomUUID(),
          tenantId: DEFAULT_TENANT_ID,
          languageCode: null,
          at,
          ...secret(`hash-${crypto.randomUUID()}`),
        });
      const orphan = await add(old);
      const recent = await add(new Date());
      const linked = await add(old);
      const conversation = await new ConversationRepository(database.db).create({
        tenantId: DEFAULT_TENANT_ID,
        channel: 'telegram',
      });
      await new TelegramConversationRepository(database.db).link({
        tenantId: DEFAULT_TENANT_ID,
        conversationId: conversation.id,
        telegramUserId: linked.id,
        at: new Date(),
      });
      const cutoff = new Date(Date.now() - 90 * 86_400_000);
      expect(await users.purgeOrphans(cutoff)).toBeGreaterThanOrEqual(1);
      const left = await database.db.selectFrom('telegram_users').select('id').execute();
      const ids = left.map((r) => r.id);
      expect(ids).not.toContain(orphan.id);
      expect(ids).toContain(recent.id);
      expect(ids).toContain(linked.id);
    });

    it('keeps a delivery cursor over agent and system messages, copies, prompts and ratings', async () => {
      const users = new TelegramUserRepository(database.db);
      const user = await users.insert({
        id: crypto.randomUUID(),
        tenantId: DEFAULT_TENANT_ID,
        languageCode: null,
        at: new Date(),
        ...secret(`hash-${crypto.randomUUID()}`),
      });
      const conversation = await new ConversationRepository(database.db).create({
        tenantId: DEFAULT_TENANT_ID,
        channel: 'telegram',
      });
      const links = new TelegramConversationRepository(database.db);
      await links.link({
        tenantId: DEFAULT_TENANT_ID,
        conversationId: conversation.id,
        telegramUserId: user.id,
        endButtonSeq: 1,
        at: new Date(),
      });
      expect((await links.openOf(DEFAULT_TENANT_ID, user.id))?.id).toBe(conversation.id);
      const append = (kind: 'visitor' | 'agent' | 'system', text: string) =>
        database.db.transaction().execute(async (trx) => {
          const { message } = await appendMessage(trx, {
            tenantId: DEFAULT_TENANT_ID,
            conversationId: conversation.id,
            kind,
            text,
            delivery: kind === 'visitor' ? DeliveryState.pending : DeliveryState.none,
          });
          return message;
        });
      const welcome = await append('system', 'welcome');
      await append('visitor', 'hello');
      const reply = await append('agent', 'hi there');

      expect((await links.nextUndelivered(DEFAULT_TENANT_ID, conversation.id, 0))?.seq).toBe(
        welcome.seq,
      );
      await links.markDelivered(DEFAULT_TENANT_ID, conversation.id, welcome, 501);
      // The visitor's own message is skipped: the next is the agent's reply.
      const found = await links.find(DEFAULT_TENANT_ID, conversation.id);
      expect(found?.link.delivered_seq).toBe(welcome.seq);
      expect(
        (await links.nextUndelivered(DEFAULT_TENANT_ID, conversation.id, welcome.seq))?.seq,
      ).toBe(reply.seq);
      await links.markDelivered(DEFAULT_TENANT_ID, conversation.id, reply, 502);
      // The cursor never moves back.
      await links.markDelivered(DEFAULT_TENANT_ID, conversation.id, welcome, null);
      expect((await links.find(DEFAULT_TENANT_ID, conversation.id))?.link.delivered_seq).toBe(
        reply.seq,
      );
      expect(
        await links.nextUndelivered(DEFAULT_TENANT_ID, conversation.id, reply.seq),
      ).toBeUndefined();

      // An edit makes the copy stale until it is synced; a retraction too.
      expect(await links.staleCopy(DEFAULT_TENANT_ID, conversation.id)).toBeUndefined();
      const edited = await new MessageRepository(database.db).edit(
        DEFAULT_TENANT_ID,
        reply,
        'hi again',
        new Date(),
      );
      const stale = await links.staleCopy(DEFAULT_TENANT_ID, conversation.id);
      expect(stale?.message.text).toBe('hi again');
      expect(stale?.copy.telegram_message_id).toBe(502);
      await links.markCopySynced(DEFAULT_TENANT_ID, edited.id, edited.edited_at, false);
      expect(await links.staleCopy(DEFAULT_TENANT_ID, conversation.id)).toBeUndefined();
      await new MessageRepository(database.db).retract(
        DEFAULT_TENANT_ID,
        edited,
        new Date(Date.now() + 1000),
      );
      expect(
        (await links.staleCopy(DEFAULT_TENANT_ID, conversation.id))?.message.deleted_at,
      ).not.toBeNull();
      await links.markCopySynced(DEFAULT_TENANT_ID, edited.id, edited.edited_at, true);
      expect(await links.staleCopy(DEFAULT_TENANT_ID, conversation.id)).toBeUndefined();

      // Closed a while ago and never prompted: the sweep finds it.
      await new ConversationRepository(database.db).close(
        DEFAULT_TENANT_ID,
        conversation.id,
        new Date(Date.now() - 60_000),
      );
      expect(await links.openOf(DEFAULT_TENANT_ID, user.id)).toBeUndefined();
      const lagging = await links.lagging(new Date(), 10);
      expect(lagging.map((c) => c.id)).toContain(conversation.id);
      await links.markRatingPrompted(DEFAULT_TENANT_ID, conversation.id, new Date());
      expect((await links.lagging(new Date(), 10)).map((c) => c.id)).not.toContain(conversation.id);
      const ratings = new RatingRepository(database.db);
      const rating = { tenantId: DEFAULT_TENANT_ID, conversationId: conversation.id, score: 4 };
      await ratings.add({ ...rating, channel: 'telegram', at: new Date() });
      // Once per conversation: a second rating changes nothing.
      expect(
        await ratings.add({ ...rating, score: 1, channel: 'telegram', at: new Date() }),
      ).toBeUndefined();
      expect((await ratings.find(DEFAULT_TENANT_ID, conversation.id))?.score).toBe(4);
      // Rated: no prompt is due any more, even one older than the latest close.
      await links.markRatingPrompted(DEFAULT_TENANT_ID, conversation.id, new Date(0));
      expect((await links.lagging(new Date(), 10)).map((c) => c.id)).not.toContain(conversation.id);
    });

    it('seeds the private chat texts in English (default) and German', async () => {
      const templates = new TemplateRepository(database.db);
      const de = await templates.resolve(DEFAULT_TENANT_ID, 'telegram.limit_messages', 'de-AT');
      const fr = await templates.resolve(DEFAULT_TENANT_ID, 'telegram.limit_messages', 'fr');
      expect(de?.locale).toBe('de');
      expect(fr?.locale).toBe('');
      expect(fr?.text).toContain('{limit} messages');
    });
  });
}
