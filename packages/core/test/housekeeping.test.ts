import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AuditRepository,
  ConversationRepository,
  DEFAULT_TENANT_ID,
  type Conversation,
  type Database,
  type OutboxRow,
} from '@topicdesk/data';
import { unitOfWorkFixture, type UnitOfWorkFixture } from './unit-of-work-fixture';
import { ConversationService, Housekeeping } from '../src/index';

const HOUR = 3_600_000;
const BATCH = 2;

describe('housekeeping', () => {
  let fixture: UnitOfWorkFixture;
  let database: Database;
  let housekeeping: Housekeeping;
  let service: ConversationService;
  let published: OutboxRow[];
  let nextTopic = 1;

  beforeAll(async () => {
    fixture = await unitOfWorkFixture('core-housekeeping');
    ({ database, published } = fixture);
    const { uow } = fixture;
    // Batches smaller than the work, so that a job goes through several.
    housekeeping = new Housekeeping(uow, BATCH);
    service = new ConversationService(uow);
  });

  afterAll(() => fixture.close());

  const later = () => new Date(Date.now() + HOUR);
  const conversations = () => new ConversationRepository(database.db);
  /** Conversations with topics, as the bridge's sync leaves them; the last has none. */
  const openMany = async (count: number): Promise<Conversation[]> => {
    const started: Conversation[] = [];
    for (let i = 0; i < count; i++) {
      const conversation = await service.start({ tenantId: DEFAULT_TENANT_ID, channel: 'web' });
      if (i < count - 1)
        await conversations().setTopic(DEFAULT_TENANT_ID, conversation.id, nextTopic++);
      started.push(await conversations().get(DEFAULT_TENANT_ID, conversation.id));
    }
    return started;
  };
  const publishedFor = (conversation: Conversation, topic: string) =>
    published.filter(
      (row) =>
        row.topic === topic &&
        (row.payload as { conversationId?: string }).conversationId === conversation.id,
    );

  it('reminds the topics of unclaimed conversations once per reminder', async () => {
    const started = await openMany(3);
    const remind = (reminder: number) =>
      housekeeping.remindUnclaimed({
        waitingBefore: later(),
        reminder,
        minutes: reminder * 5,
        pin: reminder === 2,
        at: new Date(),
      });
    // The conversation without a topic has nowhere to be reminded.
    expect(await remind(1)).toBe(2);
    expect(await remind(1)).toBe(0);
    expect(await remind(2)).toBe(2);
    for (const conversation of started.slice(0, 2))
      expect((await conversations().get(DEFAULT_TENANT_ID, conversation.id)).reminders_sent).toBe(
        2,
      );
  });

  it('counts the reminders from when a conversation was given back, and starts them over', async () => {
    const [conversation] = await openMany(2);
    const { id } = conversation!;
    // Started an hour ago, reminded twice, then claimed and given back just now.
    await database.db
      .updateTable('conversations')
      .set({ created_at: new Date(Date.now() - HOUR), reminders_sent: 2 })
      .where('id', '=', id)
      .execute();
    const claim = { agentId: null, telegramUserId: 7301, name: 'Alice' };
    await conversations().setClaim(DEFAULT_TENANT_ID, id, claim, new Date());
    await conversations().setClaim(DEFAULT_TENANT_ID, id, null, new Date());
    const given = await conversations().get(DEFAULT_TENANT_ID, id);
    expect(given.reminders_sent).toBe(0);

    const remind = (waitingBefore: Date) =>
      housekeeping.remindUnclaimed({
        waitingBefore,
        reminder: 1,
        minutes: 5,
        pin: false,
        at: new Date(),
      });
    // Five minutes after it was started is long past; five minutes after it was given back is not.
    expect(await remind(new Date(Date.now() - 5 * 60_000))).toBe(0);
    expect(await remind(later())).toBeGreaterThanOrEqual(1);
    expect((await conversations().get(DEFAULT_TENANT_ID, id)).reminders_sent).toBe(1);
  });

  it('closes every idle conversation once, across batches, telling each visitor', async () => {
    const started = await openMany(3);
    const open = (
      await database.db
        .selectFrom('conversations')
        .select('id')
        .where('status', '=', 'open')
        .execute()
    ).length;
    expect(await housekeeping.closeIdle(later())).toBe(open);
    expect(await housekeeping.closeIdle(later())).toBe(0);
    for (const conversation of started) {
      const closed = await conversations().get(DEFAULT_TENANT_ID, conversation.id);
      expect(closed.status).toBe('closed');
      expect(
        published.filter(
          (row) =>
            row.topic === conversation.id &&
            (row.payload as { type?: string; status?: string }).status === 'closed',
        ),
      ).toHaveLength(1);
    }
  });

  it('purges closed conversations past retention with an audit entry, keeping their topics under the keep policy', async () => {
    const closed = await database.db.selectFrom('conversations').selectAll().execute();
    expect(await housekeeping.purgeClosed({ now: new Date(), retentionMs: HOUR }, 'keep')).toBe(0);
    expect(await housekeeping.purgeClosed({ now: later(), retentionMs: 0 }, 'keep')).toBe(
      closed.length,
    );
    expect(await database.db.selectFrom('conversations').select('id').execute()).toEqual([]);
    for (const conversation of closed)
      expect(publishedFor(conversation, 'topicRemoval')).toEqual([]);
    const audit = await new AuditRepository(database.db).list(DEFAULT_TENANT_ID, { limit: 100 });
    const purges = audit.filter((entry) => entry.action === 'conversation.purge');
    expect(purges.map((entry) => entry.conversation_id).sort()).toEqual(
      closed.map((c) => c.id).sort(),
    );
  });

  it('asks the bridge to remove the topics of purged conversations under the delete policy', async () => {
    const started = await openMany(3);
    await housekeeping.closeIdle(later());
    expect(await housekeeping.purgeClosed({ now: later(), retentionMs: 0 }, 'delete')).toBe(3);
    const [first, second, withoutTopic] = started as [Conversation, Conversation, Conversation];
    for (const conversation of [first, second])
      expect(publishedFor(conversation, 'topicRemoval').map((row) => row.payload)).toEqual([
        {
          tenantId: DEFAULT_TENANT_ID,
          conversationId: conversation.id,
          topicId: String(conversation.topic_id),
          groupChatId: String(conversation.group_chat_id ?? 0),
        },
      ]);
    expect(publishedFor(withoutTopic, 'topicRemoval')).toEqual([]);
  });
});
