import type { MessageView } from '@topicdesk/telegram-sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, ALICE, botPosted, header, topicClosed } from '../support/agents';
import {
  agentSays,
  botTexts,
  GROUP_ID,
  startCluster,
  topicOf,
  type Cluster,
} from '../support/cluster';
import { OWNER_BOT_ID, OWNER_TOKEN, ownerBot } from './owner-bot';

// Issue 19 end to end: an owner's grammY bot of the test's own, with @topicdesk/grammy, polling
// the sandbox under its own token. Its users reach the agents' topics and get the answers from
// the owner's bot; the bot's own commands keep working; restarts lose nothing.

const SERVICE_TOKEN = 'service-token-for-the-grammy-plugin-suite';

/** Users of the owner's bot; their ids and names must never reach the agents' group. */
const ZEB = {
  id: 5_900_100_200,
  is_bot: false,
  first_name: 'Zebulon',
  username: 'zeb_sched',
  language_code: 'en',
};
const NINA = { id: 5_900_100_201, is_bot: false, first_name: 'Nina', language_code: 'en' };
const VERA = { id: 5_900_100_202, is_bot: false, first_name: 'Vera', language_code: 'en' };
const WALT = { id: 5_900_100_203, is_bot: false, first_name: 'Walt', language_code: 'en' };
type User = typeof ZEB | typeof NINA | typeof VERA | typeof WALT;
/** The VIP team's support group: the owner's VIP clients are routed there by their segment. */
const VIP_GROUP = -1001000000019;

let cluster: Cluster;
let secret: string;
let owner: ReturnType<typeof ownerBot> | undefined;

function startOwner() {
  owner = ownerBot({
    apiRoot: cluster.sandbox.url,
    gatewayUrl: cluster.gateways[0]!.url,
    channelSecret: secret,
    providers: new Set([VERA.id]),
    vips: new Set([WALT.id]),
  });
}

beforeAll(async () => {
  cluster = await startCluster({ gateways: 1, gatewayEnv: { SERVICE_TOKEN } });
  const url = cluster.gateways[0]!.url;
  expect(
    (
      await admin(url, SERVICE_TOKEN, 'PUT', `/v1/admin/agents/${ALICE.id}`, {
        displayName: 'Alice M.',
      })
    ).status,
  ).toBe(200);
  const registered = await admin(url, SERVICE_TOKEN, 'POST', '/v1/admin/bot-channels', {
    token: OWNER_TOKEN,
    name: 'Scheduler',
  });
  expect(registered.status).toBe(201);
  secret = registered.body['secret'] as string;
  // The owner's providers come first: a priority rule by segment.
  const rules = await admin(url, SERVICE_TOKEN, 'PUT', '/v1/admin/priority-rules', {
    rules: [{ segment: 'provider', priority: 'high' }],
  });
  expect(rules.status).toBe(200);
  // The owner's VIP clients go to a group of their own: routing by segment.
  cluster.sandbox.state.world.addForum(VIP_GROUP, 'VIP desk');
  const vipGroup = await admin(url, SERVICE_TOKEN, 'PUT', `/v1/admin/groups/${VIP_GROUP}`, {
    title: 'VIP desk',
    segments: ['vip'],
  });
  expect(vipGroup.status).toBe(200);
  // The owner's bot is no member of the support groups: it only talks to its users.
  cluster.sandbox.state.setMember(GROUP_ID, OWNER_BOT_ID, 'left');
  cluster.sandbox.state.setMember(VIP_GROUP, OWNER_BOT_ID, 'left');
  startOwner();
}, 180_000);

afterAll(async () => {
  await owner?.stop();
  await cluster?.stop();
});

/** A user writes to the owner's bot (only that bot gets it). */
function write(user: User, text: string) {
  return cluster.sandbox.state.injectMessage({
    chatId: user.id,
    text,
    from: user,
    toBot: OWNER_BOT_ID,
  });
}

/** What the owner's bot sent the user, oldest first. */
function fromOwner(user: User): MessageView[] {
  return cluster.sandbox.state
    .messages({ chatId: user.id, fromBot: true })
    .filter((m) => m.from?.id === OWNER_BOT_ID);
}

function ownerSaid(user: User, fragment: string, timeoutMs = 20_000) {
  return cluster.sandbox.state.waitFor(
    () => fromOwner(user).find((m) => m.text?.includes(fragment)),
    timeoutMs,
  );
}

function countSaid(user: User, fragment: string) {
  return fromOwner(user).filter((m) => m.text?.includes(fragment)).length;
}

