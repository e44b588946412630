import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_TENANT_ID,
  type Conversation,
  type OutboxRow,
  type TelegramUser,
  type TelegramUserSecret,
} from '@topicdesk/data';
import {
  ConversationService,
  PrivateChatDeliveries,
  PrivateChatIntake,
  PrivateChatUsers,
  UnitOfWork,
  type Infrastructure,
  type PrivateChatRequest,
  type PrivateChatVisitor,
  type UserCipher,
} from '../src/index';
import { coreFixture, type CoreFixture } from './support/core-fixture';

const BOT = '7000000001';

/**
 * A stand-in for the bridge's keyring (user-crypto.ts, which core cannot import): ids are
 * "sealed" in base64 under a named key, so a test can rotate keys and lose one.
 */
class TestCipher implements UserCipher {
  constructor(
    public currentKeyId: string,
    public known: string[] = [currentKeyId],
  ) {}
  lookupHashes(tenantId: string, telegramUserId: number): string[] {
    const keys = [this.currentKeyId, ...this.known.filter((k) => k !== this.currentKeyId)];
    return keys.map((key) => `${key}:${tenantId}:${telegramUserId}`);
  }
  seal(tenantId: string, _rowId: string, telegramUserId: number): TelegramUserSecret {
    return {
      lookupHash: `${this.currentKeyId}:${tenantId}:${telegramUserId}`,
      keyId: this.currentKeyId,
      nonce: 'nonce',
      ciphertext: Buffer.from(String(telegramUserId)).toString('base64'),
    };
  }
  open(row: TelegramUser): number | undefined {
    if (!this.known.includes(row.key_id)) return undefined;
    return Number(Buffer.from(row.ciphertext, 'base64').toString());
  }
}

