import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Api } from 'grammy';
import type { Conversation, ConversationService } from '@topicdesk/core';
import type { RunningSandbox } from '@topicdesk/telegram-sandbox';
import { GROUP, startBridgeUnderTest, TENANT, type BridgeUnderTest } from './bridge-under-test';
const TOKEN = '200000001:seen-test';
const ALICE = { id: 7001, first_name: 'Alice' };

// Issue 18, item 8: once the visitor read an agent's reply, the agents see 👀 on it in the
// topic: one reaction per read reply, moved on by a newer read, never sent twice.
describe('the agents see what the visitor read', () => {
  let under: BridgeUnderTest;
  let sandbox: RunningSandbox;
  let service: ConversationService;

  beforeAll(async () => {
    under = await startBridgeUnderTest({ name: 'seen', token: TOKEN });
    ({ sandbox, service } = under);
  });

  afterAll(async () => {
    await under?.close();
  });

  const reactionCalls = () => sandbox.state.calls({ method: 'setMessageReaction' });
  const reactionsOn = (messageId: number) =>
    sandbox.state.messages({ chatId: GROUP }).find((m) => m.messageId === messageId)?.reactions;
  const find = async (c: Conversation) => {
    const found = await service.find(TENANT, c.id);
    if (!found) throw new Error('no conversation');
    return found;
  };

  /** A web conversation whose topic exists, and an agent's reply in it, stored by the bridge. */
  async function conversationWithTopic() {
    const c = await service.start({ tenantId: TENANT, channel: 'web' });
    await service.postVisitorMessage({
      tenantId: TENANT,
      conversationId: c.id,
      clientId: `${c.id}-1`,
      text: 'Hello?',
    });
    const topicId = await until(async () => (await find(c)).topic_id);
    return { c, topicId: Number(topicId) };
  }
  async function reply(c: Conversation, topicId: number, text: string) {
    const sent = sandbox.state.injectMessage({
      chatId: GROUP,
      messageThreadId: topicId,
      text,
      from: ALICE,
    });
    const stored = await until(async () => {
      const history = await service.history(TENANT, c.id, 0, 100);
      return history.find((m) => m.kind === 'agent' && m.text === text);
    });
    return { seq: stored.seq, messageId: sent.message_id };
  }
  /** The first truthy value of an async `check`, polled; fails after `timeoutMs`. */
  async function until<T>(check: () => Promise<T | null | undefined | false>, timeoutMs = 10_000) {
    for (const deadline = Date.now() + timeoutMs; Date.now() < deadline;) {
      const value = await check();
      if (value) return value;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`condition not met within ${timeoutMs} ms`);
  }
  const settle = () => new Promise((resolve) => setTimeout(resolve, 700));

  it('puts 👀 on the reply read, once, and moves it to a newer reply read later', async () => {
    const { c, topicId } = await conversationWithTopic();
    const first = await reply(c, topicId, 'Hi, Alice here. How can I help?');
    const second = await reply(c, topicId, 'Are you still there?');
    const before = reactionCalls().length;

    // Read up to the first reply only.
    expect(await service.visitorRead(TENANT, c.id, first.seq)).toBe(true);
    await sandbox.state.waitFor(() => reactionsOn(first.messageId)?.length, 10_000);
    expect(reactionsOn(first.messageId)).toEqual([
      { userId: 200000001, emoji: '👀', isBig: false },
    ]);
    expect(reactionsOn(second.messageId)).toEqual([]);
    await until(async () => (await find(c)).seen_reaction_seq === first.seq);

    // The same read again, and another sync of the conversation: nothing is sent twice.
    expect(await service.visitorRead(TENANT, c.id, first.seq)).toBe(false);
    await service.renameVisitor(TENANT, c.id, 'Ada');
    await settle();
    expect(reactionCalls().length - before).toBe(1);

    // Reading on moves the reaction to the newer reply; the older one keeps its reaction
    // (taking it off would be a second call).
    expect(await service.visitorRead(TENANT, c.id, second.seq)).toBe(true);
    await sandbox.state.waitFor(() => reactionsOn(second.messageId)?.length, 10_000);
    await settle();
    expect(reactionCalls().length - before).toBe(2);
    const calls = reactionCalls().slice(before);
    expect(calls.map((call) => call.params)).toMatchObject([
      { chat_id: GROUP, message_id: first.messageId, reaction: [{ type: 'emoji', emoji: '👀' }] },
      { chat_id: GROUP, message_id: second.messageId, reaction: [{ type: 'emoji', emoji: '👀' }] },
    ]);
    expect(reactionsOn(first.messageId)).toHaveLength(1);
    await until(async () => (await find(c)).seen_reaction_seq === second.seq);
  });

  it('marks only the newest of several replies read at once', async () => {
    const { c, topicId } = await conversationWithTopic();
    const replies = [];
    for (const text of ['One', 'Two', 'Three']) replies.push(await reply(c, topicId, text));
    const before = reactionCalls().length;
    const newest = replies[2];
    if (!newest) throw new Error('no replies');
    await service.visitorRead(TENANT, c.id, newest.seq);
    await sandbox.state.waitFor(() => reactionsOn(newest.messageId)?.length, 10_000);
    await settle();
    expect(
      reactionCalls()
        .slice(before)
        .map((call) => call.params['message_id']),
    ).toEqual([newest.messageId]);
  });

  it('takes a refusal as final: recorded, not retried', async () => {
    const { c, topicId } = await conversationWithTopic();
    const gone = await reply(c, topicId, 'This one will be deleted');
    // Someone deletes the reply in Telegram (the bridge is not told).
    await new Api(TOKEN, { apiRoot: sandbox.url }).deleteMessage(GROUP, gone.messageId);
    const before = reactionCalls().length;
    await service.visitorRead(TENANT, c.id, gone.seq);
    await until(async () => (await find(c)).seen_reaction_seq === gone.seq);
    await settle();
    const calls = reactionCalls().slice(before);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      status: 400,
      description: 'Bad Request: message to react not found',
    });
  });
});
