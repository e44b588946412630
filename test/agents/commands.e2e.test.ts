import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VisitorClient, type StartedConversation } from '@topicdesk/testkit';
import { GROUP_ID, startCluster, topicOf, type Cluster } from '../support/cluster';
import {
  admin,
  ALICE,
  BOB,
  botPosted,
  botPosts,
  header,
  say,
  topicClosed,
  topicName,
} from '../support/agents';

const SERVICE_TOKEN = 'service-token-for-the-agents-suite-0123456789';
let cluster: Cluster;
let gateway: string;
const clients: VisitorClient[] = [];

async function open(body: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  const response = await fetch(`${gateway}/v1/conversations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const conversation = (await response.json()) as StartedConversation;
  const visitor = await VisitorClient.connect(gateway, conversation.token);
  clients.push(visitor);
  await visitor.waitFor((f) => f.type === 'status');
  visitor.sendMessage('first', 'Hello, I need help');
  await visitor.waitFor((f) => f.type === 'ack');
  const threadId = await topicOf(cluster.sandbox, conversation.ticket);
  await cluster.sandbox.state.waitFor(() => header(cluster.sandbox, threadId)?.pinned);
  return { conversation, visitor, threadId };
}

beforeAll(async () => {
  cluster = await startCluster({ gateways: 1, gatewayEnv: { SERVICE_TOKEN } });
  gateway = cluster.gateways[0]!.url;
  // Alice is a registered agent; Bob is a group member nobody registered.
  const saved = await admin(gateway, SERVICE_TOKEN, 'PUT', `/v1/admin/agents/${ALICE.id}`, {
    displayName: 'Alice M.',
  });
  expect(saved.status).toBe(200);
}, 120_000);

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await cluster?.stop();
});

describe('topic header and status', () => {
  it('posts and pins a header with buttons, and the topic name follows the status', async () => {
    const { conversation, threadId } = await open({
      name: 'Ann',
      locale: 'de-AT',
      page: { url: 'https://shop.example/cart', title: 'Cart' },
    });
    const pinned = header(cluster.sandbox, threadId)!;
    expect(pinned.pinned).toBe(true);
    expect(pinned.text).toContain(conversation.ticket);
    expect(pinned.text).toContain('Locale: de-AT');
    expect(pinned.text).toContain('Page: Cart — https://shop.example/cart');
    expect(pinned.text).toContain('new');
    expect(pinned.replyMarkup?.inline_keyboard.flat().map((b) => b.text)).toEqual([
      '✋ Claim',
      '✅ Close',
    ]);
    expect(topicName(cluster.sandbox, threadId)).toBe(`🟢 ${conversation.ticket} · Ann`);

    say(cluster.sandbox, ALICE, '/claim', threadId);
    await botPosted(cluster.sandbox, threadId, 'Claimed by Alice M.');
    await cluster.sandbox.state.waitFor(() =>
      topicName(cluster.sandbox, threadId)?.startsWith('🟡'),
    );
    expect(topicName(cluster.sandbox, threadId)).toBe(`🟡 ${conversation.ticket} · Ann → Alice M.`);
    await cluster.sandbox.state.waitFor(() =>
      header(cluster.sandbox, threadId)?.text?.includes('claimed by Alice M.'),
    );
    expect(
      header(cluster.sandbox, threadId)
        ?.replyMarkup?.inline_keyboard.flat()
        .map((b) => b.text),
    ).toEqual(['↩️ Unclaim', '✅ Close']);

    say(cluster.sandbox, ALICE, '/close', threadId);
    await cluster.sandbox.state.waitFor(() => topicClosed(cluster.sandbox, threadId));
    expect(topicName(cluster.sandbox, threadId)).toBe(`⚪ ${conversation.ticket} · Ann`);
    expect(
      header(cluster.sandbox, threadId)
        ?.replyMarkup?.inline_keyboard.flat()
        .map((b) => b.text),
    ).toEqual(['🔄 Reopen']);
  });
});

describe('visitor profile', () => {
  it('renames the topic and its header when the visitor gives a name', async () => {
    const { conversation, threadId } = await open();
    const response = await fetch(
      `${gateway}/v1/conversations/${conversation.conversationId}/profile`,
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${conversation.token}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ name: 'Grace' }),
      },
    );
    expect(response.status).toBe(200);
    await cluster.sandbox.state.waitFor(
      () => topicName(cluster.sandbox, threadId) === `🟢 ${conversation.ticket} · Grace`,
    );
    await cluster.sandbox.state.waitFor(() =>
      header(cluster.sandbox, threadId)?.text?.includes('Visitor: Grace'),
    );
  });
});

describe('commands in a topic', () => {
  it('claims, refuses a second claim, unclaims only for the claimer, and tells the visitor who joined', async () => {
    const { conversation, visitor, threadId } = await open();
    // The first message was welcomed with a banner (the seeded template keeps no history).
    expect(
      await visitor.waitFor((f) => f.type === 'system' && f['key'] === 'welcome'),
    ).toMatchObject({
      banner: true,
      text: `Thanks for writing! An agent will answer here shortly. Your ticket: ${conversation.ticket}.`,
    });
    say(cluster.sandbox, ALICE, '/claim', threadId);
    await botPosted(cluster.sandbox, threadId, 'Claimed by Alice M.');
    const joined = await visitor.waitFor((f) => f.type === 'message' && f['kind'] === 'system');
    expect(joined).toMatchObject({ text: 'Alice M. joined the conversation.', banner: true });

    say(cluster.sandbox, ALICE, '/claim', threadId);
    await botPosted(cluster.sandbox, threadId, 'You have claimed it already.');
    say(cluster.sandbox, BOB, '/claim', threadId);
    await botPosted(cluster.sandbox, threadId, 'Already claimed by Alice M.');
    say(cluster.sandbox, BOB, '/unclaim', threadId);
    await botPosted(cluster.sandbox, threadId, 'Only Alice M. can unclaim it.');
    say(cluster.sandbox, ALICE, '/unclaim', threadId);
    await botPosted(cluster.sandbox, threadId, 'Unclaimed');
    say(cluster.sandbox, ALICE, '/unclaim', threadId);
    await botPosted(cluster.sandbox, threadId, 'Nobody has claimed this conversation.');
  });

  it('closes and reopens with the visitor told, and refuses closing a closed or reopening an open conversation', async () => {
    const { visitor, threadId } = await open();
    say(cluster.sandbox, ALICE, '/reopen', threadId);
    await botPosted(cluster.sandbox, threadId, 'This conversation is open.');
    say(cluster.sandbox, ALICE, '/close', threadId);
    await visitor.waitFor((f) => f.type === 'status' && f['status'] === 'closed');
    await visitor.waitFor(
      (f) =>
        f.type === 'message' &&
        f['text'] === 'This conversation was closed. You can start a new one at any time.',
    );
    await cluster.sandbox.state.waitFor(() => topicClosed(cluster.sandbox, threadId));
    say(cluster.sandbox, ALICE, '/close', threadId);
    await botPosted(cluster.sandbox, threadId, 'already closed');
    say(cluster.sandbox, ALICE, 'a reply to a closed conversation', threadId);
    await botPosted(cluster.sandbox, threadId, 'This conversation is closed; nothing was sent.');
    say(cluster.sandbox, ALICE, '/reopen', threadId);
    await visitor.waitFor((f) => f.type === 'status' && f['status'] === 'open');
    await visitor.waitFor(
      (f) => f.type === 'message' && f['text'] === 'The conversation was reopened.',
    );
    await cluster.sandbox.state.waitFor(() => topicClosed(cluster.sandbox, threadId) === false);
    expect(
      visitor.frames.some((f) => JSON.stringify(f).includes('a reply to a closed conversation')),
    ).toBe(false);
  });

  it('keeps notes internal, answers /help, /whoami and unknown commands, and sends none of it to the visitor', async () => {
    const { visitor, threadId } = await open();
    say(cluster.sandbox, ALICE, '/note the visitor is a reseller, be nice', threadId);
    await botPosted(cluster.sandbox, threadId, 'Note saved');
    say(cluster.sandbox, ALICE, '/help', threadId);
    await botPosted(cluster.sandbox, threadId, '/claim — take the conversation');
    say(cluster.sandbox, ALICE, '/whoami', threadId);
    await botPosted(cluster.sandbox, threadId, 'You are Alice M.');
    say(cluster.sandbox, BOB, '/whoami', threadId);
    await botPosted(cluster.sandbox, threadId, 'You are not registered as an agent');
    say(cluster.sandbox, ALICE, '/frobnicate now', threadId);
    await botPosted(cluster.sandbox, threadId, 'Unknown command.');
    say(cluster.sandbox, ALICE, '/note', threadId);
    await botPosted(cluster.sandbox, threadId, 'Write the note after the command');
    await new Promise((r) => setTimeout(r, 500));
    const seen = JSON.stringify(visitor.frames);
    for (const secret of ['reseller', '/help', 'frobnicate', 'whoami', 'Note saved'])
      expect(seen).not.toContain(secret);
    const audit = await admin(gateway, SERVICE_TOKEN, 'GET', '/v1/admin/audit?limit=200');
    expect(
      (audit.body['entries'] as Array<{ action: string }>).some(
        (e) => e.action === 'conversation.note',
      ),
    ).toBe(true);
  });

  it('sends a saved reply with /t and refuses an unknown one', async () => {
    const put = await admin(gateway, SERVICE_TOKEN, 'PUT', '/v1/admin/templates', {
      key: 'reply.shipping',
      text: 'Orders ship within 2 business days ({ticket}).',
    });
    expect(put.status).toBe(200);
    const { conversation, visitor, threadId } = await open();
    say(cluster.sandbox, ALICE, '/t nonsense', threadId);
    await botPosted(
      cluster.sandbox,
      threadId,
      'No saved reply named “nonsense”. Saved replies: shipping.',
    );
    say(cluster.sandbox, ALICE, '/t shipping', threadId);
    const sent = await visitor.waitFor((f) => f.type === 'message' && f['kind'] === 'agent');
    expect(sent).toMatchObject({
      text: `Orders ship within 2 business days (${conversation.ticket}).`,
      author: 'Alice M.',
    });
    await botPosted(cluster.sandbox, threadId, 'Sent to the visitor');
  });

  it('relays an edit to a connected and to a reconnecting visitor, and /delete retracts a message', async () => {
    const { conversation, visitor, threadId } = await open();
    const original = say(cluster.sandbox, ALICE, 'Your order ships Monday', threadId);
    const first = await visitor.waitFor((f) => f.type === 'message' && f['kind'] === 'agent');
    cluster.sandbox.state.editUserMessage({
      chatId: GROUP_ID,
      messageId: original.message_id,
      text: 'Your order ships Tuesday',
    });
    const edit = await visitor.waitFor((f) => f.type === 'edit');
    expect(edit).toMatchObject({ seq: first['seq'], text: 'Your order ships Tuesday' });

    const later = await VisitorClient.connect(gateway, conversation.token);
    clients.push(later);
    later.send({ type: 'resume', afterSeq: 0 });
    const replayed = await later.waitFor((f) => f.type === 'message' && f['seq'] === first['seq']);
    expect(replayed).toMatchObject({ text: 'Your order ships Tuesday' });
    expect(typeof replayed['editedAt']).toBe('string');

    say(cluster.sandbox, ALICE, '/delete', threadId);
    await botPosted(cluster.sandbox, threadId, 'Reply to an agent message with /delete');
    say(cluster.sandbox, ALICE, '/delete', threadId, original.message_id);
    const retracted = await visitor.waitFor((f) => f.type === 'edit' && f['deleted'] === true);
    expect(retracted).toMatchObject({ seq: first['seq'], text: '' });
    await botPosted(cluster.sandbox, threadId, 'Retracted');
    const history = (await (
      await fetch(`${gateway}/v1/conversations/${conversation.conversationId}/messages`, {
        headers: { authorization: `Bearer ${conversation.token}` },
      })
    ).json()) as { messages: Array<Record<string, unknown>> };
    expect(history.messages.find((m) => m['seq'] === first['seq'])).toMatchObject({
      text: '',
      deleted: true,
    });
    expect(JSON.stringify(history)).not.toContain('ships Tuesday');
  });
});

describe('buttons', () => {
  it('claims, closes and reopens from the header, answering every press, and refuses a press it must refuse', async () => {
    const { visitor, threadId } = await open();
    const press = async (label: string, from: typeof ALICE = ALICE) => {
      const pinned = header(cluster.sandbox, threadId)!;
      const button = pinned
        .replyMarkup!.inline_keyboard.flat()
        .find((b) => b.text.includes(label)) as { callback_data: string };
      const id = cluster.sandbox.state.pressButton({
        chatId: GROUP_ID,
        messageId: pinned.messageId,
        data: button.callback_data,
        from: { ...from, is_bot: false },
      });
      return cluster.sandbox.state.waitFor(() => cluster.sandbox.state.callbackAnswer(id)?.text);
    };
    const headerShows = (fragment: string) =>
      cluster.sandbox.state.waitFor(() =>
        header(cluster.sandbox, threadId)?.text?.includes(fragment),
      );

    expect(await press('Claim')).toBe('✋ Claimed by Alice M.');
    await visitor.waitFor(
      (f) => f.type === 'message' && f['text'] === 'Alice M. joined the conversation.',
    );
    await headerShows('claimed by Alice M.');
    expect(await press('Unclaim', BOB)).toBe('Only Alice M. can unclaim it.');

    expect(await press('Close')).toBe('✅ Closed by Alice M. The visitor was told.');
    await visitor.waitFor((f) => f.type === 'status' && f['status'] === 'closed');
    await cluster.sandbox.state.waitFor(() => topicClosed(cluster.sandbox, threadId));
    await headerShows('closed');
    expect(await press('Reopen')).toBe('🔄 Reopened by Alice M.');
    await visitor.waitFor((f) => f.type === 'status' && f['status'] === 'open');
    await headerShows('claimed by Alice M.');
    expect(
      botPosts(cluster.sandbox, threadId).filter((t) => t.startsWith('✋ Claimed')),
    ).toHaveLength(1);
  });
});

describe('General topic', () => {
  it('answers /help and /stats there, and refuses conversation commands', async () => {
    say(cluster.sandbox, ALICE, '/stats');
    const stats = await botPosted(cluster.sandbox, 1, '📊 Open:');
    expect(stats).toMatch(/^📊 Open: \d+ · Waiting: \d+/);
    // Answers in this suite come within seconds (a median read as seconds, not milliseconds).
    expect(stats).toMatch(
      /\n🟢 Online: .+\n⏱ Median first response today: (no answers yet today|\d+ s)\n/,
    );
    say(cluster.sandbox, ALICE, '/claim');
    await botPosted(cluster.sandbox, 1, '/claim works inside a conversation');
    say(cluster.sandbox, ALICE, '/help');
    await botPosted(cluster.sandbox, 1, 'Each conversation has its own topic');
  });
});

describe('anonymity', () => {
  it("never shows the visitor's address or browser to the topic, nor an agent's Telegram identity to the visitor", async () => {
    const userAgent = 'Mozilla/5.0 (VisitorSecretBrowser 99.1)';
    const { visitor, threadId } = await open(
      { name: 'Vera', page: { url: 'https://shop.example/', title: 'Shop' } },
      { 'user-agent': userAgent },
    );
    say(cluster.sandbox, ALICE, 'Hi Vera, Alice here', threadId);
    say(cluster.sandbox, BOB, 'And Bob too', threadId);
    say(cluster.sandbox, ALICE, '/t shipping', threadId);
    await visitor.waitUntil(
      () => visitor.of('message').filter((f) => f['kind'] === 'agent').length === 3 || undefined,
    );
    // Typing is shown only when the topic's budget has a free slot at once (it never waits,
    // at most one every 5 s): the visitor keeps typing, as the widget does, until one is shown.
    const typingShown = () =>
      cluster.sandbox.state
        .calls({ method: 'sendChatAction' })
        .some((c) => c.params['message_thread_id'] === threadId);
    for (let tries = 0; tries < 20 && !typingShown(); tries++) {
      visitor.send({ type: 'typing' });
      await new Promise((r) => setTimeout(r, 1000));
    }

    // Everything the bot sent toward the group (setWebhook only carries the bridge's own URL).
    const toTelegram = JSON.stringify(
      cluster.sandbox.state
        .calls()
        .filter((c) => c.method !== 'setWebhook')
        .map((c) => c.params),
    );
    for (const leak of ['127.0.0.1', '::1', 'VisitorSecretBrowser', userAgent])
      expect(toTelegram).not.toContain(leak);
    const toVisitor = JSON.stringify(visitor.frames);
    for (const leak of [
      'Agentova',
      'alice_agent',
      String(ALICE.id),
      'Builder',
      'bob_the_member',
      String(BOB.id),
    ]) {
      expect(toVisitor).not.toContain(leak);
    }
    const authors = visitor
      .of('message')
      .filter((f) => f['kind'] === 'agent')
      .map((f) => f['author']);
    expect(authors).toEqual(['Alice M.', 'Support', 'Alice M.']);
    // The visitor's typing reached the topic as a chat action in its thread.
    expect(typingShown()).toBe(true);
  });
});

describe('/name', () => {
  it('lets an unregistered agent choose the name visitors see, from General', async () => {
    const dana = { id: 7060, first_name: 'Danielle', last_name: 'Private', username: 'dana_x' };
    say(cluster.sandbox, dana, '/name Dana');
    await botPosted(cluster.sandbox, 1, 'Visitors now see you as “Dana”.');
    const { visitor, threadId } = await open({ name: 'Nina' });
    say(cluster.sandbox, dana, 'Hi Nina, Dana here', threadId);
    const reply = await visitor.waitFor((f) => f.type === 'message' && f['kind'] === 'agent');
    expect(reply['author']).toBe('Dana');
  });
});