async function press(user: User, message: MessageView, label: string) {
  const button = message.replyMarkup?.inline_keyboard.flat().find((b) => b.text.includes(label));
  if (!button || !('callback_data' in button) || button.callback_data === undefined)
    throw new Error(`no button ${label}`);
  const id = cluster.sandbox.state.pressButton({
    chatId: user.id,
    messageId: message.messageId,
    data: button.callback_data,
    from: user,
  });
  return cluster.sandbox.state.waitFor(() => cluster.sandbox.state.callbackAnswer(id), 20_000);
}

function ticketIn(text: string): string {
  const ticket = /SUPP-[0-9A-Z]+-[0-9A-Z]{4}/.exec(text)?.[0];
  if (!ticket) throw new Error(`no ticket in ${text}`);
  return ticket;
}

function topicHas(threadId: number, text: string, timeoutMs = 20_000) {
  return cluster.sandbox.state.waitFor(
    () => botTexts(cluster.sandbox, threadId).some((t) => t.includes(text)),
    timeoutMs,
  );
}

function headerShows(threadId: number, text: string) {
  return cluster.sandbox.state.waitFor(
    () => header(cluster.sandbox, threadId)?.text?.includes(text),
    20_000,
  );
}

describe('the admin API of bot channels', () => {
  it('lists channels without their token, and refuses a second channel of a bot and a bad token', async () => {
    const url = cluster.gateways[0]!.url;
    const list = await admin(url, SERVICE_TOKEN, 'GET', '/v1/admin/bot-channels');
    expect(list.status).toBe(200);
    expect(JSON.stringify(list.body)).not.toContain(OWNER_TOKEN);
    expect(JSON.stringify(list.body)).not.toContain(secret);
    expect(list.body['channels']).toEqual([
      expect.objectContaining({ botId: String(OWNER_BOT_ID), name: 'Scheduler' }),
    ]);
    const again = await admin(url, SERVICE_TOKEN, 'POST', '/v1/admin/bot-channels', {
      token: OWNER_TOKEN,
    });
    expect(again.body).toMatchObject({ error: { code: 'BOT_CHANNEL_EXISTS' } });
    const bad = await admin(url, SERVICE_TOKEN, 'POST', '/v1/admin/bot-channels', {
      token: 'not a token',
    });
    expect(bad.body).toMatchObject({ error: { code: 'BOT_TOKEN_INVALID' } });
    const wrong = await admin(url, 'tdch_wrong', 'GET', '/v1/channels/bot/users');
    expect(wrong.body).toMatchObject({ error: { code: 'CHANNEL_SECRET_INVALID' } });
  });
});

