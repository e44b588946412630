import { DeadLetterReason, topics } from '@topicdesk/bus';
import { create, SyncReason, toBinary } from '@topicdesk/contracts';
import { DeadLetterRepository, DEFAULT_TENANT_ID } from '@topicdesk/data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AdminService,
  DeadLetterTopicError,
  storeDeadLetter,
  UnitOfWork,
  type Infrastructure,
  type TemplateSettings,
} from '../src/index';
import { coreFixture, type CoreFixture } from './support/core-fixture';

const ACTOR = 'service-token';
const CONVERSATION = '00000000-0000-4000-8000-0000000000ad';

describe('the admin use cases', () => {
  let fixture: CoreFixture;
  let infra: Infrastructure;
  let admin: AdminService;

  beforeAll(async () => {
    // Replays publish on the fixture's in-process bus.
    fixture = await coreFixture();
    infra = fixture.infra;
    admin = new AdminService(
      new UnitOfWork(infra.database.db, { publish: () => Promise.resolve() }),
      infra.bus,
    );
  });

  afterAll(async () => {
    await fixture?.close();
  });

  const audited = async () =>
    (await admin.auditLog(DEFAULT_TENANT_ID, { limit: 100 }))
      .map((entry) => ({ action: entry.action, details: entry.details }))
      .reverse();

  it('saves and deactivates an agent, each with its audit entry, and audits nothing it did not change', async () => {
    const before = (await audited()).length;
    await admin.saveAgent(DEFAULT_TENANT_ID, ACTOR, {
      telegramUserId: 7,
      displayName: 'Ada',
      role: 'supervisor',
      active: true,
    });
    expect(await admin.deactivateAgent(DEFAULT_TENANT_ID, ACTOR, 7)).toBe(true);
    expect(await admin.deactivateAgent(DEFAULT_TENANT_ID, ACTOR, 8)).toBe(false);
    expect(await admin.agents(DEFAULT_TENANT_ID)).toEqual([
      expect.objectContaining({ telegram_user_id: 7, display_name: 'Ada', active: false }),
    ]);
    expect((await audited()).slice(before)).toEqual([
      {
        action: 'agent.upsert',
        details: { telegramUserId: 7, displayName: 'Ada', role: 'supervisor', active: true },
      },
      { action: 'agent.deactivate', details: { telegramUserId: 7 } },
    ]);
  });

  it('saves a batch of templates whole or not at all', async () => {
    const template = (key: string, text: string): TemplateSettings => ({
      key,
      locale: '',
      text,
      wsBanner: false,
      persist: true,
      telegram: false,
      pin: false,
      minIntervalMs: 0,
    });
    const before = (await audited()).length;
    // Postgres refuses NUL in text: the second fails, and the first is not kept either.
    await expect(
      admin.saveTemplates(DEFAULT_TENANT_ID, ACTOR, [
        template('reply.first', 'kept?'),
        template('reply.second', 'not\u0000stored'),
      ]),
    ).rejects.toThrow();
    const keys = async () =>
      (await admin.templates(DEFAULT_TENANT_ID))
        .map((t) => t.key)
        .filter((k) => k.startsWith('reply.'));
    expect(await keys()).toEqual([]);
    expect(await audited()).toHaveLength(before);

    await admin.saveTemplates(DEFAULT_TENANT_ID, ACTOR, [template('reply.first', 'kept')]);
    expect(await keys()).toEqual(['reply.first']);
    expect(await admin.deleteTemplate(DEFAULT_TENANT_ID, ACTOR, 'reply.first', '')).toBe(true);
    expect(await admin.deleteTemplate(DEFAULT_TENANT_ID, ACTOR, 'reply.first', '')).toBe(false);
    expect((await audited()).slice(before).map((e) => e.action)).toEqual([
      'template.update',
      'template.delete',
    ]);
  });

  it('replays a dead letter on its topic, records the replay and audits it', async () => {
    const received: string[] = [];
    const consumption = infra.bus.consume(
      topics.conversationSync,
      async (delivery) => void received.push(delivery.data.conversationId),
      { durable: 'admin-replay-test' },
    );
    try {
      const payload = toBinary(
        topics.conversationSync.schema,
        create(topics.conversationSync.schema, {
          tenantId: DEFAULT_TENANT_ID,
          conversationId: CONVERSATION,
          reason: SyncReason.VISITOR_MESSAGE,
        }),
      );
      await storeDeadLetter(infra.database.db, fixture.logger, {
        tenantId: DEFAULT_TENANT_ID,
        topic: 'conversationSync',
        conversationId: CONVERSATION,
        deadLetter: {
          reason: DeadLetterReason.MaxDeliver,
          subject: 'conversation.sync',
          durable: 'admin-replay-test',
          deliveryCount: 5,
          msgId: undefined,
          error: { code: 'TEST', message: 'gave up' },
          cause: undefined,
          payload,
        },
      });
      const [stored] = await admin.deadLetters(DEFAULT_TENANT_ID, { limit: 10, pending: true });
      expect(stored).toBeDefined();
      const replayed = await admin.replayDeadLetter(DEFAULT_TENANT_ID, ACTOR, stored!.id);
      expect(replayed).toMatchObject({ id: stored!.id, replays: 1 });
      await expect.poll(() => received).toEqual([CONVERSATION]);
      expect(await admin.deadLetters(DEFAULT_TENANT_ID, { limit: 10, pending: true })).toEqual([]);
      expect((await audited()).at(-1)).toEqual({
        action: 'dead_letter.replay',
        details: { id: stored!.id, topic: 'conversationSync' },
      });
      expect(await admin.replayDeadLetter(DEFAULT_TENANT_ID, ACTOR, 999_999)).toBeUndefined();
    } finally {
      await consumption.stop();
    }
  });

  it('refuses to replay a dead letter of a topic this version does not have, and records nothing', async () => {
    // A row of an older version, naming a topic this one does not have.
    await new DeadLetterRepository(infra.database.db).add({
      tenant_id: DEFAULT_TENANT_ID,
      topic: 'retiredTopic',
      durable: 'retired',
      reason: DeadLetterReason.MaxDeliver,
      deliveries: 1,
      error_code: 'TEST',
      error: 'gave up',
      payload: '',
      conversation_id: null,
    });
    const [stored] = await admin.deadLetters(DEFAULT_TENANT_ID, { limit: 1, pending: true });
    const before = (await audited()).length;
    await expect(admin.replayDeadLetter(DEFAULT_TENANT_ID, ACTOR, stored!.id)).rejects.toThrow(
      DeadLetterTopicError,
    );
    expect(await admin.deadLetters(DEFAULT_TENANT_ID, { limit: 1, pending: true })).toEqual([
      expect.objectContaining({ id: stored!.id, replays: 0 }),
    ]);
    expect(await audited()).toHaveLength(before);
  });
});
