import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SyncReason } from '@topicdesk/contracts';
import { DEFAULT_TENANT_ID } from '@topicdesk/data';
import {
  ConversationService,
  TopicDeliveryService,
  UnitOfWork,
  type Conversation,
} from '../src/index';
import { unitOfWorkFixture, type UnitOfWorkFixture } from './unit-of-work-fixture';
import { countedQueries } from './support/counted-queries';

// Issue 18, item 8: the visitor's `read` frame is recorded in one statement, and the bridge is
// asked to show it only when the newly read range holds an agent message.
describe('the visitor read the conversation up to a seq', () => {
  let fixture: UnitOfWorkFixture;
  let conversations: ConversationService;
  let delivery: TopicDeliveryService;
  let writes: ReturnType<typeof countedQueries>;

  beforeAll(async () => {
    fixture = await unitOfWorkFixture('core_read');
    writes = countedQueries(fixture.database.db);
    const uow = new UnitOfWork(writes.db, {
      publish: (rows) => Promise.resolve(void fixture.published.push(...rows)),
    });
    conversations = new ConversationService(uow);
    delivery = new TopicDeliveryService(uow);
  });

  afterAll(async () => {
    await fixture.close();
  });

  const tenantId = DEFAULT_TENANT_ID;
  const visitor = (c: Conversation, text: string) =>
    conversations.postVisitorMessage({ tenantId, conversationId: c.id, clientId: text, text });
  let telegramId = 100;
  const agent = (c: Conversation, text: string) =>
    fixture.uow.run((work) =>
      conversations.postAgentMessage(work, {
        tenantId,
        telegramUserId: 42,
        conversationId: c.id,
        text,
        authorName: 'Alice',
        agentId: null,
        telegramChatId: -1001000000001,
        telegramMessageId: ++telegramId,
      }),
    );
  const readSeqOf = async (c: Conversation) =>
    (await conversations.find(tenantId, c.id))?.visitor_read_seq;
  /** The sync rows published by `read`, and the statements it sent. */
  const read = async (c: Conversation, seq: number) => {
    fixture.published.length = 0;
    writes.queries.length = 0;
    const asked = await conversations.visitorRead(tenantId, c.id, seq);
    return { asked, rows: [...fixture.published], queries: [...writes.queries] };
  };

  it('records the seq in one statement and asks for the topic only once an agent message is read', async () => {
    const c = await conversations.start({ tenantId, channel: 'web' });
    const first = await visitor(c, 'hello');
    const reply = await agent(c, 'Hi, how can I help?');
    const last = (await conversations.find(tenantId, c.id))?.last_seq ?? 0;
    expect(reply.seq).toBeGreaterThan(first.message.seq);

    // Only the visitor's own message (and whatever system line came before the reply): nothing
    // for the agents to see, and one UPDATE, no outbox row.
    const before = await read(c, reply.seq - 1);
    expect(before).toEqual({ asked: false, rows: [], queries: ['UpdateQueryNode'] });
    expect(await readSeqOf(c)).toBe(reply.seq - 1);

    const seen = await read(c, reply.seq);
    expect(seen.asked).toBe(true);
    expect(seen.queries).toEqual(['UpdateQueryNode', 'InsertQueryNode']);
    expect(seen.rows).toMatchObject([
      {
        destination: 'bus',
        topic: 'conversationSync',
        payload: { conversationId: c.id, reason: SyncReason.VISITOR_READ },
      },
    ]);
    expect(await readSeqOf(c)).toBe(reply.seq);
    expect(last).toBe(reply.seq);
  });

  it('keeps the greatest seq: a lower or equal one moves nothing and asks for nothing', async () => {
    const c = await conversations.start({ tenantId, channel: 'web' });
    await visitor(c, 'hello');
    const reply = await agent(c, 'Hi');
    await agent(c, 'Anything else?');
    const latest = await agent(c, 'Bye');
    expect((await read(c, latest.seq)).asked).toBe(true);
    for (const seq of [latest.seq, reply.seq, 1]) {
      expect(await read(c, seq)).toEqual({ asked: false, rows: [], queries: ['UpdateQueryNode'] });
    }
    expect(await readSeqOf(c)).toBe(latest.seq);
  });

  it('refuses a seq beyond the conversation’s last: nothing is recorded', async () => {
    const c = await conversations.start({ tenantId, channel: 'web' });
    await visitor(c, 'hello');
    const reply = await agent(c, 'Hi');
    expect((await read(c, reply.seq + 1)).asked).toBe(false);
    expect(await readSeqOf(c)).toBe(0);
  });

  it('hands the bridge the newest read agent message until the topic marks it', async () => {
    const c = await conversations.start({ tenantId, channel: 'web' });
    await visitor(c, 'hello');
    const one = await agent(c, 'One');
    const two = await agent(c, 'Two');
    const three = await agent(c, 'Three');
    const state = async () => (await delivery.state(tenantId, c.id))?.seen;

    expect(await state()).toBeUndefined();
    await conversations.visitorRead(tenantId, c.id, two.seq);
    expect(await state()).toMatchObject({
      id: two.id,
      seq: two.seq,
      telegram_message_id: two.telegram_message_id,
    });
    expect(one.seq).toBeLessThan(two.seq);
    const found = await delivery.find(tenantId, c.id);
    if (!found) throw new Error('no conversation');
    const marked = await delivery.seenMarked(found, two.seq);
    expect(marked.seen_reaction_seq).toBe(two.seq);
    expect(await state()).toBeUndefined();

    await conversations.visitorRead(tenantId, c.id, three.seq);
    expect(await state()).toMatchObject({ seq: three.seq });
    expect(await delivery.agentMessageToMark(marked)).toMatchObject({ seq: three.seq });
  });
});
