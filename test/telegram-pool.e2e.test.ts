// Issue 11, "Done when": a pool of sender bots under the sandbox's per-bot limits. The sandbox
// runs Telegram's limits with a 6 s group window instead of a minute (the bridge is told the
// same), so 30 new conversations are a real backlog for one bot (20 per window) but not for four.
import {
  RATE_LIMITED_METHODS,
  type Message,
  type RunningSandbox,
} from '@topicdesk/telegram-sandbox';
import { startConversation, VisitorClient } from '@topicdesk/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BOT_TOKEN,
  GROUP_ID,
  senderToken,
  startCluster,
  type Cluster,
  type ClusterOptions,
} from './support/cluster';

const LIMITS = {
  enabled: true,
  perGroupPerMinute: 20,
  groupWindowMs: 6_000,
  perChatPerSecond: 1,
  chatWindowMs: 1_000,
  globalPerSecond: 30,
};

const SENDER_TOKENS = [1, 2, 3].map(senderToken);
const botIdOf = (token: string) => Number(token.split(':')[0]);
const MAIN_BOT_ID = botIdOf(BOT_TOKEN);
const SENDER_BOT_IDS = SENDER_TOKENS.map(botIdOf);

/** Calls a pool bot may make into a group it is not in: the start-up check of its membership. */
const MEMBERSHIP_CHECKS: ReadonlySet<string> = new Set(['getChat', 'getChatMember']);

function startPoolCluster(bridges: number): Promise<Cluster> {
  const options: ClusterOptions = {
    gateways: 1,
    schedulers: 0,
    bridges,
    senderBots: SENDER_TOKENS.length,
    sandboxLimits: LIMITS,
    // The bridge counts a call when it takes the budget, the sandbox when the call arrives: on a
    // loaded two-core machine a call can take more than the default 250 ms margin from one to the
    // other, and a full window then sees it late (docs/operations.md: raise the safety margin).
    bridgeEnv: { TELEGRAM_LIMIT_GROUP_WINDOW: '6s', TELEGRAM_LIMIT_SAFETY: '1s' },
  };
  return startCluster(options);
}

interface Visitor {
  ticket: string;
  client: VisitorClient;
  texts: string[];
}

/** Visitors who start a conversation each and send their texts at once, all arriving together. */
async function arrive(
  cluster: Cluster,
  label: string,
  conversations: number,
  textsEach: number,
): Promise<Visitor[]> {
  const gatewayUrl = cluster.gateways[0]!.url;
  return Promise.all(
    Array.from({ length: conversations }, async (_, c) => {
      const conversation = await startConversation(gatewayUrl);
      const client = await VisitorClient.connect(gatewayUrl, conversation.token);
      const texts = Array.from({ length: textsEach }, (_, m) => `${label} c${c} m${m}`);
      texts.forEach((text, m) => client.sendMessage(`${label}-${c}-${m}`, text));
      return { ticket: conversation.ticket, client, texts };
    }),
  );
}

/**
 * This suite's texts (`<label> c<i> m<n>`) as the bots' messages in the group show them, per
 * topic, in message order. A text may arrive merged with others, or inside another message
 * (e.g. carried with the topic's header), so every message's text is searched.
 */
function textsByThread(sandbox: RunningSandbox, label: string): Map<number | null, string[]> {
  const pattern = new RegExp(`${label} c\\d+ m\\d+`, 'g');
  const byThread = new Map<number | null, string[]>();
  for (const message of sandbox.state.messages({ chatId: GROUP_ID, fromBot: true })) {
    const found = message.text?.match(pattern) ?? [];
    if (found.length > 0)
      byThread.set(message.threadId, [...(byThread.get(message.threadId) ?? []), ...found]);
  }
  return byThread;
}

/**
 * Waits until every visitor's texts are in the group, and returns each visitor's topic: the one
 * named with its ticket that holds its texts. A bridge killed after Telegram created a topic and
 * before it recorded it leaves an empty topic with the same ticket behind (the one window,
 * docs/operations.md); the conversation then lives in the topic created after it.
 */
async function waitForTexts(
  cluster: Cluster,
  label: string,
  visitors: readonly Visitor[],
  timeoutMs: number,
): Promise<Map<string, number>> {
  const threads = new Map<string, number>();
  const missing = () => {
    const byThread = textsByThread(cluster.sandbox, label);
    const topics = cluster.sandbox.state.topics(GROUP_ID);
    return visitors.flatMap((v) => {
      const named = topics.filter((t) => t.name.includes(v.ticket));
      const home =
        named.find((t) => v.texts.some((text) => byThread.get(t.threadId)?.includes(text))) ??
        named.at(-1);
      if (home) threads.set(v.ticket, home.threadId);
      const shown = new Set(home ? (byThread.get(home.threadId) ?? []) : []);
      return v.texts.filter((text) => !shown.has(text)).map((text) => `${v.ticket}: ${text}`);
    });
  };
  try {
    await cluster.sandbox.state.waitFor(() => missing().length === 0, timeoutMs);
  } catch (error) {
    // Say which texts never came, so a failure can be traced in the services' logs.
    throw new Error(`texts missing after ${timeoutMs} ms: ${missing().join('; ')}`, {
      cause: error,
    });
  }
  return threads;
}

