import { afterAll, beforeAll, expect, it } from 'vitest';
import { startConversation, VisitorClient } from '@topicdesk/testkit';
import { GROUP_ID, startCluster, topicOf, type Cluster } from '../support/cluster';
import { admin, ALICE, BOB, botPosted, say } from '../support/agents';

// Escalation with a group per level: Alice (L1) escalates from the default group's topic, the
// conversation moves to a new topic in the L2 group, where Bob (L2) answers the visitor.
const SERVICE_TOKEN = 'service-token-for-the-escalation-suite';
const L2_GROUP = -1001000000002;
const CAROL = { id: 7003, first_name: 'Carol', last_name: 'Third', username: 'carol_agent' };
let cluster: Cluster;
let gateway: string;
const visitors: VisitorClient[] = [];

beforeAll(async () => {
  cluster = await startCluster({ gateways: 1, gatewayEnv: { SERVICE_TOKEN } });
  gateway = cluster.gateways[0]!.url;
  // The L2 group: a second forum in the sandbox's world, the bot an administrator there.
  cluster.sandbox.state.world.addForum(L2_GROUP, 'Second line');
  const group = await admin(gateway, SERVICE_TOKEN, 'PUT', `/v1/admin/groups/${L2_GROUP}`, {
    title: 'Second line',
    level: 2,
  });
  expect(group.status).toBe(200);
  for (const [agent, displayName, level] of [
    [ALICE, 'Alice M.', 1],
    [BOB, 'Bob B.', 2],
    [CAROL, 'Carol C.', 3],
  ] as const) {
    const saved = await admin(gateway, SERVICE_TOKEN, 'PUT', `/v1/admin/agents/${agent.id}`, {
      displayName,
      level,
    });
    expect(saved.status).toBe(200);
  }
  await servesL2Group();
}, 120_000);

/**
 * The bridge serves the group registered a moment ago from its first update: /help in its
 * General is answered the first time.
 */
async function servesL2Group() {
  cluster.sandbox.state.injectMessage({ chatId: L2_GROUP, text: '/help', from: BOB });
  await cluster.sandbox.state.waitFor(
    () =>
      cluster.sandbox.state
        .messages({ chatId: L2_GROUP, threadId: 1, fromBot: true })
        .some((m) => m.text?.includes('Each conversation has its own topic')) || undefined,
    10_000,
  );
}

afterAll(async () => {
  await Promise.allSettled(visitors.map((v) => v.close()));
  await cluster?.stop();
});

/** The bot's texts in a topic of the L2 group, in order (header included). */
function l2Posts(threadId: number) {
  return cluster.sandbox.state
    .messages({ chatId: L2_GROUP, threadId, fromBot: true })
    .filter((m) => m.service === null && typeof m.text === 'string');
}

