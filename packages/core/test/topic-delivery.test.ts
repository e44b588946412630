import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TENANT_ID, TelegramPostRepository } from '@topicdesk/data';
import {
  ConversationService,
  OutboxRelay,
  TopicDeliveryService,
  UnitOfWork,
  type Conversation,
} from '../src/index';
import { coreFixture, type CoreFixture } from './support/core-fixture';

const GROUP = -1001000000001;
const BOT = '200000001';

describe('the bookkeeping of a conversation topic', () => {
  let core: CoreFixture;
  let relay: OutboxRelay;
  let conversations: ConversationService;
  let delivery: TopicDeliveryService;

  beforeAll(async () => {
    core = await coreFixture();
    const { database, bus, coordination } = core.infra;
    relay = new OutboxRelay({
      db: database.db,
      bus,
      fanout: coordination.fanout,
      logger: core.logger,
    });
    const uow = new UnitOfWork(database.db, relay);
    conversations = new ConversationService(uow);
    delivery = new TopicDeliveryService(uow);
  });

  afterAll(async () => {
    await relay.stop();
    await core.close();
  });

  const started = () => conversations.start({ tenantId: DEFAULT_TENANT_ID, channel: 'web' });
  const write = (conversation: Conversation, text: string) =>
    conversations.postVisitorMessage({
      tenantId: DEFAULT_TENANT_ID,
      conversationId: conversation.id,
      clientId: text,
      text,
    });
  const stateOf = async (conversation: Conversation) => {
    const state = await delivery.state(DEFAULT_TENANT_ID, conversation.id);
    if (!state) throw new Error('no state');
    return state;
  };

  it('reads the conversation with its waiting posts and texts, with their dates as dates', async () => {
    const conversation = await started();
    await write(conversation, 'one');
    await write(conversation, 'two');
    await new TelegramPostRepository(core.infra.database.db).add([
      { tenantId: DEFAULT_TENANT_ID, conversationId: conversation.id, text: 'a post', pin: true },
    ]);
    const state = await stateOf(conversation);
    expect(state.conversation).toEqual(await delivery.find(DEFAULT_TENANT_ID, conversation.id));
    expect(state.pending.map((m) => [m.seq, m.text])).toEqual([
      [1, 'one'],
      [2, 'two'],
    ]);
    expect(state.pending[0]?.created_at).toBeInstanceOf(Date);
    expect(state.posts.map((p) => ({ text: p.text, pin: p.pin, sent: p.sent_at }))).toContainEqual({
      text: 'a post',
      pin: true,
      sent: null,
    });
    expect(state.posts[0]?.created_at).toBeInstanceOf(Date);
    expect(await delivery.state(DEFAULT_TENANT_ID, crypto.randomUUID())).toBeUndefined();
  });

  it('reads the states asked for in one turn in one statement, each as it would alone', async () => {
    const [a, b, c] = [await started(), await started(), await started()];
    await write(a, 'for a');
    await write(b, 'for b');
    const alone = [await stateOf(a), await stateOf(b), await stateOf(c)];
    let statements = 0;
    const counted = new TopicDeliveryService(
      new UnitOfWork(
        core.infra.database.db.withPlugin({
          transformQuery: (args) => {
            statements += 1;
            return args.node;
          },
          transformResult: (args) => Promise.resolve(args.result),
        }),
        relay,
      ),
    );
    const missing = crypto.randomUUID();
    const together = await Promise.all([
      counted.state(DEFAULT_TENANT_ID, a.id),
      counted.state(DEFAULT_TENANT_ID, b.id),
      counted.state(DEFAULT_TENANT_ID, c.id),
      counted.state(DEFAULT_TENANT_ID, missing),
      counted.state(DEFAULT_TENANT_ID, a.id),
    ]);
    expect(statements).toBe(1);
    expect(together).toEqual([...alone, undefined, alone[0]]);
    // Asked in different turns: a statement each.
    await counted.state(DEFAULT_TENANT_ID, a.id);
    await counted.state(DEFAULT_TENANT_ID, b.id);
    expect(statements).toBe(3);
  });

  it('records a header with the texts it carried, and hands back what it wrote', async () => {
    const conversation = await started();
    await write(conversation, 'hello');
    const created = await delivery.topicCreated(conversation, 501, '🟢 ticket');
    expect(await delivery.find(DEFAULT_TENANT_ID, conversation.id)).toMatchObject({
      topic_id: 501,
      topic_name: '🟢 ticket',
      header_message_id: null,
    });
    const carried = await delivery.textsForHeader(created, 501);
    expect(carried.map((m) => m.text)).toEqual(['hello']);
    // A topic made again meanwhile: the texts wait for the new one's header.
    expect(await delivery.textsForHeader(created, 502)).toEqual([]);

    const posted = await delivery.headerPosted(
      created,
      { chatId: GROUP, messageId: 9, botId: BOT, text: 'signature' },
      carried,
    );
    const header = {
      topic_id: 501,
      header_message_id: 9,
      header_text: 'signature',
      header_bot_id: BOT,
      header_pinned: false,
    };
    const stored = await stateOf(conversation);
    expect(stored.conversation).toMatchObject(header);
    expect(posted).toMatchObject(header);
    expect(stored.pending).toEqual([]);
    expect((await delivery.carriedBy(posted, GROUP, 9)).map((m) => m.text)).toEqual(['hello']);
  });

  it('fails refused texts for good and tells the agents once per conversation', async () => {
    const conversation = await started();
    await write(conversation, 'too strange');
    await write(conversation, 'also strange');
    const [first, second] = (await stateOf(conversation)).pending;
    await delivery.textsRefused(conversation, [first!], 'Bad Request: nope');
    await delivery.textsRefused(conversation, [second!], 'Bad Request: nope');
    const state = await stateOf(conversation);
    expect(state.pending).toEqual([]);
    expect(state.posts.filter((p) => p.text.includes('could not be shown here'))).toHaveLength(1);
  });

  it('marks a given-up sync and clears it again', async () => {
    const conversation = await started();
    const given = await delivery.syncGivenUp(DEFAULT_TENANT_ID, conversation.id);
    expect(given?.sync_given_up_at).toBeInstanceOf(Date);
    expect((await stateOf(conversation)).conversation.sync_given_up_at).toBeInstanceOf(Date);
    await delivery.syncResumed(conversation);
    expect((await stateOf(conversation)).conversation.sync_given_up_at).toBeNull();
    expect(await delivery.syncGivenUp(DEFAULT_TENANT_ID, crypto.randomUUID())).toBeUndefined();
  });
});