/** When Telegram accepted each topic named with `ticket` (createForumTopic), oldest first. */
function topicsCreatedAt(sandbox: RunningSandbox, ticket: string): number[] {
  return sandbox.state
    .calls()
    .filter(
      (c) =>
        c.method === 'createForumTopic' &&
        c.status === 200 &&
        String(c.params['name']).includes(ticket),
    )
    .map((c) => c.at);
}

/** Rate-limited calls into the group that Telegram accepted, per bot id. */
function groupCallsByBot(sandbox: RunningSandbox, since = 0): Map<number | null, number> {
  const byBot = new Map<number | null, number>();
  for (const call of sandbox.state.calls())
    if (
      call.at >= since &&
      call.status === 200 &&
      RATE_LIMITED_METHODS.has(call.method) &&
      Number(call.params['chat_id']) === GROUP_ID
    )
      byBot.set(call.botId, (byBot.get(call.botId) ?? 0) + 1);
  return byBot;
}

/** How long before a SIGKILL a call Telegram accepted may still be unrecorded (see its use). */
const CUT_WINDOW_MS = 5_000;

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('three pool bots beside the main bot, two bridge replicas', () => {
  let cluster: Cluster;
  const visitors: VisitorClient[] = [];

  beforeAll(async () => {
    cluster = await startPoolCluster(2);
  }, 120_000);

  afterAll(async () => {
    await Promise.allSettled(visitors.map((v) => v.close()));
    await cluster?.stop();
  });

  it('brings 30 new conversations × 2 texts into their topics in order, once each, with 0 × 429 and every bot sending', async () => {
    const arrived = await arrive(cluster, 'pool', 30, 2);
    visitors.push(...arrived.map((v) => v.client));
    const threads = await waitForTexts(cluster, 'pool', arrived, 90_000);
    // Anything sent twice would show up shortly after the last text.
    await settle(2_000);

    const byThread = textsByThread(cluster.sandbox, 'pool');
    for (const visitor of arrived)
      expect(byThread.get(threads.get(visitor.ticket)!), visitor.ticket).toEqual(visitor.texts);
    // No text outside its conversation's topic, and one topic each.
    expect([...byThread.values()].flat()).toHaveLength(30 * 2);
    for (const visitor of arrived)
      expect(topicsCreatedAt(cluster.sandbox, visitor.ticket), visitor.ticket).toHaveLength(1);

    expect(cluster.sandbox.state.calls().filter((c) => c.status === 429)).toEqual([]);
    const byBot = groupCallsByBot(cluster.sandbox);
    for (const botId of [MAIN_BOT_ID, ...SENDER_BOT_IDS])
      expect(byBot.get(botId) ?? 0, `group calls by bot ${botId}`).toBeGreaterThan(0);
  }, 150_000);

  it('loses nothing when a bridge replica is killed mid-drain, and repeats only a send cut inside the documented window', async () => {
    // Each of this test's texts → the messages that showed it and when each first did (an edit
    // of a message is announced again: the same message, not a repeat).
    const shownIn = new Map<string, Map<number, number>>();
    const listener = ({ chatId, message }: { chatId: number; message: Message }) => {
      if (chatId !== GROUP_ID) return;
      for (const text of message.text?.match(/kill c\d+ m\d+/g) ?? []) {
        const messages = shownIn.get(text) ?? new Map<number, number>();
        if (!messages.has(message.message_id)) messages.set(message.message_id, Date.now());
        shownIn.set(text, messages);
      }
    };
    cluster.sandbox.state.on('message', listener);
    try {
      const arrived = await arrive(cluster, 'kill', 30, 2);
      visitors.push(...arrived.map((v) => v.client));
      await cluster.sandbox.state.waitFor(() => shownIn.size >= 20, 90_000);
      const killedAt = Date.now();
      await cluster.bridges[1]!.kill();
      // A call the replica wrote before it died can still be read and accepted by the sandbox
      // (in this process) until the exit is seen: the window ends there, not at the signal.
      const deadAt = Date.now();
      // Mid-drain: the replica died with texts still to send.
      expect(shownIn.size).toBeLessThan(30 * 2);

      const threads = await waitForTexts(cluster, 'kill', arrived, 90_000);
      await settle(2_000);

      // A SIGKILL between Telegram accepting a send and the bridge recording it repeats that
      // send (docs/operations.md, "Telegram duplicates: the one window"): a repeat is allowed
      // only of a text first shown shortly before the kill. Every other text shows once. The
      // window is normally milliseconds; on a loaded two-core machine the killed replica can
      // take seconds between Telegram's answer and its record, so the test allows CUT_WINDOW_MS.
      const inWindow = (at: number) => at >= killedAt - CUT_WINDOW_MS && at <= deadAt;
      const repeatable = (text: string) =>
        inWindow(Math.min(...(shownIn.get(text)?.values() ?? [])));
      const byThread = textsByThread(cluster.sandbox, 'kill');
      for (const visitor of arrived) {
        const shown = byThread.get(threads.get(visitor.ticket)!) ?? [];
        const once = shown.filter((text, i) => !(shown.indexOf(text) < i && repeatable(text)));
        expect(once, visitor.ticket).toEqual(visitor.texts);
      }
      const repeated = [...shownIn].filter(([, messages]) => messages.size > 1).map(([t]) => t);
      expect(repeated.filter((text) => !repeatable(text))).toEqual([]);
      // The same window for a topic: created by Telegram, the replica killed before recording
      // it, the conversation gets another. Only a topic created in the window before the kill
      // may be left behind, and it stays empty.
      for (const visitor of arrived) {
        const created = topicsCreatedAt(cluster.sandbox, visitor.ticket);
        expect(
          created.slice(0, -1).filter((at) => !inWindow(at)),
          `${visitor.ticket}: kill signalled at ${killedAt}, exit seen at ${deadAt}`,
        ).toEqual([]);
        const home = threads.get(visitor.ticket);
        for (const topic of cluster.sandbox.state.topics(GROUP_ID))
          if (topic.name.includes(visitor.ticket) && topic.threadId !== home)
            expect(byThread.get(topic.threadId) ?? [], visitor.ticket).toEqual([]);
      }
    } finally {
      cluster.sandbox.state.off('message', listener);
    }
  }, 240_000);
});

