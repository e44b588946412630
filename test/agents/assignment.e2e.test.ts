import { afterAll, beforeAll, expect, it } from 'vitest';
import { startConversation, VisitorClient } from '@topicdesk/testkit';
import { GROUP_ID, startCluster, topicOf, type Cluster } from '../support/cluster';
import { schedulerClock } from '../support/scheduler-clock';
import { admin, ALICE, BOB, botPosted, botPosts, header, say } from '../support/agents';

// Agents as a team: presence, capacity and automatic assignment, with two bridges and two
// schedulers running assignment passes against the same database.
const SERVICE_TOKEN = 'service-token-for-the-assignment-suite-01';
const CAROL = { id: 7003, first_name: 'Carol', last_name: 'Away', username: 'carol_agent' };
const clock = schedulerClock();
let cluster: Cluster;
let gateway: string;
const visitors: VisitorClient[] = [];
const team = { ASSIGNMENT: 'auto', AGENT_CAPACITY_DEFAULT: '1' };

beforeAll(async () => {
  cluster = await startCluster({
    gateways: 1,
    bridges: 2,
    schedulers: 2,
    gatewayEnv: { SERVICE_TOKEN },
    bridgeEnv: team,
    schedulerEnv: {
      ...team,
      SCHEDULER_CLOCK_FILE: clock.file,
      SCHEDULER_INTERVAL: '200ms',
      AGENT_IDLE_AWAY_MINUTES: '30',
      SUPPORT_GROUP_ID: String(GROUP_ID),
    },
  });
  gateway = cluster.gateways[0]!.url;
  for (const [agent, displayName] of [
    [ALICE, 'Alice M.'],
    [BOB, 'Bob B.'],
    [CAROL, 'Carol C.'],
  ] as const) {
    const saved = await admin(gateway, SERVICE_TOKEN, 'PUT', `/v1/admin/agents/${agent.id}`, {
      displayName,
      capacity: 1,
    });
    expect(saved.status).toBe(200);
  }
}, 120_000);

afterAll(async () => {
  await Promise.allSettled(visitors.map((v) => v.close()));
  await cluster?.stop();
  clock.remove();
});

/** A visitor writes: the conversation starts and gets its topic. */
async function open(text: string) {
  const conversation = await startConversation(gateway);
  const visitor = await VisitorClient.connect(gateway, conversation.token);
  visitors.push(visitor);
  visitor.sendMessage('first', text);
  await visitor.waitFor((f) => f.type === 'ack');
  const threadId = await topicOf(cluster.sandbox, conversation.ticket);
  return { conversation, visitor, threadId };
}

/** The bot's answer in General (thread 1) that contains `fragment`. */
function generalAnswer(fragment: string) {
  return cluster.sandbox.state.waitFor(
    () =>
      cluster.sandbox.state
        .messages({ chatId: GROUP_ID, threadId: 1, fromBot: true })
        .find((m) => m.text?.includes(fragment)),
    10_000,
  );
}

/** "Assigned to" posts of a topic, with their mentions. */
function assignedPosts(threadId: number) {
  return cluster.sandbox.state
    .messages({ chatId: GROUP_ID, threadId, fromBot: true })
    .filter((m) => m.text?.startsWith('📌 Assigned to'));
}

async function agents() {
  const listed = await admin(gateway, SERVICE_TOKEN, 'GET', '/v1/admin/agents');
  return listed.body['agents'] as Array<{
    telegramUserId: number;
    presence: string;
    load: number;
    capacity: number | null;
  }>;
}

