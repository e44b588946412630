import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AgentRepository,
  ConversationRepository,
  DEFAULT_TENANT_ID,
  MessageRepository,
  TelegramPostRepository,
  TemplateRepository,
  type Conversation,
  type Database,
  type OutboxRow,
} from '@topicdesk/data';
import { unitOfWorkFixture, type UnitOfWorkFixture } from './unit-of-work-fixture';
import { AgentDesk, ConversationService, type TopicMessage } from '../src/index';

const GROUP = -1001000000200;
const ALICE = 7001;
const BOB = 7002;
const CAROL = 7003;
const STRANGER = 7999;

describe('the agent desk', () => {
  let fixture: UnitOfWorkFixture;
  let database: Database;
  let desk: AgentDesk;
  let service: ConversationService;
  let published: OutboxRow[];
  let nextUpdate = 1;
  let nextMessage = 100;
  let nextTopic = 10;

  beforeAll(async () => {
    fixture = await unitOfWorkFixture('core-desk');
    ({ database, published } = fixture);
    const { uow } = fixture;
    desk = new AgentDesk(uow, {
      allowUnknownAgents: false,
      requireClaim: false,
      defaultGroupId: GROUP,
    });
    service = new ConversationService(uow);
    const agents = new AgentRepository(database.db);
    await agents.upsert({
      tenantId: DEFAULT_TENANT_ID,
      telegramUserId: ALICE,
      displayName: 'Alice',
    });
    await agents.upsert({ tenantId: DEFAULT_TENANT_ID, telegramUserId: BOB, displayName: 'Bob' });
    await agents.upsert({
      tenantId: DEFAULT_TENANT_ID,
      telegramUserId: CAROL,
      displayName: 'Carol',
      active: false,
    });
  });

  afterAll(() => fixture.close());

  const update = () => ({ botId: 'main-bot', updateId: nextUpdate++ });
  const from = (telegramUserId: number, replyToMessageId?: number): TopicMessage => ({
    chatId: GROUP,
    messageId: nextMessage++,
    telegramUserId,
    replyToMessageId,
  });
  /** A web conversation with a topic in GROUP, as the bridge's sync leaves it. */
  const open = async (): Promise<Conversation> => {
    const started = await service.start({ tenantId: DEFAULT_TENANT_ID, channel: 'web' });
    const conversations = new ConversationRepository(database.db);
    await conversations.setTopic(DEFAULT_TENANT_ID, started.id, nextTopic++);
    return conversations.get(DEFAULT_TENANT_ID, started.id);
  };
  const current = (conversation: Conversation) =>
    new ConversationRepository(database.db).get(DEFAULT_TENANT_ID, conversation.id);
  const posts = async (conversation: Conversation) =>
    (await new TelegramPostRepository(database.db).pending(DEFAULT_TENANT_ID, conversation.id)).map(
      (p) => p.text,
    );
  const lastPost = async (conversation: Conversation) => (await posts(conversation)).at(-1);

  it('finds the conversation of a topic by its group and topic id', async () => {
    const conversation = await open();
    const found = await desk.conversationInTopic(GROUP, conversation.topic_id as number);
    expect(found?.id).toBe(conversation.id);
    expect(await desk.conversationInTopic(GROUP, 999_999)).toBeUndefined();
  });

  it('relays a reply once, claiming the conversation, and does nothing for a redelivered update', async () => {
    const conversation = await open();
    const ref = update();
    const message = { ...from(ALICE), text: 'hello from Alice' };
    expect(await desk.reply(ref, conversation, message)).toBe('stored');
    const before = published.length;
    expect(await desk.reply(ref, conversation, message)).toBe('duplicate');
    expect(published.length).toBe(before);
    const stored = await new MessageRepository(database.db).findAgentMessage(
      DEFAULT_TENANT_ID,
      GROUP,
      message.messageId,
    );
    expect(stored?.text).toBe('hello from Alice');
    expect((await current(conversation)).claimed_by_name).toBe('Alice');
  });

  it('refuses inactive agents and members who are not agents, telling them in the topic', async () => {
    const conversation = await open();
    expect(await desk.reply(update(), conversation, { ...from(CAROL), text: 'hi' })).toBe(
      'refused',
    );
    expect(await lastPost(conversation)).toBe(
      'Your agent account is inactive; an admin can reactivate it.',
    );
    expect(
      await desk.command(update(), conversation, from(STRANGER), { name: 'claim', args: '' }),
    ).toBe('refused');
    expect(await lastPost(conversation)).toMatch(/^Only registered agents/);
    // /help is answered to anyone.
    expect(
      await desk.command(update(), conversation, from(STRANGER), { name: 'help', args: '' }),
    ).toBe('command');
    expect(await lastPost(conversation)).toMatch(/^Commands in a conversation topic:/);
    expect((await current(conversation)).claimed_at).toBeNull();
  });

  it('claims for one agent, refuses a second claim and an unclaim by someone else', async () => {
    const conversation = await open();
    const run = (user: number, name: 'claim' | 'unclaim') =>
      desk.command(update(), conversation, from(user), { name, args: '' });
    expect(await run(ALICE, 'claim')).toBe('command');
    expect(await lastPost(conversation)).toBe('✋ Claimed by Alice.');
    expect(await run(BOB, 'claim')).toBe('refused');
    expect(await lastPost(conversation)).toBe('Already claimed by Alice; they can /unclaim it.');
    expect(await run(BOB, 'unclaim')).toBe('refused');
    expect(await lastPost(conversation)).toBe('Only Alice can unclaim it.');
    expect(await run(ALICE, 'unclaim')).toBe('command');
    expect((await current(conversation)).claimed_at).toBeNull();
  });

  it('sends a saved reply with its placeholders filled, and lists the saved replies when the name is unknown', async () => {
    const conversation = await open();
    const t = (args: string) =>
      desk.command(update(), conversation, from(BOB), { name: 't', args });
    expect(await t('')).toBe('refused');
    expect(await lastPost(conversation)).toMatch(/^No saved replies yet/);
    await new TemplateRepository(database.db).upsert({
      tenantId: DEFAULT_TENANT_ID,
      key: 'reply.thanks',
      locale: '',
      text: 'Thanks for {ticket}, {agent} here.',
      wsBanner: false,
      persist: true,
      telegram: true,
      pin: false,
      minIntervalMs: 0,
    });
    expect(await t('nope')).toBe('refused');
    expect(await lastPost(conversation)).toBe(
      'No saved reply named “nope”. Saved replies: thanks.',
    );
    expect(await t('thanks')).toBe('command');
    const sent = `Thanks for ${conversation.ticket}, Bob here.`;
    expect(await lastPost(conversation)).toBe(`↪️ Sent to the visitor:\n${sent}`);
    const after = await current(conversation);
    expect(after.claimed_by_name).toBe('Bob');
    expect(after.first_response_at).not.toBeNull();
  });

  it('keeps a note internal, and asks for its text when there is none', async () => {
    const conversation = await open();
    const note = (args: string) =>
      desk.command(update(), conversation, from(ALICE), { name: 'note', args });
    expect(await note('')).toBe('refused');
    expect(await note('called back')).toBe('command');
    expect(await lastPost(conversation)).toBe(
      '📝 Note saved for agents; the visitor does not see it.',
    );
  });

  it('retracts an agent message once, follows edits until then, and ignores edits that change nothing', async () => {
    const conversation = await open();
    const original = { ...from(ALICE), text: 'first version' };
    await desk.reply(update(), conversation, original);
    const edit = (messageId: number, text: string) =>
      desk.edit(update(), {
        chatId: GROUP,
        messageId,
        text,
        at: new Date(),
        telegramUserId: ALICE,
      });
    expect(await edit(99_999, 'x')).toBe('ignored:edit_of_unknown_message');
    expect(await edit(original.messageId, 'first version')).toBe('ignored:edit_unchanged');
    expect(await edit(original.messageId, 'second version')).toBe('edited');
    expect(published.at(-1)?.payload).toMatchObject({ type: 'edit', text: 'second version' });

    const remove = (replyTo?: number) =>
      desk.command(update(), conversation, from(ALICE, replyTo), { name: 'delete', args: '' });
    expect(await remove()).toBe('refused');
    expect(await lastPost(conversation)).toMatch(/^Reply to an agent message with \/delete/);
    expect(await remove(original.messageId)).toBe('command');
    expect(await remove(original.messageId)).toBe('refused');
    expect(await lastPost(conversation)).toBe('That message was retracted already.');
    expect(await edit(original.messageId, 'third version')).toBe(
      'ignored:edit_of_retracted_message',
    );
  });

  it('answers header buttons: the action and its announcement, "Done." for a redelivery, refusals without a post', async () => {
    const conversation = await open();
    const ref = update();
    const press = {
      conversationId: conversation.id,
      action: 'close' as const,
      telegramUserId: BOB,
    };
    expect(await desk.button(ref, press)).toEqual({
      outcome: 'command',
      answer: '✅ Closed by Bob. The visitor was told.',
    });
    expect(await desk.button(ref, press)).toEqual({ outcome: 'duplicate', answer: 'Done.' });
    const postsBefore = await posts(conversation);
    expect(await desk.button(update(), press)).toEqual({
      outcome: 'refused',
      answer: 'This conversation is already closed.',
    });
    expect(await posts(conversation)).toEqual(postsBefore);
    expect(
      await desk.button(update(), {
        ...press,
        conversationId: '00000000-0000-4000-8000-000000000000',
      }),
    ).toEqual({ outcome: 'refused', answer: 'This conversation no longer exists.' });
    // A closed conversation takes no reply until it is reopened.
    const closed = await current(conversation);
    expect(await desk.reply(update(), closed, { ...from(BOB), text: 'late' })).toBe('refused');
    expect(await lastPost(conversation)).toMatch(/^This conversation is closed; nothing was sent/);
    expect(await desk.button(update(), { ...press, action: 'reopen' })).toMatchObject({
      outcome: 'command',
    });
    expect((await current(conversation)).status).toBe('open');
  });

  it('shows unregistered agents as "Support", or by their Telegram first name when the setting asks for it', async () => {
    const desk = (unknownAgentName?: 'generic' | 'first_name') =>
      new AgentDesk(fixture.uow, {
        allowUnknownAgents: true,
        requireClaim: false,
        defaultGroupId: GROUP,
        unknownAgentName,
      });
    const name = async (d: AgentDesk, telegramUserId: number, firstName?: string) => {
      const identity = await d.identify(telegramUserId, firstName);
      return identity.kind === 'agent' ? identity.agent.name : identity.reason;
    };
    expect(await name(desk(), STRANGER, 'Bob')).toBe('Support');
    expect(await name(desk('generic'), STRANGER, 'Bob')).toBe('Support');
    const byFirstName = desk('first_name');
    expect(await name(byFirstName, STRANGER, 'Bob')).toBe('Bob');
    // What the admin API would refuse as a display name is not shown either.
    expect(await name(byFirstName, STRANGER, ' \u200b ')).toBe('Support');
    expect(await name(byFirstName, STRANGER, 'x'.repeat(65))).toBe('Support');
    expect(await name(byFirstName, STRANGER)).toBe('Support');
    // A registered agent keeps the registered name.
    expect(await name(byFirstName, ALICE, 'Alicia')).toBe('Alice');

    const conversation = await open();
    const message = { ...from(STRANGER), telegramFirstName: 'Bob', text: 'Hi, Bob here' };
    expect(await byFirstName.reply(update(), conversation, message)).toBe('stored');
    const stored = await new MessageRepository(database.db).findAgentMessage(
      DEFAULT_TENANT_ID,
      GROUP,
      message.messageId,
    );
    expect(stored?.author_name).toBe('Bob');
    expect((await current(conversation)).claimed_by_name).toBe('Bob');
  });

  it('lets an agent set their own display name with /name, in a topic or in General, keeping role and state', async () => {
    const open_ = new AgentDesk(fixture.uow, {
      allowUnknownAgents: true,
      requireClaim: false,
      defaultGroupId: GROUP,
    });
    const agents = new AgentRepository(database.db);
    const NEWCOMER = 7100;
    const conversation = await open();
    const name = (user: number, args: string) =>
      open_.command(update(), conversation, from(user), { name: 'name', args });

    expect(await name(NEWCOMER, '')).toBe('refused');
    expect(await name(NEWCOMER, 'x'.repeat(65))).toBe('refused');
    expect(await agents.findByTelegramUser(DEFAULT_TENANT_ID, NEWCOMER)).toBeUndefined();
    expect(await name(NEWCOMER, '  Dana  ')).toBe('command');
    expect(await lastPost(conversation)).toBe('Visitors now see you as “Dana”.');
    expect(await open_.identify(NEWCOMER)).toMatchObject({ agent: { name: 'Dana' } });

    // In General, once per update; a registered agent keeps their role.
    await agents.upsert({
      tenantId: DEFAULT_TENANT_ID,
      telegramUserId: NEWCOMER,
      displayName: 'Dana',
      role: 'admin',
    });
    const ref = update();
    expect(await open_.setName(ref, { telegramUserId: NEWCOMER }, 'Dana K.')).toEqual({
      outcome: 'command',
      text: 'Visitors now see you as “Dana K.”.',
    });
    expect((await open_.setName(ref, { telegramUserId: NEWCOMER }, 'Other')).outcome).toBe(
      'duplicate',
    );
    expect(await agents.findByTelegramUser(DEFAULT_TENANT_ID, NEWCOMER)).toMatchObject({
      display_name: 'Dana K.',
      role: 'admin',
      active: true,
    });

    // Where only registered agents may answer, nobody registers themselves; inactive stay so.
    expect((await desk.setName(update(), { telegramUserId: STRANGER }, 'Eve')).outcome).toBe(
      'refused',
    );
    expect(await agents.findByTelegramUser(DEFAULT_TENANT_ID, STRANGER)).toBeUndefined();
    expect((await desk.setName(update(), { telegramUserId: CAROL }, 'Caz')).outcome).toBe(
      'refused',
    );
  });

  it('marks an update that changes nothing as handled, once', async () => {
    const ref = update();
    expect(await desk.markProcessed(ref)).toBe(true);
    expect(await desk.markProcessed(ref)).toBe(false);
  });

  it('counts open and unclaimed conversations for /stats', async () => {
    const stats = await desk.stats(new Date(Date.now() - 3_600_000));
    const all = await database.db
      .selectFrom('conversations')
      .select(['status', 'claimed_at'])
      .execute();
    expect(stats.open).toBe(all.filter((c) => c.status === 'open').length);
    expect(stats.unclaimed).toBe(
      all.filter((c) => c.status === 'open' && c.claimed_at === null).length,
    );
    expect(stats.medianFirstResponseMs).not.toBeNull();
    expect(stats.pending.count).toBe(0);
  });
});