it('moves an escalated conversation to a new topic in the L2 group, with header, reason and transcript, and relays both ways from there', async () => {
  const conversation = await startConversation(gateway);
  const visitor = await VisitorClient.connect(gateway, conversation.token);
  visitors.push(visitor);
  visitor.sendMessage('first', 'My parcel never arrived');
  await visitor.waitFor((f) => f.type === 'ack');
  const oldTopic = await topicOf(cluster.sandbox, conversation.ticket);
  say(cluster.sandbox, ALICE, 'Let me look into it', oldTopic);
  await visitor.waitFor((f) => f.type === 'message' && f['text'] === 'Let me look into it');

  say(cluster.sandbox, ALICE, '/escalate the carrier lost it', oldTopic);

  // The old topic says where it went (answering the command).
  const note = await botPosted(cluster.sandbox, oldTopic, 'It continues in a new topic', 15_000);
  expect(note).toContain('⬆️ Escalated from L1 to L2 by Alice M.');
  expect(note).toContain('Reason: the carrier lost it');
  expect(note).toContain('the L2 group “Second line”');

  // A new topic in the L2 group: its name and header show the level; then reason and transcript.
  const newTopic = await cluster.sandbox.state.waitFor(
    () => cluster.sandbox.state.topics(L2_GROUP).find((t) => t.name.includes(conversation.ticket)),
    15_000,
  );
  expect(newTopic.name).toContain('L2');
  const arrival = await cluster.sandbox.state.waitFor(
    () => l2Posts(newTopic.threadId).find((m) => m.text?.includes('🧾')),
    15_000,
  );
  const header = l2Posts(newTopic.threadId).find((m) => m.replyMarkup !== null);
  expect(header?.text).toContain('Level: ⬆️ L2');
  expect(arrival.text).toContain('Reason: the carrier lost it');
  expect(arrival.text).toContain(
    '👤 Visitor: My parcel never arrived\n🎧 Alice M.: Let me look into it',
  );
  // Bob, the L2 agent, is mentioned: Telegram notifies him.
  const mention = arrival.message.entities?.find((e) => e.type === 'text_mention');
  expect(mention?.user?.id).toBe(BOB.id);
  expect(arrival.text!.slice(mention!.offset, mention!.offset + mention!.length)).toBe('Bob B.');

  // The visitor's next text lands in the new topic, not the old one.
  visitor.sendMessage('second', 'Any news?');
  await cluster.sandbox.state.waitFor(
    () =>
      cluster.sandbox.state
        .messages({ chatId: L2_GROUP, threadId: newTopic.threadId, fromBot: true })
        .some((m) => m.text?.includes('Any news?')),
    15_000,
  );
  expect(
    cluster.sandbox.state
      .messages({ chatId: GROUP_ID, threadId: oldTopic, fromBot: true })
      .some((m) => m.text?.includes('Any news?')),
  ).toBe(false);

  // Bob answers from the L2 group: the visitor gets it.
  cluster.sandbox.state.injectMessage({
    chatId: L2_GROUP,
    messageThreadId: newTopic.threadId,
    text: 'Bob from second line: a new parcel is on its way',
    from: BOB,
  });
  await visitor.waitFor(
    (f) => f.type === 'message' && f['text'] === 'Bob from second line: a new parcel is on its way',
  );

  // The old topic no longer relays: Alice is told where the conversation went.
  say(cluster.sandbox, ALICE, 'Hello? Still there?', oldTopic);
  await botPosted(
    cluster.sandbox,
    oldTopic,
    'continues in another topic; nothing was sent',
    15_000,
  );

  // Agents see the move in the audit log; the visitor's history never shows it.
  const audit = await admin(gateway, SERVICE_TOKEN, 'GET', '/v1/admin/audit?limit=100');
  const entries = audit.body['entries'] as Array<{
    action: string;
    conversationId: string;
    details: Record<string, unknown>;
  }>;
  const escalated = entries.find(
    (e) => e.action === 'conversation.escalate' && e.conversationId === conversation.conversationId,
  );
  expect(escalated?.details).toMatchObject({
    from: 1,
    to: 2,
    reason: 'the carrier lost it',
    by: 'agent',
    toGroup: L2_GROUP,
  });
  const history = await fetch(
    `${gateway}/v1/conversations/${conversation.conversationId}/messages`,
    { headers: { authorization: `Bearer ${conversation.token}` } },
  );
  const { messages } = (await history.json()) as { messages: Array<{ text: string }> };
  const texts = messages.map((m) => m.text).join('\n');
  expect(texts).not.toContain('carrier lost it');
  expect(texts).not.toContain('Hello? Still there?');
  expect(texts).toContain('a new parcel is on its way');

  // /stats in the new topic: the queue and who is online.
  cluster.sandbox.state.injectMessage({
    chatId: L2_GROUP,
    messageThreadId: newTopic.threadId,
    text: '/stats',
    from: BOB,
  });
  const stats = await cluster.sandbox.state.waitFor(
    () => l2Posts(newTopic.threadId).find((m) => m.text?.startsWith('📊 Open:')),
    15_000,
  );
  expect(stats.text).toMatch(/^📊 Open: \d+ · Waiting: \d+/);
}, 120_000);

it('escalates in place where the next level has no group: the topic shows the level and mentions its agents; L3 is refused', async () => {
  const conversation = await startConversation(gateway);
  const visitor = await VisitorClient.connect(gateway, conversation.token);
  visitors.push(visitor);
  visitor.sendMessage('first', 'Second case');
  await visitor.waitFor((f) => f.type === 'ack');
  const oldTopic = await topicOf(cluster.sandbox, conversation.ticket);
  say(cluster.sandbox, ALICE, '/escalate', oldTopic);
  const topic = await cluster.sandbox.state.waitFor(
    () => cluster.sandbox.state.topics(L2_GROUP).find((t) => t.name.includes(conversation.ticket)),
    15_000,
  );
  const inTopic = (text: string) =>
    cluster.sandbox.state.injectMessage({
      chatId: L2_GROUP,
      messageThreadId: topic.threadId,
      text,
      from: BOB,
    });

  // No L3 group: the conversation stays in the L2 group's topic.
  inTopic('/escalate needs engineering');
  const post = await cluster.sandbox.state.waitFor(
    () => l2Posts(topic.threadId).find((m) => m.text?.includes('from L2 to L3')),
    15_000,
  );
  expect(post.text).toContain('⬆️ Escalated from L2 to L3 by Bob B.');
  expect(post.text).toContain('Reason: needs engineering');
  expect(post.text).not.toContain('🧾');
  const mention = post.message.entities?.find((e) => e.type === 'text_mention');
  expect(mention?.user?.id).toBe(CAROL.id);
  // The header and the topic's name follow (cosmetic edits: waited for, not assumed at once).
  await cluster.sandbox.state.waitFor(
    () =>
      l2Posts(topic.threadId)
        .find((m) => m.replyMarkup !== null)
        ?.text?.includes('Level: ⬆️ L3'),
    20_000,
  );
  await cluster.sandbox.state.waitFor(
    () =>
      cluster.sandbox.state
        .topics(L2_GROUP)
        .find((t) => t.threadId === topic.threadId)
        ?.name.includes(' · L3'),
    20_000,
  );
  // Bob still answers from here.
  inTopic('Engineering is on it');
  await visitor.waitFor((f) => f.type === 'message' && f['text'] === 'Engineering is on it');

  inTopic('/escalate again');
  await cluster.sandbox.state.waitFor(
    () => l2Posts(topic.threadId).find((m) => m.text?.includes('the highest level')),
    15_000,
  );
}, 120_000);
