import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AgentRepository,
  AgentTeamRepository,
  AuditRepository,
  ConversationRepository,
  DEFAULT_TENANT_ID,
  EscalationRepository,
  MessageRepository,
  ReportRepository,
  SupportGroupRepository,
  TelegramPostRepository,
  TemplateRepository,
  type Conversation,
  type Database,
  type TelegramPost,
} from '@topicdesk/data';
import { unitOfWorkFixture, type UnitOfWorkFixture } from './unit-of-work-fixture';
import {
  AgentDesk,
  ConversationService,
  Escalation,
  EscalationRefusal,
  TRANSCRIPT_MESSAGES,
  type AssignmentOptions,
  type TopicMessage,
} from '../src/index';

const T = DEFAULT_TENANT_ID;
const GROUP = -1001000000400;
const L2_GROUP = -1001000000402;
const L3_GROUP = -1001000000403;
const ALICE = 7201; // L1
const BOB = 7202; // L2
const CAROL = 7203; // L3

describe('escalation (real Postgres)', () => {
  let fixture: UnitOfWorkFixture;
  let database: Database;
  let service: ConversationService;
  let nextUpdate = 1;
  let nextMessage = 500;
  let nextTopic = 40;

  beforeEach(async () => {
    fixture = await unitOfWorkFixture('core-escalate');
    database = fixture.database;
    service = new ConversationService(fixture.uow);
    const agents = new AgentRepository(database.db);
    for (const [telegramUserId, displayName, level] of [
      [ALICE, 'Alice', 1],
      [BOB, 'Bob', 2],
      [CAROL, 'Carol', 3],
    ] as const) {
      await agents.upsert({ tenantId: T, telegramUserId, displayName, level, capacity: 3 });
      await new AgentTeamRepository(database.db).setPresence(
        T,
        telegramUserId,
        'online',
        new Date(),
      );
    }
  });
  afterEach(() => fixture.close());

  const desk = (assignment?: AssignmentOptions) =>
    new AgentDesk(fixture.uow, {
      allowUnknownAgents: false,
      requireClaim: false,
      defaultGroupId: GROUP,
      assignment,
    });
  const update = () => ({ botId: 'main-bot', updateId: nextUpdate++ });
  const from = (telegramUserId: number, chatId = GROUP): TopicMessage => ({
    chatId,
    messageId: nextMessage++,
    telegramUserId,
  });
  /** A web conversation with a topic in the default group, as the bridge's sync leaves it. */
  const open = async (): Promise<Conversation> => {
    const started = await service.start({ tenantId: T, channel: 'web', locale: 'en' });
    const conversations = new ConversationRepository(database.db);
    await conversations.setTopic(T, started.id, nextTopic++);
    return conversations.get(T, started.id);
  };
  const current = (c: Conversation) => new ConversationRepository(database.db).get(T, c.id);
  const posts = (c: Conversation): Promise<TelegramPost[]> =>
    new TelegramPostRepository(database.db).pending(DEFAULT_TENANT_ID, c.id);
  const escalateCommand = async (c: Conversation, by: number, args = '', d = desk()) =>
    d.command(update(), await current(c), from(by, (await current(c)).group_chat_id ?? GROUP), {
      name: 'escalate',
      args,
    });
  const audits = async (c: Conversation) =>
    (await new AuditRepository(database.db).list(T, { limit: 100 }))
      .filter((e) => e.conversation_id === c.id && e.action === 'conversation.escalate')
      .sort((a, b) => Number(a.id) - Number(b.id));
  const systemMessages = async (c: Conversation) =>
    (await new MessageRepository(database.db).listAfter(DEFAULT_TENANT_ID, c.id, 0, 100)).filter(
      (m) => m.kind === 'system',
    );
  /** A visitor text the topic showed (delivered), or still waiting for Telegram (pending). */
  const visitorText = async (c: Conversation, text: string, delivered = true) => {
    const { message } = await service.postVisitorMessage({
      tenantId: T,
      conversationId: c.id,
      clientId: `c-${nextMessage++}`,
      text,
    });
    if (delivered)
      await new MessageRepository(database.db).markDelivered(
        DEFAULT_TENANT_ID,
        [message.id],
        GROUP,
        nextMessage++,
      );
  };

  describe('with one group', () => {
    it('raises the level in the same topic, mentions the next level’s agents, releases the claim and tells the visitor nothing', async () => {
      const conversation = await open();
      await desk().reply(update(), conversation, { ...from(ALICE), text: 'Let me check' });
      expect((await current(conversation)).claimed_by_telegram_user_id).toBe(ALICE);

      expect(await escalateCommand(conversation, ALICE, 'needs a refund')).toBe('command');

      const after = await current(conversation);
      expect(after.level).toBe(2);
      expect(after.group_chat_id).toBeNull();
      expect(after.topic_id).toBe(conversation.topic_id);
      expect(after.claimed_at).toBeNull();
      const arrival = (await posts(conversation)).at(-1);
      expect(arrival?.text).toContain('⬆️ Escalated from L1 to L2 by Alice.');
      // It answers the command.
      expect(arrival?.reply_to_message_id).toBe(nextMessage - 1);
      expect(arrival?.text).toContain('Reason: needs a refund');
      expect(arrival?.text).not.toContain('🧾');
      expect(arrival?.chat_id).toBeNull();
      const text = arrival?.text ?? '';
      const [mention] = arrival?.entities ?? [];
      expect(mention).toMatchObject({ type: 'text_mention', user: { id: BOB } });
      expect(text.slice(mention!.offset, mention!.offset + mention!.length)).toBe('Bob');

      const [entry] = await audits(conversation);
      expect(entry?.actor_type).toBe('agent');
      expect(entry?.actor_id).toBe(String(ALICE));
      expect(entry?.details).toMatchObject({
        from: 1,
        to: 2,
        reason: 'needs a refund',
        by: 'agent',
      });
      const [record] = await new EscalationRepository(database.db).list(T, conversation.id);
      expect(record).toMatchObject({ from_level: 1, to_level: 2, from_topic_id: null });
      // No template `escalated`: nothing for the visitor (the agent's join message only).
      expect((await systemMessages(conversation)).map((m) => m.text)).not.toContainEqual(
        expect.stringContaining('L2'),
      );
    });

    it('counts an escalated conversation at its new level in the report by level', async () => {
      const stays = await open();
      const escalated = await open();
      await escalateCommand(escalated, ALICE);
      const rows = await new ReportRepository(database.db).figures({
        tenantId: T,
        from: new Date(Date.now() - 3_600_000),
        to: new Date(Date.now() + 3_600_000),
        groupBy: 'level',
        timeZone: 'UTC',
        schedule: null,
      });
      expect(rows.map((r) => [r.key, r.conversations])).toEqual([
        ['1', 1],
        ['2', 1],
      ]);
      expect(stays.level).toBe(1);
    });

    it('refuses at L3, and refuses a closed conversation', async () => {
      const conversation = await open();
      expect(await escalateCommand(conversation, ALICE)).toBe('command');
      expect(await escalateCommand(conversation, BOB)).toBe('command');
      expect((await current(conversation)).level).toBe(3);
      expect(await escalateCommand(conversation, CAROL, 'still stuck')).toBe('refused');
      expect((await posts(conversation)).at(-1)?.text).toBe(
        'This conversation is at L3, the highest level; it cannot be escalated further.',
      );
      expect((await current(conversation)).level).toBe(3);
      expect((await audits(conversation)).map((e) => e.details)).toMatchObject([
        { from: 1, to: 2 },
        { from: 2, to: 3 },
      ]);

      const closed = await open();
      await fixture.uow.run((work) =>
        service.close(work, {
          tenantId: T,
          conversationId: closed.id,
          actor: { type: 'agent', id: String(ALICE) },
          reason: 'agent',
          templateKey: 'closed_note',
        }),
      );
      expect(await escalateCommand(closed, ALICE)).toBe('refused');
      expect((await current(closed)).level).toBe(1);
    });

    it('tells the visitor only when the tenant has an `escalated` template', async () => {
      await new TemplateRepository(database.db).upsert({
        tenantId: T,
        key: 'escalated',
        locale: '',
        text: 'A specialist ({level}) will continue with you.',
        wsBanner: false,
        persist: true,
        telegram: false,
        pin: false,
        minIntervalMs: 0,
      });
      const conversation = await open();
      await escalateCommand(conversation, ALICE, 'internal: refund fraud check');
      const texts = (await systemMessages(conversation)).map((m) => m.text);
      expect(texts).toContain('A specialist (L2) will continue with you.');
      expect(texts.join('\n')).not.toContain('fraud');
    });
  });

  describe('with a group per level', () => {
    beforeEach(async () => {
      const groups = new SupportGroupRepository(database.db);
      await groups.upsert({ tenantId: T, chatId: L2_GROUP, level: 2, title: 'Second line' });
      await groups.upsert({ tenantId: T, chatId: L3_GROUP, level: 3 });
    });

    it('moves the conversation to a new topic in the next group with reason and transcript, and leaves a note in the old topic', async () => {
      const conversation = await open();
      await visitorText(conversation, 'My order never came');
      await desk().reply(update(), conversation, { ...from(ALICE), text: 'Which order?' });
      await visitorText(conversation, 'Order 42');
      await visitorText(conversation, 'still waiting', false);

      expect(await escalateCommand(conversation, ALICE, 'carrier issue')).toBe('command');

      const after = await current(conversation);
      expect(after).toMatchObject({
        level: 2,
        group_chat_id: L2_GROUP,
        topic_id: null,
        header_message_id: null,
        claimed_at: null,
      });
      const [moved, arrival] = await posts(conversation);
      // The note answers the command in the old topic; the arrival post goes to the new one.
      expect(moved).toMatchObject({
        chat_id: GROUP,
        thread_id: conversation.topic_id,
        reply_to_message_id: nextMessage - 1,
      });
      expect(moved?.text).toContain('It continues in a new topic in the L2 group “Second line”');
      expect(moved?.text).toContain('Replies here no longer reach the visitor.');
      expect(moved?.text).toContain('Reason: carrier issue');
      expect(arrival?.chat_id).toBeNull();
      expect(arrival?.text).toContain('Reason: carrier issue');
      expect(arrival?.text).toContain(
        '🧾 The last 3 messages before the escalation:\n👤 Visitor: My order never came\n🎧 Alice: Which order?\n👤 Visitor: Order 42',
      );
      // The pending text goes to the new topic itself, not in the transcript.
      expect(arrival?.text).not.toContain('still waiting');
      expect(arrival?.entities?.[0]?.user.id).toBe(BOB);

      // The new topic is the conversation's; the old one answers where it went.
      const d = desk();
      expect(await d.conversationInTopic(GROUP, conversation.topic_id as number)).toBeUndefined();
      const left = await d.movedFrom(GROUP, conversation.topic_id as number);
      expect(left?.id).toBe(conversation.id);
      expect(
        await d.answerInOldTopic(update(), left!, {
          chatId: GROUP,
          threadId: conversation.topic_id as number,
          messageId: 9,
        }),
      ).toBe('refused');
      expect((await posts(conversation)).at(-1)).toMatchObject({
        chat_id: GROUP,
        thread_id: conversation.topic_id,
        text: expect.stringContaining('escalated to L2 and continues in another topic'),
      });

      const [entry] = await audits(conversation);
      expect(entry?.details).toMatchObject({ from: 1, to: 2, fromGroup: GROUP, toGroup: L2_GROUP });
    });

    it('keeps the transcript to the last messages and within one Telegram message', async () => {
      const conversation = await open();
      for (let i = 0; i < TRANSCRIPT_MESSAGES + 5; i++)
        await visitorText(conversation, `message ${i} ${'x'.repeat(300)}`);
      await escalateCommand(conversation, ALICE);
      const arrival = (await posts(conversation)).at(-1);
      expect(arrival?.text.length).toBeLessThanOrEqual(4096);
      expect(arrival?.text).toContain(`message ${TRANSCRIPT_MESSAGES + 4} `);
      expect(arrival?.text).not.toContain('message 4 ');
    });

    it('escalates for the SLA job through the use case, and refuses what it cannot', async () => {
      const escalation = new Escalation(fixture.uow, { defaultGroupId: GROUP });
      const conversation = await open();
      const result = await escalation.escalate(conversation.id, {
        reason: 'first response target breached',
        by: 'sla',
      });
      expect(result).toMatchObject({ ok: true, fromLevel: 1, toLevel: 2, movedToGroup: L2_GROUP });
      const [entry] = await audits(conversation);
      expect(entry).toMatchObject({ actor_type: 'system', actor_id: 'sla' });
      expect(entry?.details).toMatchObject({ by: 'sla', reason: 'first response target breached' });
      expect((await posts(conversation)).at(-1)?.text).toContain('by the SLA job');

      const bob = await new AgentRepository(database.db).findByTelegramUser(T, BOB);
      expect(
        await escalation.escalate(conversation.id, { by: { agentId: bob!.id } }),
      ).toMatchObject({ ok: true, toLevel: 3, movedToGroup: L3_GROUP });
      expect(await escalation.escalate(conversation.id, { by: 'sla' })).toMatchObject({
        ok: false,
        code: EscalationRefusal.topLevel,
      });
      expect(
        await escalation.escalate('00000000-0000-4000-8000-000000000000', { by: 'sla' }),
      ).toMatchObject({ ok: false, code: EscalationRefusal.notFound });
      expect(
        await escalation.escalate((await open()).id, { by: { agentId: 999_999 } }),
      ).toMatchObject({ ok: false, code: EscalationRefusal.unknownAgent });
    });

    it('gives an escalated conversation to an agent of the new level in auto mode', async () => {
      const auto: AssignmentOptions = { mode: 'auto', defaultCapacity: 3, defaultGroupId: GROUP };
      const d = desk(auto);
      const conversation = await open();
      expect(await d.assignWaiting()).toBe(1);
      expect((await current(conversation)).claimed_by_telegram_user_id).toBe(ALICE);
      await escalateCommand(conversation, ALICE, '', d);
      const after = await current(conversation);
      expect(after.level).toBe(2);
      expect(after.claimed_by_telegram_user_id).toBe(BOB);
      expect((await posts(conversation)).map((p) => p.text)).toContainEqual('📌 Assigned to Bob.');
    });
  });
});
