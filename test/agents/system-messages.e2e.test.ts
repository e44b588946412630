import { afterAll, beforeAll, expect, it } from 'vitest';
import { VisitorClient, startConversation } from '@topicdesk/testkit';
import { GROUP_ID, startCluster, topicOf, type Cluster } from '../support/cluster';
import { admin, ALICE, botPosted, botPosts, say } from '../support/agents';

const SERVICE_TOKEN = 'service-token-for-the-templates-suite-012345';
let cluster: Cluster;
let gateway: string;

beforeAll(async () => {
  cluster = await startCluster({ gateways: 2, schedulers: 0, gatewayEnv: { SERVICE_TOKEN } });
  gateway = cluster.gateways[0]!.url;
  await admin(gateway, SERVICE_TOKEN, 'PUT', `/v1/admin/agents/${ALICE.id}`, {
    displayName: 'Alice',
  });
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
});

type Flags = { wsBanner: boolean; persist: boolean; telegram: boolean; pin: boolean };

/** Sets the agent_joined template (through replica B: a change applies on every replica at once). */
async function setJoined(flags: Flags, text: string, minIntervalMs = 0, locale = '') {
  const put = await admin(cluster.gateways[1]!.url, SERVICE_TOKEN, 'PUT', '/v1/admin/templates', {
    key: 'agent_joined',
    locale,
    text,
    minIntervalMs,
    ...flags,
  });
  expect(put.status).toBe(200);
}

async function conversationWithTopic(locale?: string) {
  const conversation = await startConversation(gateway, locale ? { locale } : {});
  const visitor = await VisitorClient.connect(gateway, conversation.token);
  visitor.sendMessage('one', 'hi');
  await visitor.waitFor((f) => f.type === 'ack');
  const threadId = await topicOf(cluster.sandbox, conversation.ticket);
  return { conversation, visitor, threadId };
}

async function history(conversation: { conversationId: string; token: string }) {
  const response = await fetch(
    `${gateway}/v1/conversations/${conversation.conversationId}/messages`,
    {
      headers: { authorization: `Bearer ${conversation.token}` },
    },
  );
  return ((await response.json()) as { messages: Array<{ kind: string; text: string }> }).messages;
}

const combos: Array<[string, Flags]> = [
  ['WS banner only', { wsBanner: true, persist: false, telegram: false, pin: false }],
  ['history only', { wsBanner: false, persist: true, telegram: false, pin: false }],
  ['history and banner', { wsBanner: true, persist: true, telegram: false, pin: false }],
  ['Telegram only', { wsBanner: false, persist: false, telegram: true, pin: false }],
  ['Telegram, pinned', { wsBanner: false, persist: false, telegram: true, pin: true }],
  ['everything', { wsBanner: true, persist: true, telegram: true, pin: true }],
  ['nothing', { wsBanner: false, persist: false, telegram: false, pin: false }],
];

for (const [name, flags] of combos) {
  it(`delivers a system message flagged "${name}" exactly where its flags say`, async () => {
    const text = `joined (${name})`;
    await setJoined(flags, text);
    const { conversation, visitor, threadId } = await conversationWithTopic();
    say(cluster.sandbox, ALICE, '/claim', threadId);
    await botPosted(cluster.sandbox, threadId, 'Claimed by Alice.');
    if (flags.telegram) await botPosted(cluster.sandbox, threadId, text);
    await new Promise((r) => setTimeout(r, 700));

    const live = visitor.frames.filter((f) => JSON.stringify(f).includes(text));
    const stored = (await history(conversation)).filter((m) => m.text === text);
    const inTopic = cluster.sandbox.state
      .messages({ chatId: GROUP_ID, threadId, fromBot: true })
      .filter((m) => m.text === text);
    expect(stored).toHaveLength(flags.persist ? 1 : 0);
    if (flags.persist) {
      expect(live).toEqual([
        expect.objectContaining({
          type: 'message',
          kind: 'system',
          ...(flags.wsBanner ? { banner: true } : {}),
        }),
      ]);
      if (!flags.wsBanner) expect(live[0]).not.toHaveProperty('banner');
    } else if (flags.wsBanner) {
      expect(live).toEqual([
        expect.objectContaining({ type: 'system', key: 'agent_joined', banner: true }),
      ]);
    } else {
      expect(live).toEqual([]);
    }
    expect(inTopic).toHaveLength(flags.telegram ? 1 : 0);
    if (flags.telegram) expect(inTopic[0]?.pinned).toBe(flags.pin);
    await visitor.close();
  });
}

it('holds the per-conversation minimum interval and falls back from exact to two-letter to default locale', async () => {
  await setJoined(
    { wsBanner: false, persist: true, telegram: false, pin: false },
    'joined (default)',
    60_000,
  );
  await setJoined(
    { wsBanner: false, persist: true, telegram: false, pin: false },
    'beigetreten (de)',
    60_000,
    'de',
  );
  const { conversation, threadId } = await conversationWithTopic('de-CH');
  for (const command of ['/claim', '/unclaim', '/claim', '/unclaim', '/claim']) {
    say(cluster.sandbox, ALICE, command, threadId);
    await cluster.sandbox.state.waitFor(() => botPosts(cluster.sandbox, threadId).length > 0);
    await new Promise((r) => setTimeout(r, 300));
  }
  await new Promise((r) => setTimeout(r, 700));
  const system = (await history(conversation))
    .filter((m) => m.kind === 'system')
    .map((m) => m.text);
  expect(system).toEqual(['beigetreten (de)']);

  const other = await conversationWithTopic('fr');
  say(cluster.sandbox, ALICE, '/claim', other.threadId);
  await botPosted(cluster.sandbox, other.threadId, 'Claimed by Alice.');
  await new Promise((r) => setTimeout(r, 700));
  expect(
    (await history(other.conversation)).filter((m) => m.kind === 'system').map((m) => m.text),
  ).toEqual(['joined (default)']);
});
