import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AgentRepository,
  AgentTeamRepository,
  appendMessage,
  ConversationRepository,
  DEFAULT_TENANT_ID,
  type Conversation,
  type Database,
} from '@topicdesk/data';
import { createLogger } from '@topicdesk/telemetry';
import { unitOfWorkFixture, type UnitOfWorkFixture } from './unit-of-work-fixture';
import {
  Assignment,
  ConversationService,
  directoryRoster,
  Housekeeping,
  SlaMonitor,
  SlaSettingsService,
  TenantDirectory,
  TenantKeyring,
  TenantService,
  tenantSlaEscalator,
  type TenantRoster,
} from '../src/index';

// Issue 16: the scheduler's passes (SLA escalation, assignment, retention) reach every tenant,
// each with its own default group and its own plan's retention; suspended tenants are skipped.

const logger = createLogger({ service: 'core-tenant-sweeps-test', level: 'silent' });
const SECOND = 1000;
const DAY = 86_400_000;
/** The default tenant's group (its environment's SUPPORT_GROUP_ID). */
const HOME_GROUP = -1001000000701;
/** Tenant beta's group (the first of its bundle's supportGroups). */
const BETA_GROUP = -1002000000702;
const BETA = 'beta';
const GAMMA = 'gamma';
const NO_GROUP = 'nogroup';