it('assigns by free capacity, mentions the agent, queues the rest, and never assigns twice', async () => {
  // Alice comes online with a command, Bob with the /status buttons; Carol is away.
  say(cluster.sandbox, ALICE, '/online');
  await generalAnswer('You are now 🟢 online · 0 of 1 open conversations.');
  say(cluster.sandbox, CAROL, '/away');
  await generalAnswer('You are now 🌙 away');
  say(cluster.sandbox, BOB, '/status');
  const status = await generalAnswer('You are ⚫ offline · 0 of 1 open conversations.');
  const online = status.replyMarkup!.inline_keyboard.flat().find((b) => b.text.includes('Online'));
  const press = cluster.sandbox.state.pressButton({
    chatId: GROUP_ID,
    messageId: status.messageId,
    data: (online as { callback_data: string }).callback_data,
    from: { ...BOB, is_bot: false },
  });
  expect(
    await cluster.sandbox.state.waitFor(() => cluster.sandbox.state.callbackAnswer(press)?.text),
  ).toBe('You are now 🟢 online · 0 of 1 open conversations.');

  const first = await open('first visitor');
  const second = await open('second visitor');
  const third = await open('third visitor');
  for (const { threadId } of [first, second])
    await cluster.sandbox.state.waitFor(() => assignedPosts(threadId).length > 0, 15_000);
  const holders = [first, second].map(({ threadId }) => {
    const [post] = assignedPosts(threadId);
    const mention = post!.message.entities?.find((e) => e.type === 'text_mention');
    expect(mention).toBeDefined();
    // The mention covers the agent's name and carries their user id: Telegram notifies them.
    expect(post!.text!.slice(mention!.offset, mention!.offset + mention!.length)).toBe(
      mention!.user!.id === ALICE.id ? 'Alice M.' : 'Bob B.',
    );
    return mention!.user!.id;
  });
  expect(holders.sort()).toEqual([ALICE.id, BOB.id]);
  // The visitor's history says who joined (the assignment came before they connected).
  for (const { conversation } of [first, second]) {
    const history = await fetch(
      `${gateway}/v1/conversations/${conversation.conversationId}/messages`,
      { headers: { authorization: `Bearer ${conversation.token}` } },
    );
    const { messages } = (await history.json()) as { messages: Array<{ text: string }> };
    expect(messages.map((m) => m.text).join('\n')).toMatch(/(Alice M\.|Bob B\.) joined/);
  }

  // Nobody has a free place (Carol is away): the third waits, long enough for many passes.
  await new Promise((r) => setTimeout(r, 1500));
  expect(assignedPosts(third.threadId)).toHaveLength(0);
  expect(header(cluster.sandbox, third.threadId)?.text).toContain('not claimed yet');
  expect((await agents()).find((a) => a.telegramUserId === CAROL.id)).toMatchObject({
    presence: 'away',
    load: 0,
  });

  // Alice closes hers: the third is hers at once.
  const alices = holders[0] === ALICE.id ? first : second;
  say(cluster.sandbox, ALICE, '/close', alices.threadId);
  const post = await botPosted(cluster.sandbox, third.threadId, '📌 Assigned to Alice M.');
  expect(post).toBe('📌 Assigned to Alice M.');
  await cluster.sandbox.state.waitFor(() =>
    header(cluster.sandbox, third.threadId)?.text?.includes('claimed by Alice M.'),
  );

  // More passes (two bridges, two schedulers) change nothing: one assignment each, ever.
  await new Promise((r) => setTimeout(r, 1500));
  for (const { threadId } of [first, second, third])
    expect(assignedPosts(threadId)).toHaveLength(1);
  const audit = await admin(gateway, SERVICE_TOKEN, 'GET', '/v1/admin/audit?limit=200');
  const assigns = (audit.body['entries'] as Array<{ action: string; conversationId: string }>)
    .filter((e) => e.action === 'conversation.assign')
    .map((e) => e.conversationId);
  expect(assigns.sort()).toEqual(
    [first, second, third].map((c) => c.conversation.conversationId).sort(),
  );
  expect((await agents()).map((a) => [a.telegramUserId, a.presence, a.load]).sort()).toEqual([
    [ALICE.id, 'online', 1],
    [BOB.id, 'online', 1],
    [CAROL.id, 'away', 0],
  ]);
});

it('sets a priority from the topic and shows it in the header', async () => {
  const { threadId } = await open('urgent, please');
  say(cluster.sandbox, BOB, '/priority high', threadId);
  await botPosted(cluster.sandbox, threadId, 'Priority set to high.');
  await cluster.sandbox.state.waitFor(() =>
    header(cluster.sandbox, threadId)?.text?.includes('Priority: 🔴 high'),
  );
  say(cluster.sandbox, BOB, '/priority urgent', threadId);
  await botPosted(cluster.sandbox, threadId, 'Set it with /priority high');
  expect(botPosts(cluster.sandbox, threadId).join('\n')).not.toContain('Priority set to urgent');
});

it('moves online agents away after the idle time (once, with two schedulers)', async () => {
  clock.set(31 * 60_000);
  const deadline = Date.now() + 15_000;
  while (!(await agents()).every((a) => a.presence === 'away')) {
    expect(Date.now()).toBeLessThan(deadline);
    await new Promise((r) => setTimeout(r, 200));
  }
  const audit = await admin(gateway, SERVICE_TOKEN, 'GET', '/v1/admin/audit?limit=200');
  const idle = (
    audit.body['entries'] as Array<{ action: string; details: { idle?: boolean } }>
  ).filter((e) => e.action === 'agent.presence' && e.details.idle === true);
  expect(idle).toHaveLength(2);
});
