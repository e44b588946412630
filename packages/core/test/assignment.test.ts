import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AgentRepository,
  AgentTeamRepository,
  AuditRepository,
  ConversationRepository,
  DEFAULT_TENANT_ID,
  SupportGroupRepository,
  TelegramPostRepository,
  type AgentPresence,
  type Conversation,
  type ConversationPriority,
  type Database,
} from '@topicdesk/data';
import { unitOfWorkFixture, type UnitOfWorkFixture } from './unit-of-work-fixture';
import {
  AgentDesk,
  Assignment,
  awayWhenIdle,
  ConversationService,
  type AssignmentOptions,
} from '../src/index';

const T = DEFAULT_TENANT_ID;
const GROUP = -1001000000300;
const L2_GROUP = -1001000000302;
const ALICE = 7101;
const BOB = 7102;
const CAROL = 7103;

describe('automatic assignment (real Postgres)', () => {
  let fixture: UnitOfWorkFixture;
  let database: Database;
  let service: ConversationService;
  let assignment: Assignment;
  let nextUpdate = 1;
  const options: AssignmentOptions = { mode: 'auto', defaultCapacity: 2, defaultGroupId: GROUP };

  beforeEach(async () => {
    fixture = await unitOfWorkFixture('core-assign');
    database = fixture.database;
    service = new ConversationService(fixture.uow);
    assignment = new Assignment(fixture.uow, options);
  });
  afterEach(() => fixture.close());

  const agent = async (
    telegramUserId: number,
    name: string,
    settings: {
      capacity?: number | null;
      presence?: AgentPresence;
      groupChatId?: number | null;
      level?: number | null;
    } = {},
  ) => {
    const saved = await new AgentRepository(database.db).upsert({
      tenantId: T,
      telegramUserId,
      displayName: name,
      capacity: settings.capacity,
      groupChatId: settings.groupChatId,
      level: settings.level,
    });
    await new AgentTeamRepository(database.db).setPresence(
      T,
      telegramUserId,
      settings.presence ?? 'online',
      new Date(),
    );
    return saved;
  };
  /** A conversation started `ageMinutes` ago (queue order is by age), with a priority. */
  const conversation = async (
    input: { ageMinutes?: number; priority?: ConversationPriority; groupChatId?: number } = {},
  ): Promise<Conversation> => {
    const started = await service.start({ tenantId: T, channel: 'web' });
    await database.db
      .updateTable('conversations')
      .set({
        created_at: new Date(Date.now() - (input.ageMinutes ?? 0) * 60_000),
        priority: input.priority ?? 'normal',
        group_chat_id: input.groupChatId ?? null,
      })
      .where('id', '=', started.id)
      .execute();
    return started;
  };
  const holder = async (c: Conversation) =>
    (await new ConversationRepository(database.db).get(T, c.id)).claimed_by_telegram_user_id;
  const claim = (c: Conversation, telegramUserId: number, name: string, agentId: number) =>
    fixture.uow.run((work) =>
      service.claim(work, {
        tenantId: T,
        conversationId: c.id,
        agent: { agentId, telegramUserId, name },
      }),
    );
  const close = (c: Conversation) =>
    fixture.uow.run((work) =>
      service.close(work, {
        tenantId: T,
        conversationId: c.id,
        actor: { type: 'agent', id: String(ALICE) },
        reason: 'agent',
        templateKey: 'closed_note',
      }),
    );

  it('gives a new conversation to the online agent with the most free places', async () => {
    const alice = await agent(ALICE, 'Alice', { capacity: 3 });
    await agent(BOB, 'Bob', { capacity: 2 });
    // Alice holds two of three (one free), Bob none of two (two free).
    for (const held of [
      await conversation({ ageMinutes: 9 }),
      await conversation({ ageMinutes: 8 }),
    ])
      await claim(held, ALICE, 'Alice', alice.id);
    const next = await conversation();
    expect(await assignment.drain()).toBe(1);
    expect(await holder(next)).toBe(BOB);
  });

  it('breaks ties by the longest wait since the last assignment, never-assigned first', async () => {
    const alice = await agent(ALICE, 'Alice', { capacity: 2 });
    const bob = await agent(BOB, 'Bob', { capacity: 2 });
    await agent(CAROL, 'Carol', { capacity: 1 });
    // Alice and Bob both hold one; Bob's claim is the older one. Carol has one free place too.
    const a = await conversation({ ageMinutes: 30 });
    const b = await conversation({ ageMinutes: 31 });
    await claim(b, BOB, 'Bob', bob.id);
    await database.db
      .updateTable('conversations')
      .set({ claimed_at: new Date(Date.now() - 20 * 60_000) })
      .where('id', '=', b.id)
      .execute();
    await claim(a, ALICE, 'Alice', alice.id);
    const first = await conversation({ ageMinutes: 2 });
    const second = await conversation({ ageMinutes: 1 });
    const third = await conversation();
    expect(await assignment.drain()).toBe(3);
    // One free place each: Carol was never assigned, then Bob waited longer than Alice.
    expect(await holder(first)).toBe(CAROL);
    expect(await holder(second)).toBe(BOB);
    expect(await holder(third)).toBe(ALICE);
  });

  it('serves a conversation only with agents of its group and level (no group: all)', async () => {
    await new SupportGroupRepository(database.db).upsert({
      tenantId: T,
      chatId: L2_GROUP,
      level: 2,
    });
    await agent(ALICE, 'Alice', { capacity: 5, level: 2 });
    await agent(BOB, 'Bob', { capacity: 5, groupChatId: GROUP });
    await agent(CAROL, 'Carol', { capacity: 1 });
    const inDefault = await conversation({ ageMinutes: 3 });
    const inL2 = await conversation({ ageMinutes: 2, groupChatId: L2_GROUP });
    const secondInL2 = await conversation({ ageMinutes: 1, groupChatId: L2_GROUP });
    expect(await assignment.drain()).toBe(3);
    // Bob serves the default group only, Alice level 2 only; Carol (everything) has one place.
    expect(await holder(inDefault)).toBe(BOB);
    expect(await holder(inL2)).toBe(ALICE);
    expect(await holder(secondInL2)).toBe(ALICE);
  });

  it('keeps a queue by priority then age, and fills places as they free up', async () => {
    await agent(ALICE, 'Alice', { capacity: 1 });
    const oldLow = await conversation({ ageMinutes: 30, priority: 'low' });
    const oldNormal = await conversation({ ageMinutes: 20 });
    const newNormal = await conversation({ ageMinutes: 10 });
    const newHigh = await conversation({ ageMinutes: 1, priority: 'high' });
    expect(await assignment.drain()).toBe(1);
    expect(await holder(newHigh)).toBe(ALICE);
    let held = newHigh;
    for (const next of [oldNormal, newNormal, oldLow]) {
      // The agent closes what they hold: the next in the queue is theirs.
      await close(held);
      expect(await holder(next)).toBeNull();
      expect(await assignment.drain()).toBe(1);
      expect(await holder(next)).toBe(ALICE);
      held = next;
    }
  });

  it('gives nothing to away or offline agents, and assigns when one comes online', async () => {
    await agent(ALICE, 'Alice', { capacity: 2, presence: 'away' });
    await agent(BOB, 'Bob', { capacity: 2, presence: 'offline' });
    const waiting = await conversation();
    expect(await assignment.drain()).toBe(0);
    expect(await holder(waiting)).toBeNull();

    const desk = new AgentDesk(fixture.uow, {
      allowUnknownAgents: false,
      requireClaim: false,
      defaultGroupId: GROUP,
      assignment: options,
    });
    const online = await desk.setPresence(
      { botId: 'main', updateId: nextUpdate++ },
      { telegramUserId: ALICE },
      'online',
    );
    expect(online.outcome).toBe('command');
    expect(online.text).toBe('You are now 🟢 online · 1 of 2 open conversations.');
    expect(await holder(waiting)).toBe(ALICE);
    // The topic is told, and the agent mentioned (Telegram notifies them).
    const [post] = await new TelegramPostRepository(database.db).pending(
      DEFAULT_TENANT_ID,
      waiting.id,
    );
    expect(post?.text).toBe('📌 Assigned to Alice.');
    expect(post?.entities).toEqual([
      { type: 'text_mention', offset: 15, length: 5, user: { id: ALICE, first_name: 'Alice' } },
    ]);
    const audit = await new AuditRepository(database.db).list(T, { limit: 20 });
    expect(audit.map((e) => e.action)).toEqual(
      expect.arrayContaining(['agent.presence', 'conversation.assign']),
    );
  });

  it('gives an unclaimed conversation to someone else, and refuses presence to unregistered members', async () => {
    await agent(ALICE, 'Alice', { capacity: 2 });
    await agent(BOB, 'Bob', { capacity: 1 });
    const desk = new AgentDesk(fixture.uow, {
      allowUnknownAgents: true,
      requireClaim: false,
      defaultGroupId: GROUP,
      assignment: options,
    });
    const waiting = await conversation();
    expect(await assignment.drain()).toBe(1);
    expect(await holder(waiting)).toBe(ALICE);
    // Alice gives it back with the header button: Bob gets it in the same unit of work.
    const unclaimed = await desk.button(
      { botId: 'main', updateId: nextUpdate++ },
      { conversationId: waiting.id, action: 'unclaim', telegramUserId: ALICE },
    );
    expect(unclaimed.outcome).toBe('command');
    expect(await holder(waiting)).toBe(BOB);

    const stranger = await desk.setPresence(
      { botId: 'main', updateId: nextUpdate++ },
      { telegramUserId: 7999 },
      'online',
    );
    expect(stranger).toEqual({
      outcome: 'refused',
      text: 'Only registered agents have a status; /name <name> registers you.',
    });
  });

  it('assigns each conversation once and keeps capacities when passes run at once', async () => {
    await agent(ALICE, 'Alice', { capacity: 3 });
    await agent(BOB, 'Bob', { capacity: 2 });
    const started = [];
    for (let i = 0; i < 8; i++) started.push(await conversation({ ageMinutes: 10 - i }));
    const replicas = [0, 1, 2, 3].map(() => new Assignment(fixture.uow, options));
    const counts = await Promise.all(replicas.flatMap((r) => [r.drain(), r.drain()]));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(5);
    const loads = await new AgentTeamRepository(database.db).loads(T, {});
    expect(loads.map((l) => [l.agent.telegram_user_id, l.load])).toEqual([
      [ALICE, 3],
      [BOB, 2],
    ]);
    const assigns = await database.db
      .selectFrom('audit_log')
      .select(['conversation_id'])
      .where('action', '=', 'conversation.assign')
      .execute();
    expect(assigns).toHaveLength(5);
    expect(new Set(assigns.map((a) => a.conversation_id)).size).toBe(5);
  });

  it('does nothing in manual mode', async () => {
    await agent(ALICE, 'Alice');
    const waiting = await conversation();
    const manual = new Assignment(fixture.uow, { ...options, mode: 'manual' });
    expect(await manual.drain()).toBe(0);
    expect(await holder(waiting)).toBeNull();
  });

  it('moves online agents idle too long away, once, however many run it', async () => {
    await agent(ALICE, 'Alice');
    await agent(BOB, 'Bob');
    await database.db
      .updateTable('agents')
      .set({ last_active_at: new Date(Date.now() - 60 * 60_000) })
      .where('telegram_user_id', '=', ALICE)
      .execute();
    const idleSince = new Date(Date.now() - 30 * 60_000);
    const moved = await Promise.all([
      awayWhenIdle(fixture.uow, idleSince, new Date()),
      awayWhenIdle(fixture.uow, idleSince, new Date()),
    ]);
    expect(moved[0] + moved[1]).toBe(1);
    const agents = await new AgentRepository(database.db).list(T);
    expect(agents.map((a) => [a.telegram_user_id, a.presence])).toEqual([
      [ALICE, 'away'],
      [BOB, 'online'],
    ]);
    const audits = await database.db
      .selectFrom('audit_log')
      .select('details')
      .where('action', '=', 'agent.presence')
      .where('actor_type', '=', 'system')
      .execute();
    expect(audits).toHaveLength(1);
  });
});