describe('scheduler passes over every tenant (real Postgres)', () => {
  let fixture: UnitOfWorkFixture;
  let database: Database;
  let service: ConversationService;
  let roster: TenantRoster;
  let nextTopic = 1;

  beforeAll(async () => {
    fixture = await unitOfWorkFixture('core-tenant-sweeps');
    database = fixture.database;
    service = new ConversationService(fixture.uow);
    const keyring = TenantKeyring.fromEnv(`k1:${randomBytes(32).toString('base64')}`, undefined);
    const tenants = new TenantService(fixture.uow, keyring, () => {});
    await tenants.create('platform', {
      id: BETA,
      name: 'Beta',
      secrets: { supportGroups: [String(BETA_GROUP)] },
    });
    await tenants.create('platform', {
      id: GAMMA,
      name: 'Gamma',
      secrets: { supportGroups: [String(BETA_GROUP - 1)] },
    });
    await tenants.setSuspended('platform', GAMMA, true);
    await tenants.create('platform', { id: NO_GROUP, name: 'No group' });
    roster = directoryRoster({
      directory: new TenantDirectory({ db: database.db, keyring, logger }),
      envDefaultGroupId: HOME_GROUP,
      logger,
    });
  });

  afterAll(() => fixture?.close());

  /** An open conversation of `tenantId` with a topic, its visitor's first message at `at`. */
  const open = async (
    tenantId: string,
    at: Date = new Date(),
    priority: 'high' | 'normal' = 'high',
  ): Promise<Conversation> => {
    const started = await service.start({ tenantId, channel: 'web' });
    const conversations = new ConversationRepository(database.db);
    await conversations.setTopic(tenantId, started.id, nextTopic++);
    await database.db
      .updateTable('conversations')
      .set({ priority, created_at: at })
      .where('id', '=', started.id)
      .execute();
    await database.db.transaction().execute((trx) =>
      appendMessage(trx, {
        tenantId,
        conversationId: started.id,
        kind: 'visitor',
        text: 'hello',
        delivery: 'none',
        at,
      }),
    );
    return conversations.get(tenantId, started.id);
  };
  const closeAll = () =>
    database.db.updateTable('conversations').set({ status: 'closed' }).execute();
  const row = (tenantId: string, id: string) =>
    new ConversationRepository(database.db).get(tenantId, id);

  it('the roster: the default tenant keeps its environment, others their bundle; suspended ones are not served', async () => {
    expect(await roster.defaultGroupOf(DEFAULT_TENANT_ID)).toBe(HOME_GROUP);
    expect(await roster.defaultGroupOf(BETA)).toBe(BETA_GROUP);
    expect(await roster.defaultGroupOf(NO_GROUP)).toBeUndefined();
    expect(await roster.defaultGroupOf('nobody')).toBeUndefined();
    expect(await roster.served(DEFAULT_TENANT_ID)).toBe(true);
    expect(await roster.served(BETA)).toBe(true);
    expect(await roster.served(GAMMA)).toBe(false);
    expect(await roster.served('nobody')).toBe(false);
  });

  it("escalates every tenant's breached conversations in that tenant; one without a default group records why", async () => {
    const settings = new SlaSettingsService(fixture.uow);
    const targets = {
      high: { firstResponseSeconds: 60, resolutionSeconds: null, businessHours: false },
    };
    for (const tenantId of [DEFAULT_TENANT_ID, BETA, NO_GROUP, GAMMA])
      await settings.set(tenantId, 'test', { targets, remindAtPercent: null });
    const t0 = new Date('2026-12-04T10:00:00Z');
    const home = await open(DEFAULT_TENANT_ID, t0);
    const beta = await open(BETA, t0);
    const orphan = await open(NO_GROUP, t0);
    // Suspended: its topics get no notice (nothing of the tenant is served).
    const suspended = await open(GAMMA, t0);

    const monitor = new SlaMonitor({
      uow: fixture.uow,
      logger,
      autoEscalate: true,
      escalator: tenantSlaEscalator({ uow: fixture.uow, roster }),
    });
    expect(await monitor.run(new Date(t0.getTime() + 61 * SECOND))).toEqual({
      reminders: 0,
      breaches: 3,
      escalations: 2,
    });
    expect((await row(DEFAULT_TENANT_ID, home.id)).level).toBe(2);
    expect((await row(BETA, beta.id)).level).toBe(2);
    expect((await row(NO_GROUP, orphan.id)).level).toBe(1);
    expect((await row(GAMMA, suspended.id)).level).toBe(1);
    expect(
      await database.db
        .selectFrom('sla_events')
        .select('kind')
        .where('conversation_id', '=', suspended.id)
        .execute(),
    ).toEqual([]);

    const audits = await database.db
      .selectFrom('audit_log')
      .select(['tenant_id', 'conversation_id'])
      .where('action', '=', 'conversation.escalate')
      .execute();
    expect(audits).toEqual(
      expect.arrayContaining([
        { tenant_id: DEFAULT_TENANT_ID, conversation_id: home.id },
        { tenant_id: BETA, conversation_id: beta.id },
      ]),
    );
    expect(audits).toHaveLength(2);
    const event = await database.db
      .selectFrom('sla_events')
      .select(['escalation', 'escalation_error'])
      .where('conversation_id', '=', orphan.id)
      .where('kind', '=', 'breach')
      .executeTakeFirstOrThrow();
    expect(event.escalation).toBe('pending');
    expect(event.escalation_error).toMatch(/no default support group/);
    await closeAll();
  });

  it("assigns each served tenant's queue with its own default group, and skips a suspended tenant", async () => {
    const agent = async (tenantId: string, telegramUserId: number, groupChatId: number) => {
      await new AgentRepository(database.db).upsert({
        tenantId,
        telegramUserId,
        displayName: `agent ${telegramUserId}`,
        groupChatId,
      });
      await new AgentTeamRepository(database.db).setPresence(
        tenantId,
        telegramUserId,
        'online',
        new Date(),
      );
    };
    // Each agent serves only their tenant's default group; the conversations have no group of
    // their own, so they are theirs only if the pass knows that tenant's default group.
    await agent(DEFAULT_TENANT_ID, 8101, HOME_GROUP);
    await agent(BETA, 8102, BETA_GROUP);
    await agent(GAMMA, 8103, BETA_GROUP - 1);
    const home = await open(DEFAULT_TENANT_ID);
    const beta = await open(BETA);
    const gamma = await open(GAMMA);

    const assignment = new Assignment(fixture.uow, { mode: 'auto', defaultCapacity: 2, roster });
    expect(await assignment.drainAll()).toBe(2);
    expect((await row(DEFAULT_TENANT_ID, home.id)).claimed_by_telegram_user_id).toBe(8101);
    expect((await row(BETA, beta.id)).claimed_by_telegram_user_id).toBe(8102);
    expect((await row(GAMMA, gamma.id)).claimed_by_telegram_user_id).toBeNull();
    await closeAll();
  });

  it("reminds every active tenant's unclaimed topics, not a suspended tenant's", async () => {
    const waiting = new Date(Date.now() - 10 * 60_000);
    const home = await open(DEFAULT_TENANT_ID, waiting, 'normal');
    const beta = await open(BETA, waiting, 'normal');
    const gamma = await open(GAMMA, waiting, 'normal');
    await database.db
      .updateTable('conversations')
      .set({ waiting_since: waiting })
      .where('id', 'in', [home.id, beta.id, gamma.id])
      .execute();
    const reminded = await new Housekeeping(fixture.uow).remindUnclaimed({
      waitingBefore: new Date(Date.now() - 5 * 60_000),
      reminder: 1,
      minutes: 5,
      pin: false,
      at: new Date(),
    });
    expect(reminded).toBe(2);
    expect((await row(DEFAULT_TENANT_ID, home.id)).reminders_sent).toBe(1);
    expect((await row(BETA, beta.id)).reminders_sent).toBe(1);
    expect((await row(GAMMA, gamma.id)).reminders_sent).toBe(0);
    await closeAll();
  });

  it("purges each tenant after its plan's retention, else the deployment's", async () => {
    await closeAll();
    await database.db.deleteFrom('conversations').execute();
    const now = new Date();
    const closed = async (tenantId: string, daysAgo: number) => {
      const conversation = await open(tenantId);
      await database.db
        .updateTable('conversations')
        .set({ status: 'closed', closed_at: new Date(now.getTime() - daysAgo * DAY) })
        .where('id', '=', conversation.id)
        .execute();
      return conversation.id;
    };
    await database.db
      .updateTable('tenants')
      .set({ limits: JSON.stringify({ retentionDays: 1 }) })
      .where('id', '=', BETA)
      .execute();
    const homeOld = await closed(DEFAULT_TENANT_ID, 2);
    await closed(BETA, 2);
    const betaRecent = await closed(BETA, 0.5);

    const housekeeping = new Housekeeping(fixture.uow);
    // The deployment keeps 90 days; beta's plan keeps 1 day: only beta's 2-day-old one goes.
    expect(await housekeeping.purgeClosed({ now, retentionMs: 90 * DAY }, 'keep')).toBe(1);
    const left = async () =>
      (await database.db.selectFrom('conversations').select('id').execute()).map((c) => c.id);
    expect((await left()).sort()).toEqual([homeOld, betaRecent].sort());

    // 91 days on, both tenants' conversations are past their retention.
    const later = new Date(now.getTime() + 91 * DAY);
    expect(await housekeeping.purgeClosed({ now: later, retentionMs: 90 * DAY }, 'keep')).toBe(2);
    expect(await left()).toEqual([]);
    const purges = await database.db
      .selectFrom('audit_log')
      .select('tenant_id')
      .where('action', '=', 'conversation.purge')
      .execute();
    expect(purges.map((p) => p.tenant_id).sort()).toEqual([BETA, BETA, DEFAULT_TENANT_ID].sort());
  });
});