describe('a pool bot that has left the group', () => {
  let cluster: Cluster;
  const visitors: VisitorClient[] = [];
  const leftBotId = SENDER_BOT_IDS[1]!;
  let restartedAt = 0;

  beforeAll(async () => {
    cluster = await startPoolCluster(1);
    // The bridge checks its pool bots when it starts: take one out of the group, then start it.
    await cluster.bridge.stop();
    cluster.sandbox.state.setMember(GROUP_ID, leftBotId, 'left');
    restartedAt = Date.now();
    await cluster.bridge.start(60_000);
  }, 180_000);

  afterAll(async () => {
    await Promise.allSettled(visitors.map((v) => v.close()));
    await cluster?.stop();
  });

  it('is reported as left out in the log and /readyz, makes no call into the group, and conversations still reach their topics', async () => {
    // Logged while the bridge started (at error level, with the bot's id).
    const leftOut = cluster.bridge.output
      .split('\n')
      .filter((line) => line.includes('left out') && line.includes(String(leftBotId)));
    expect(leftOut.length, cluster.bridge.output.slice(-4000)).toBeGreaterThan(0);
    const readyz = await fetch(`${cluster.bridge.url}/readyz`);
    const probe = (await readyz.json()) as { checks?: Record<string, unknown> };
    expect(JSON.stringify(probe.checks?.['telegram'])).toContain(String(leftBotId));

    const arrived = await arrive(cluster, 'left', 10, 2);
    visitors.push(...arrived.map((v) => v.client));
    const threads = await waitForTexts(cluster, 'left', arrived, 90_000);
    const byThread = textsByThread(cluster.sandbox, 'left');
    for (const visitor of arrived)
      expect(byThread.get(threads.get(visitor.ticket)!), visitor.ticket).toEqual(visitor.texts);

    const intoGroup = cluster.sandbox.state
      .calls()
      .filter(
        (c) =>
          c.at >= restartedAt &&
          c.botId === leftBotId &&
          Number(c.params['chat_id']) === GROUP_ID &&
          !MEMBERSHIP_CHECKS.has(c.method),
      )
      .map((c) => `${c.method} ${c.status}`);
    expect(intoGroup).toEqual([]);
    // The others carried the work.
    const byBot = groupCallsByBot(cluster.sandbox, restartedAt);
    expect(
      SENDER_BOT_IDS.filter((id) => id !== leftBotId).some((id) => (byBot.get(id) ?? 0) > 0),
    ).toBe(true);
  }, 150_000);
});