describe('the private chat in core', () => {
  let fixture: CoreFixture;
  let infra: Infrastructure;
  let uow: UnitOfWork;
  let cipher: TestCipher;
  let users: PrivateChatUsers;
  let intake: PrivateChatIntake;
  let deliveries: PrivateChatDeliveries;
  let conversations: ConversationService;
  const published: OutboxRow[] = [];
  let nextUpdateId = 1;

  beforeAll(async () => {
    fixture = await coreFixture();
    ({ infra } = fixture);
    const { logger } = fixture;
    uow = new UnitOfWork(infra.database.db, {
      publish: (rows) => {
        published.push(...rows);
        return Promise.resolve();
      },
    });
    cipher = new TestCipher('k1');
    users = new PrivateChatUsers(uow, cipher);
    intake = new PrivateChatIntake({
      uow,
      users,
      quotas: infra.coordination.quotas,
      logger,
      limits: { conversationsPerDay: 2, messagesPerHour: 50 },
    });
    deliveries = new PrivateChatDeliveries(uow);
    conversations = new ConversationService(uow);
  }, 60_000);

  afterAll(async () => {
    await fixture.close();
  });

  const visitor = (telegramUserId: number, language: string | null = 'en'): PrivateChatVisitor => ({
    tenantId: DEFAULT_TENANT_ID,
    telegramUserId,
    pseudonym: `pseudo-${telegramUserId}`,
    language,
  });
  const apply = (who: PrivateChatVisitor, request: PrivateChatRequest, updateId = nextUpdateId++) =>
    intake.apply({ botId: BOT, updateId }, who, request);
  const db = () => infra.database.db;
  const openConversationOf = async (telegramUserId: number): Promise<Conversation> => {
    const row = await db()
      .selectFrom('telegram_conversations as t')
      .innerJoin('telegram_users as u', 'u.id', 't.telegram_user_id')
      .innerJoin('conversations as c', 'c.id', 't.conversation_id')
      .selectAll('c')
      .where('u.lookup_hash', '=', `${cipher.currentKeyId}:${DEFAULT_TENANT_ID}:${telegramUserId}`)
      .orderBy('c.created_at', 'desc')
      .executeTakeFirstOrThrow();
    return row;
  };
  const history = (conversationId: string) =>
    db()
      .selectFrom('messages')
      .select(['seq', 'kind', 'text'])
      .where('conversation_id', '=', conversationId)
      .orderBy('seq')
      .execute();

  it('starts a conversation with the welcome as its first message, and says so when asked again', async () => {
    const ann = visitor(1001);
    expect(await apply(ann, { kind: 'support' })).toEqual({
      outcome: 'command',
      answers: [],
      toast: '',
    });
    const conversation = await openConversationOf(1001);
    expect(conversation.channel).toBe('telegram');
    expect(await history(conversation.id)).toEqual([
      { seq: 1, kind: 'system', text: expect.stringContaining(conversation.ticket) },
    ]);
    expect(published.some((row) => row.topic === 'conversationSync')).toBe(true);

    const again = await apply(ann, { kind: 'support' });
    expect(again.outcome).toBe('command');
    expect(again.answers).toEqual([
      {
        text: expect.stringContaining(conversation.ticket),
        button: { label: '⛔ End', press: { action: 'end', conversationId: conversation.id } },
      },
    ]);
  });

  it('applies an update once: redelivered, it changes nothing', async () => {
    const ben = visitor(1002);
    expect((await apply(ben, { kind: 'text', messageId: 1, text: 'Hello' }, 9001)).outcome).toBe(
      'stored',
    );
    const again = await apply(ben, { kind: 'text', messageId: 1, text: 'Hello' }, 9001);
    expect(again).toEqual({ outcome: 'duplicate', answers: [], toast: '' });
    const conversation = await openConversationOf(1002);
    expect((await history(conversation.id)).map((m) => m.kind)).toEqual(['system', 'visitor']);
  });

  it('refuses a conversation beyond the daily limit, with the localized answer', async () => {
    const cleo = visitor(1003, 'de');
    for (let i = 0; i < 2; i++) {
      expect((await apply(cleo, { kind: 'support' })).outcome).toBe('command');
      expect((await apply(cleo, { kind: 'end' })).outcome).toBe('command');
    }
    const refused = await apply(cleo, { kind: 'text', messageId: 7, text: 'Noch eine Frage' });
    expect(refused.outcome).toBe('refused');
    expect(refused.answers[0]?.text).toContain('2');
  });

  it('answers /end without a conversation, and an End button of a closed one with a toast', async () => {
    const dora = visitor(1004);
    expect((await apply(dora, { kind: 'end' })).outcome).toBe('refused');
    await apply(dora, { kind: 'support' });
    const conversation = await openConversationOf(1004);
    expect(await apply(dora, { kind: 'end', conversationId: conversation.id })).toEqual({
      outcome: 'command',
      answers: [],
      toast: '',
    });
    const posts = await db()
      .selectFrom('telegram_posts')
      .select('text')
      .where('conversation_id', '=', conversation.id)
      .execute();
    expect(posts.map((p) => p.text)).toContain('⛔ The visitor ended the conversation.');
    const twice = await apply(dora, { kind: 'end', conversationId: conversation.id });
    expect(twice.outcome).toBe('refused');
    expect(twice.answers).toEqual([]);
    expect(twice.toast).toContain('already closed');
  });

  it('stores a rating of the user’s closed conversation only, and audits it', async () => {
    const eve = visitor(1005);
    const mallory = visitor(1006);
    await apply(eve, { kind: 'support' });
    const conversation = await openConversationOf(1005);
    const rate = { kind: 'rate' as const, conversationId: conversation.id, rating: 4 };
    // Open still: the buttons come after a close.
    expect((await apply(eve, rate)).outcome).toBe('refused');
    await apply(eve, { kind: 'end' });
    // Someone else's conversation: a forged button.
    expect(await apply(mallory, rate)).toEqual({ outcome: 'refused', answers: [], toast: '' });
    const rated = await apply(eve, rate);
    expect(rated.outcome).toBe('command');
    expect(rated.toast).toBe('Thank you for your rating!');
    const stored = await db()
      .selectFrom('conversation_ratings')
      .select(['score', 'channel'])
      .where('conversation_id', '=', conversation.id)
      .executeTakeFirstOrThrow();
    expect(stored).toEqual({ score: 4, channel: 'telegram' });
    // Once: a second press is refused with a toast, the first rating stays.
    const again = await apply(eve, { ...rate, rating: 1 });
    expect(again.outcome).toBe('refused');
    expect(again.toast).toContain('already');
    const audit = await db()
      .selectFrom('audit_log')
      .select(['actor_type', 'details'])
      .where('conversation_id', '=', conversation.id)
      .where('action', '=', 'conversation.rate')
      .execute();
    expect(audit).toEqual([{ actor_type: 'visitor', details: { rating: 4 } }]);
  });

  it('walks the user’s chat through its steps: welcome with End, skip, copy, rating', async () => {
    const finn = visitor(1007);
    await apply(finn, { kind: 'support' });
    let conversation = await openConversationOf(1007);
    const next = async () => (await deliveries.next(conversation))?.step;

    const welcome = await next();
    expect(welcome).toMatchObject({
      kind: 'message',
      message: { seq: 1, kind: 'system' },
      button: { label: '⛔ End', press: { action: 'end', conversationId: conversation.id } },
    });
    if (welcome?.kind !== 'message') throw new Error('no welcome');
    await deliveries.delivered(conversation, welcome.message, 501);

    const agent = { agentId: null, telegramUserId: 42, name: 'Alice' };
    const reply = (text: string, messageId: number) =>
      uow.run((work) =>
        conversations.postAgentMessage(work, {
          tenantId: DEFAULT_TENANT_ID,
          telegramUserId: 42,
          conversationId: conversation.id,
          text,
          authorName: 'Alice',
          agentId: null,
          telegramChatId: -100,
          telegramMessageId: messageId,
        }),
      );
    const first = await reply('Hello', 1);
    const second = await reply('Oops', 2);
    await uow.run((work) =>
      conversations.retract(work, { tenantId: DEFAULT_TENANT_ID, message: second, agent }),
    );
    expect(await next()).toMatchObject({ kind: 'message', message: { id: first.id } });
    await deliveries.delivered(conversation, first, 502);
    // Retracted before it was sent: nothing to send, the cursor moves on.
    expect(await next()).toMatchObject({ kind: 'skip', message: { id: second.id } });
    await deliveries.delivered(conversation, second, null);
    expect(await next()).toBeUndefined();
    expect(await deliveries.due(conversation)).toBe(false);

    await uow.run((work) =>
      conversations.editAgentMessage(work, {
        tenantId: DEFAULT_TENANT_ID,
        message: first,
        text: 'Hello there',
        at: new Date(),
        telegramUserId: 42,
      }),
    );
    const copy = await next();
    expect(copy).toMatchObject({ kind: 'copy', copy: { telegram_message_id: 502 } });
    if (copy?.kind !== 'copy') throw new Error('no copy');
    await deliveries.copySynced(copy.message);
    expect(await next()).toBeUndefined();

    await uow.run((work) =>
      conversations.close(work, {
        tenantId: DEFAULT_TENANT_ID,
        conversationId: conversation.id,
        actor: { type: 'agent', id: '42' },
        reason: 'agent',
        templateKey: 'closed_note',
      }),
    );
    conversation = await openConversationOf(1007);
    const closedNote = await next();
    if (closedNote?.kind !== 'message') throw new Error('no closed note');
    expect(closedNote.button).toBeUndefined();
    await deliveries.delivered(conversation, closedNote.message, 503);
    const rating = await next();
    expect(rating).toEqual({ kind: 'rating', text: expect.stringContaining(conversation.ticket) });
    await deliveries.ratingPrompted(conversation);
    expect(await deliveries.due(conversation)).toBe(false);
    expect(await deliveries.lagging(new Date(Date.now() + 60_000), 100)).not.toContainEqual({
      tenant_id: DEFAULT_TENANT_ID,
      id: conversation.id,
    });
  });

  it('moves a user to the current key when they write, and the others when asked', async () => {
    const rotated = new TestCipher('k2', ['k2', 'k1']);
    const rotatedIntake = new PrivateChatIntake({
      uow,
      users: new PrivateChatUsers(uow, rotated),
      quotas: infra.coordination.quotas,
      logger: fixture.logger,
      limits: { conversationsPerDay: 5, messagesPerHour: 50 },
    });
    // Ann (sealed under k1) writes after the rotation: found by her k1 hash, moved to k2.
    await rotatedIntake.apply({ botId: BOT, updateId: nextUpdateId++ }, visitor(1001), {
      kind: 'help',
      known: true,
    });
    const keyOf = async (telegramUserId: number) =>
      (
        await db()
          .selectFrom('telegram_users')
          .select('key_id')
          .where('ciphertext', '=', Buffer.from(String(telegramUserId)).toString('base64'))
          .executeTakeFirstOrThrow()
      ).key_id;
    expect(await keyOf(1001)).toBe('k1');
    await rotatedIntake.apply({ botId: BOT, updateId: nextUpdateId++ }, visitor(1001), {
      kind: 'support',
    });
    expect(await keyOf(1001)).toBe('k2');

    // The rest move in one sweep; a row under a key nobody has is counted and left.
    await db()
      .updateTable('telegram_users')
      .set({ key_id: 'lost' })
      .where('ciphertext', '=', Buffer.from('1002').toString('base64'))
      .execute();
    const before = await db().selectFrom('telegram_users').select('id').execute();
    const result = await new PrivateChatUsers(uow, rotated).reencryptAll(2);
    expect(result).toEqual({ rekeyed: before.length - 2, unreadable: 1 });
    expect(await keyOf(1003)).toBe('k2');
    expect(await keyOf(1002)).toBe('lost');
  });
});