describe("live support in the owner's bot", () => {
  let threadId: number;

  it("takes a user from the Live support button to a topic and brings the agent's answer back", async () => {
    write(ZEB, '/start');
    const menu = await ownerSaid(ZEB, 'Welcome to the scheduler');
    const toast = await press(ZEB, menu, 'Live support');
    expect(toast).toBeDefined();
    const welcome = await ownerSaid(ZEB, 'You are connected to support');
    const ticket = ticketIn(welcome.text ?? '');
    threadId = await topicOf(cluster.sandbox, ticket);
    await headerShows(threadId, 'Segment: client');

    write(ZEB, 'I need to move my appointment');
    await topicHas(threadId, 'I need to move my appointment');
    agentSays(cluster.sandbox, threadId, 'Sure, which day suits you?');
    await ownerSaid(ZEB, 'Sure, which day suits you?');
    // The user's identity never reaches the agents' group.
    const group = cluster.sandbox.state
      .messages({ chatId: GROUP_ID, threadId })
      .map((m) => m.text ?? '')
      .join('\n');
    for (const secretBit of [String(ZEB.id), ZEB.first_name, ZEB.username])
      expect(group).not.toContain(secretBit);
  });

  it("keeps the bot's own commands for the user in support and for other users", async () => {
    write(ZEB, '/book');
    await ownerSaid(ZEB, 'Booked: Tuesday 10:00');
    write(NINA, 'hello scheduler');
    await ownerSaid(NINA, 'Scheduler heard: hello scheduler');
    write(NINA, '/book');
    await ownerSaid(NINA, 'Booked: Tuesday 10:00');
    // Zeb's texts still go to the agents, not to the echo.
    write(ZEB, 'Thursday would be best');
    await topicHas(threadId, 'Thursday would be best');
    expect(countSaid(ZEB, 'Scheduler heard')).toBe(0);
  });

  it("loses nothing when the owner's bot restarts mid-conversation", async () => {
    await owner!.stop();
    owner = undefined;
    write(ZEB, 'written while the bot was down');
    startOwner();
    await topicHas(threadId, 'written while the bot was down');
    expect(countSaid(ZEB, 'Scheduler heard')).toBe(0);
  });

  it('loses nothing when the gateway restarts mid-conversation', async () => {
    const gateway = cluster.gateways[0]!;
    await gateway.stop();
    write(ZEB, 'written while Topicdesk was down');
    await gateway.start(60_000);
    await topicHas(threadId, 'written while Topicdesk was down', 60_000);
    expect(countSaid(ZEB, 'Scheduler heard')).toBe(0);
  });

  it('loses nothing when the bridge restarts mid-conversation', async () => {
    await cluster.bridge.stop();
    write(ZEB, 'written while the bridge was down');
    // Acknowledged by the gateway meanwhile; the bridge brings it to the topic once back.
    await cluster.bridge.start(60_000);
    await topicHas(threadId, 'written while the bridge was down', 60_000);
  });

  it('ends with /end, asks for a rating, and gives texts back to the bot', async () => {
    write(ZEB, '/end');
    await cluster.sandbox.state.waitFor(() => topicClosed(cluster.sandbox, threadId), 20_000);
    await botPosted(cluster.sandbox, threadId, 'The visitor ended the conversation');
    const prompt = await ownerSaid(ZEB, 'How did we do?');
    const toast = await press(ZEB, prompt, '5');
    expect(toast.text).toContain('Thank you');
    await ownerSaid(ZEB, '⭐⭐⭐⭐⭐');
    write(ZEB, 'back to booking');
    await ownerSaid(ZEB, 'Scheduler heard: back to booking');
  });

  it("tells the agents when a user blocked the owner's bot", async () => {
    write(VERA, '/support');
    const welcome = await ownerSaid(VERA, 'You are connected to support');
    const vera = await topicOf(cluster.sandbox, ticketIn(welcome.text ?? ''));
    await headerShows(vera, 'Segment: provider');
    await headerShows(vera, 'Priority: 🔴 high');
    cluster.sandbox.state.blockBot(VERA.id, OWNER_BOT_ID);
    agentSays(cluster.sandbox, vera, 'Are you still there?');
    await botPosted(cluster.sandbox, vera, 'Not delivered to the user');
    expect(botTexts(cluster.sandbox, vera).join('\n')).toContain('the user blocked the bot');
  });
});

describe('routing by segment', () => {
  it("puts a VIP client's conversation into the VIP group's topic and answers from there", async () => {
    // The bridge serves the group registered at the start from its first update.
    cluster.sandbox.state.injectMessage({ chatId: VIP_GROUP, text: '/help', from: ALICE });
    await cluster.sandbox.state.waitFor(
      () =>
        cluster.sandbox.state
          .messages({ chatId: VIP_GROUP, threadId: 1, fromBot: true })
          .some((m) => m.text?.includes('Each conversation has its own topic')) || undefined,
      20_000,
    );
    write(WALT, '/support');
    const welcome = await ownerSaid(WALT, 'You are connected to support');
    const ticket = ticketIn(welcome.text ?? '');
    const topic = await cluster.sandbox.state.waitFor(
      () => cluster.sandbox.state.topics(VIP_GROUP).find((t) => t.name.includes(ticket)),
      20_000,
    );
    expect(cluster.sandbox.state.topics(GROUP_ID).some((t) => t.name.includes(ticket))).toBe(false);
    const vipPosts = () =>
      cluster.sandbox.state
        .messages({ chatId: VIP_GROUP, threadId: topic.threadId, fromBot: true })
        .map((m) => m.text ?? '');
    await cluster.sandbox.state.waitFor(
      () => vipPosts().some((t) => t.includes('Segment: vip')) || undefined,
      20_000,
    );
    write(WALT, 'Can I get an earlier slot?');
    await cluster.sandbox.state.waitFor(
      () => vipPosts().some((t) => t.includes('Can I get an earlier slot?')) || undefined,
      20_000,
    );
    cluster.sandbox.state.injectMessage({
      chatId: VIP_GROUP,
      messageThreadId: topic.threadId,
      text: 'Of course, Monday 8:00.',
      from: ALICE,
    });
    await ownerSaid(WALT, 'Of course, Monday 8:00.');
  });
});
