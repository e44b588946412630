import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  appendMessage,
  ConversationRepository,
  DEFAULT_TENANT_ID,
  SlaRepository,
  type Conversation,
  type ConversationPriority,
  type Database,
  type MessageKind,
  type OutboxRow,
} from '@topicdesk/data';
import { createLogger } from '@topicdesk/telemetry';
import { unitOfWorkFixture, type UnitOfWorkFixture } from './unit-of-work-fixture';
import {
  ConversationService,
  Escalation,
  Housekeeping,
  Reports,
  SlaMonitor,
  SlaSettingsService,
  slaEscalator,
  type SlaEscalator,
  type SlaSettings,
} from '../src/index';

const SECOND = 1000;
const logger = createLogger({ service: 'core-sla-test', level: 'silent' });

/** An escalator that records what it is asked, failing while `failing` is set. */
class RecordingEscalator implements SlaEscalator {
  readonly calls: Array<{ conversationId: string; reason: string }> = [];
  failing = false;
  escalate(_tenantId: string, conversationId: string, reason: string): Promise<void> {
    this.calls.push({ conversationId, reason });
    return this.failing ? Promise.reject(new Error('escalation is down')) : Promise.resolve();
  }
}

describe('SLA targets, reminders and breach notices', () => {
  let fixture: UnitOfWorkFixture;
  let database: Database;
  let published: OutboxRow[];
  let service: ConversationService;
  let settings: SlaSettingsService;
  let nextTopic = 1;

  beforeAll(async () => {
    fixture = await unitOfWorkFixture('core-sla');
    ({ database, published } = fixture);
    service = new ConversationService(fixture.uow);
    settings = new SlaSettingsService(fixture.uow);
  });

  afterEach(async () => {
    // Each test reads the clock where it likes: what an earlier test left open is closed.
    await database.db.updateTable('conversations').set({ status: 'closed' }).execute();
    await database.db.deleteFrom('business_hours').execute();
  });

  afterAll(() => fixture.close());

  const monitor = (options: { escalator?: SlaEscalator; batch?: number } = {}) =>
    new SlaMonitor({
      uow: fixture.uow,
      logger,
      autoEscalate: options.escalator !== undefined,
      escalator: options.escalator,
      batch: options.batch,
    });
  const setTargets = (targets: SlaSettings['targets'], remindAtPercent: number | null = 80) =>
    settings.set(DEFAULT_TENANT_ID, 'test', { targets, remindAtPercent });

  /** A conversation with a topic whose visitor wrote first at `at`. */
  const open = async (at: Date, priority: ConversationPriority = 'normal') => {
    const started = await service.start({ tenantId: DEFAULT_TENANT_ID, channel: 'web' });
    const conversations = new ConversationRepository(database.db);
    await conversations.setTopic(DEFAULT_TENANT_ID, started.id, nextTopic++);
    await database.db
      .updateTable('conversations')
      .set({ priority, created_at: at })
      .where('id', '=', started.id)
      .execute();
    await write(started, 'visitor', at);
    return conversations.get(DEFAULT_TENANT_ID, started.id);
  };
  const write = (conversation: Conversation, kind: MessageKind, at: Date) =>
    database.db.transaction().execute((trx) =>
      appendMessage(trx, {
        tenantId: DEFAULT_TENANT_ID,
        conversationId: conversation.id,
        kind,
        text: `${kind} at ${at.toISOString()}`,
        delivery: 'none',
        at,
      }),
    );
  const posts = async (conversation: Conversation) =>
    (
      await database.db
        .selectFrom('telegram_posts')
        .select(['text', 'entities'])
        .where('conversation_id', '=', conversation.id)
        .orderBy('id')
        .execute()
    ).filter((p) => p.text.includes('SLA'));
  const events = (conversation: Conversation) =>
    new SlaRepository(database.db)
      .events(DEFAULT_TENANT_ID, conversation.id)
      .then((rows) => rows.map((e) => `${e.target}:${e.kind}`));

  it('keeps its targets per priority through the settings, audited', async () => {
    expect(await settings.get(DEFAULT_TENANT_ID)).toEqual({
      remindAtPercent: 80,
      targets: {},
      updatedAt: null,
    });
    const saved = await setTargets({
      high: { firstResponseSeconds: 300, resolutionSeconds: null, businessHours: false },
      // No target at all: the same as leaving the priority out.
      low: { firstResponseSeconds: null, resolutionSeconds: null, businessHours: true },
    });
    expect(saved.targets).toEqual({
      high: { firstResponseSeconds: 300, resolutionSeconds: null, businessHours: false },
    });
    expect(await settings.get(DEFAULT_TENANT_ID)).toEqual(saved);
    const audit = await database.db
      .selectFrom('audit_log')
      .select('action')
      .where('action', '=', 'sla.update')
      .execute();
    expect(audit).toHaveLength(1);
  });

  it('reminds at the share of the target, announces the breach once, and stops the first-response clock at the first reply', async () => {
    await setTargets({
      normal: { firstResponseSeconds: 600, resolutionSeconds: 3600, businessHours: false },
    });
    const t0 = new Date('2026-12-01T10:00:00Z');
    const at = (seconds: number) => new Date(t0.getTime() + seconds * SECOND);
    const conversation = await open(t0);
    const sla = monitor();
    const before = published.length;

    expect(await sla.run(at(470))).toEqual({ reminders: 0, breaches: 0, escalations: 0 });
    expect(await sla.run(at(480))).toMatchObject({ reminders: 1, breaches: 0 });
    expect(await sla.run(at(500))).toMatchObject({ reminders: 0, breaches: 0 });
    // Meeting the target to the second is meeting it.
    expect(await sla.run(at(600))).toMatchObject({ reminders: 0, breaches: 0 });
    expect(await sla.run(at(601))).toMatchObject({ reminders: 0, breaches: 1 });
    expect(await sla.run(at(700))).toMatchObject({ reminders: 0, breaches: 0 });
    expect(await events(conversation)).toEqual([
      'first_response:reminder',
      'first_response:breach',
    ]);
    expect((await posts(conversation)).map((p) => p.text)).toEqual([
      `⏳ SLA: ${conversation.ticket} first response due in 2 min (target 10 min, normal priority).`,
      `🚨 SLA breached: ${conversation.ticket} first response target (10 min, normal priority) has passed.`,
    ]);
    // Each post is announced to the bridge (a sync of the conversation).
    expect(
      published
        .slice(before)
        .filter(
          (row) =>
            row.topic === 'conversationSync' &&
            (row.payload as { conversationId?: string }).conversationId === conversation.id,
        ),
    ).toHaveLength(2);
    const audit = await database.db
      .selectFrom('audit_log')
      .select(['action', 'details'])
      .where('conversation_id', '=', conversation.id)
      .execute();
    expect(audit).toEqual([
      {
        action: 'conversation.sla_breach',
        details: {
          target: 'first_response',
          priority: 'normal',
          targetSeconds: 600,
          businessHours: false,
        },
      },
    ]);

    // Another conversation answered in time has nothing to fear from its first-response target.
    const answered = await open(t0);
    await write(answered, 'agent', at(300));
    expect(await sla.run(at(2900))).toMatchObject({ reminders: 2, breaches: 0 });
    expect(await events(answered)).toEqual(['resolution:reminder']);
    expect(await sla.run(at(3601))).toMatchObject({ breaches: 2 });
    expect(await events(answered)).toEqual(['resolution:reminder', 'resolution:breach']);
  });

  it('mentions the agent who holds the conversation', async () => {
    await setTargets({
      high: { firstResponseSeconds: 60, resolutionSeconds: null, businessHours: false },
    });
    const t0 = new Date('2026-12-01T12:00:00Z');
    const conversation = await open(t0, 'high');
    await new ConversationRepository(database.db).setClaim(
      DEFAULT_TENANT_ID,
      conversation.id,
      { agentId: null, telegramUserId: 7001, name: 'Alice M.' },
      t0,
    );
    await monitor().run(new Date(t0.getTime() + 61 * SECOND));
    const [breach] = await posts(conversation);
    expect(breach?.text).toMatch(/^🚨 SLA breached: .* has passed\.\n👤 Alice M\.$/);
    expect(breach?.entities).toEqual([
      {
        type: 'text_mention',
        offset: breach!.text.indexOf('Alice'),
        length: 'Alice M.'.length,
        user: { id: 7001, first_name: 'Alice M.' },
      },
    ]);
  });

  it('counts business hours across a weekend when the priority says so', async () => {
    // Berlin is UTC+1 in December: 09:00–17:00 there is 08:00–16:00 UTC.
    await new Reports(fixture.uow).setBusinessHours(
      DEFAULT_TENANT_ID,
      'test',
      'Europe/Berlin',
      [1, 2, 3, 4, 5].map((day) => ({ day, start: '09:00', end: '17:00' })),
    );
    await setTargets(
      { normal: { firstResponseSeconds: 3600, resolutionSeconds: null, businessHours: true } },
      50,
    );
    // Friday 2026-12-04, 16:30 in Berlin: 30 business minutes before the weekend.
    const conversation = await open(new Date('2026-12-04T15:30:00Z'));
    const sla = monitor();
    // The whole weekend passes: still 30 minutes, which is the reminder's 50 %.
    expect(await sla.run(new Date('2026-12-06T22:00:00Z'))).toMatchObject({
      reminders: 1,
      breaches: 0,
    });
    // Monday 09:29 in Berlin: 59 business minutes.
    expect(await sla.run(new Date('2026-12-07T08:29:00Z'))).toMatchObject({ breaches: 0 });
    // Monday 09:31: past the hour.
    expect(await sla.run(new Date('2026-12-07T08:31:00Z'))).toMatchObject({ breaches: 1 });
    expect((await posts(conversation)).map((p) => p.text)).toEqual([
      `⏳ SLA: ${conversation.ticket} first response due in 30 min (target 1 h, normal priority, business hours).`,
      `🚨 SLA breached: ${conversation.ticket} first response target (1 h, normal priority, business hours) has passed.`,
    ]);
  });

  it('posts each notice exactly once when two scheduler replicas run at the same time', async () => {
    await setTargets(
      { normal: { firstResponseSeconds: 60, resolutionSeconds: 120, businessHours: false } },
      null,
    );
    const t0 = new Date('2026-12-02T10:00:00Z');
    const started: Conversation[] = [];
    for (let i = 0; i < 12; i++) started.push(await open(t0));
    // Small batches, so that the replicas take turns through several units of work each.
    const replicas = [monitor({ batch: 3 }), monitor({ batch: 3 })];
    const now = new Date(t0.getTime() + 300 * SECOND);
    const results = await Promise.all(
      [...replicas, ...replicas].map((replica) => replica.run(now)),
    );
    expect(results.reduce((sum, r) => sum + r.breaches, 0)).toBe(24);
    expect(results.reduce((sum, r) => sum + r.reminders, 0)).toBe(0);
    for (const conversation of started) {
      expect((await events(conversation)).sort()).toEqual([
        'first_response:breach',
        'resolution:breach',
      ]);
      expect(await posts(conversation)).toHaveLength(2);
    }
  });

  it('hands each breach to the escalator once, retrying a failure on later runs a bounded number of times', async () => {
    await setTargets(
      { high: { firstResponseSeconds: 60, resolutionSeconds: null, businessHours: false } },
      null,
    );
    const t0 = new Date('2026-12-03T10:00:00Z');
    const conversation = await open(t0, 'high');
    const escalator = new RecordingEscalator();
    const later = (seconds: number) => new Date(t0.getTime() + seconds * SECOND);
    expect(await monitor({ escalator }).run(later(61))).toEqual({
      reminders: 0,
      breaches: 1,
      escalations: 1,
    });
    expect(await monitor({ escalator }).run(later(120))).toMatchObject({ escalations: 0 });
    expect(escalator.calls).toEqual([
      {
        conversationId: conversation.id,
        reason: 'SLA breached: first response target of 60 s (high priority)',
      },
    ]);

    // Without SLA_AUTO_ESCALATE (no escalator handed in) a breach is announced only.
    const quiet = await open(t0, 'high');
    await monitor().run(later(61));
    expect(await events(quiet)).toEqual(['first_response:breach']);
    await monitor({ escalator }).run(later(62));
    expect(escalator.calls.map((c) => c.conversationId)).not.toContain(quiet.id);

    const failing = new RecordingEscalator();
    failing.failing = true;
    const unlucky = await open(t0, 'high');
    for (let run = 0; run < 7; run++) await monitor({ escalator: failing }).run(later(61 + run));
    expect(failing.calls.filter((c) => c.conversationId === unlucky.id)).toHaveLength(5);
    const [breach] = await new SlaRepository(database.db).events(DEFAULT_TENANT_ID, unlucky.id);
    expect(breach).toMatchObject({
      escalation: 'failed',
      escalation_attempts: 5,
      escalation_error: 'escalation is down',
    });
  });

  it("escalates a breached conversation one level up with core's escalation (SLA_AUTO_ESCALATE's default)", async () => {
    await setTargets(
      { high: { firstResponseSeconds: 60, resolutionSeconds: null, businessHours: false } },
      null,
    );
    const t0 = new Date('2026-12-04T10:00:00Z');
    const conversation = await open(t0, 'high');
    const escalator = slaEscalator(() => new Escalation(fixture.uow, { defaultGroupId: -1001 }));
    expect(await monitor({ escalator }).run(new Date(t0.getTime() + 61 * SECOND))).toMatchObject({
      breaches: 1,
      escalations: 1,
    });
    const moved = await database.db
      .selectFrom('conversations')
      .select('level')
      .where('id', '=', conversation.id)
      .executeTakeFirstOrThrow();
    expect(moved.level).toBe(2);
    const audit = await database.db
      .selectFrom('audit_log')
      .select(['actor_type', 'details'])
      .where('conversation_id', '=', conversation.id)
      .where('action', '=', 'conversation.escalate')
      .executeTakeFirstOrThrow();
    expect(audit.details).toMatchObject({ from: 1, to: 2, by: 'sla' });
    const [breach] = await new SlaRepository(database.db).events(
      DEFAULT_TENANT_ID,
      conversation.id,
    );
    expect(breach).toMatchObject({ escalation: 'done' });
  });

  it("leaves conversations of priorities with targets to the SLA's reminders, and reminds the others as before", async () => {
    await setTargets({
      high: { firstResponseSeconds: 600, resolutionSeconds: null, businessHours: false },
    });
    const t0 = new Date(Date.now() - 3_600_000);
    const high = await open(t0, 'high');
    const normal = await open(t0, 'normal');
    const reminded = await new Housekeeping(fixture.uow).remindUnclaimed({
      waitingBefore: new Date(),
      reminder: 1,
      minutes: 5,
      pin: false,
      at: new Date(),
    });
    expect(reminded).toBe(1);
    const conversations = new ConversationRepository(database.db);
    expect((await conversations.get(DEFAULT_TENANT_ID, normal.id)).reminders_sent).toBe(1);
    expect((await conversations.get(DEFAULT_TENANT_ID, high.id)).reminders_sent).toBe(0);
  });
});
