import type { Coordination } from '@topicdesk/fanout';
import type { RunningSandbox } from '@topicdesk/telegram-sandbox';
import { createLogger } from '@topicdesk/telemetry';
import { cleanupRedis, uniqueName } from '@topicdesk/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createBridgeMetrics } from '../src/metrics';
import { BotRight } from '../src/sender/bot-pool';
import { SendPriority, type TelegramSender } from '../src/sender/telegram-sender';
import { createTelegramApi } from '../src/sender/telegram-api';
import { pacedReplica, startPacedSandbox } from './paced-sandbox';

// The sender against the Bot API sandbox (Telegram's limits per bot, short windows) and the
// real Redis that holds the budgets of every replica.

const GROUP = -1001000000077;
const MAIN = '300000001:sender-test-main';
const SENDERS = ['300000002:sender-test-a', '300000003:sender-test-b'];
const WINDOW_MS = 3000;
const PER_WINDOW = 5;

let sandbox: RunningSandbox;
const opened: Array<{ coordination: Coordination; sender: TelegramSender; namespace: string }> = [];
const lines: string[] = [];

beforeAll(async () => {
  sandbox = await startPacedSandbox(GROUP, PER_WINDOW, WINDOW_MS);
});

afterEach(async () => {
  for (const { coordination, sender, namespace } of opened.splice(0)) {
    sender.close();
    await coordination.close();
    await cleanupRedis(namespace);
  }
  sandbox.state.reset();
  lines.length = 0;
});

afterAll(async () => {
  await sandbox?.close();
});

/** A "replica": its own Redis connection and sender over the same bots and namespace. */
async function replica(namespace: string, senders = SENDERS): Promise<TelegramSender> {
  const logger = createLogger({
    service: 'sender-test',
    level: 'info',
    destination: { write: (line: string) => lines.push(line) },
  });
  const { sender, coordination } = await pacedReplica({
    sandbox,
    group: GROUP,
    main: MAIN,
    senders,
    perWindow: PER_WINDOW,
    windowMs: WINDOW_MS,
    namespace,
    logger,
  });
  opened.push({ coordination, sender, namespace });
  return sender;
}

function post(
  sender: TelegramSender,
  text: string,
  options: { since?: number; priority?: SendPriority } = {},
) {
  return sender.send({
    method: 'sendMessage',
    chatId: GROUP,
    priority: options.priority ?? SendPriority.normal,
    since: options.since ?? Date.now(),
    call: (api) => api.sendMessage(GROUP, text),
  });
}

const groupSends = () =>
  sandbox.state.calls({ method: 'sendMessage' }).filter((call) => call.status === 200);

describe('TelegramSender', () => {
  it('spreads a burst over every bot of the pool from two replicas, without a single 429', async () => {
    const namespace = uniqueName('sender');
    const [a, b] = [await replica(namespace), await replica(namespace)];
    const started = Date.now();
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => post(i % 2 === 0 ? a : b, `burst ${i}`)),
    );
    const elapsed = Date.now() - started;
    expect(results.every((r) => r.ok)).toBe(true);
    expect(groupSends()).toHaveLength(30);
    expect(sandbox.state.calls().filter((call) => call.status === 429)).toEqual([]);
    const perBot = new Map<number | null, number>();
    for (const call of groupSends()) perBot.set(call.botId, (perBot.get(call.botId) ?? 0) + 1);
    // Three bots, five per window each: 30 sends take two windows, not six.
    expect([...perBot.values()].sort()).toEqual([10, 10, 10]);
    expect(elapsed).toBeLessThan(3 * WINDOW_MS);
  });

  it('serves normal work before cosmetic work, and the longest wait first within a class', async () => {
    const sender = await replica(uniqueName('sender'), []);
    // Fill the one bot's window, then queue: cosmetic first, then normal ones out of order.
    await Promise.all(Array.from({ length: PER_WINDOW }, (_, i) => post(sender, `fill ${i}`)));
    const now = Date.now();
    const order: string[] = [];
    const track = (label: string, promise: ReturnType<typeof post>) =>
      promise.then((result) => {
        expect(result.ok).toBe(true);
        order.push(label);
      });
    await Promise.all([
      track(
        'cosmetic',
        post(sender, 'cosmetic', { priority: SendPriority.cosmetic, since: now - 60_000 }),
      ),
      track('newer', post(sender, 'newer', { since: now - 1_000 })),
      track('older', post(sender, 'older', { since: now - 5_000 })),
    ]);
    expect(order).toEqual(['older', 'newer', 'cosmetic']);
  });

  it('gives up a cosmetic call that finds no room within its wait', async () => {
    const sender = await replica(uniqueName('sender'), []);
    await Promise.all(Array.from({ length: PER_WINDOW }, (_, i) => post(sender, `fill ${i}`)));
    const result = await sender.send({
      method: 'sendChatAction',
      chatId: GROUP,
      priority: SendPriority.cosmetic,
      since: Date.now(),
      maxWaitMs: 0,
      call: (api) => api.sendChatAction(GROUP, 'typing'),
    });
    expect(result).toMatchObject({ ok: false, failure: { kind: 'deferred' } });
    expect(sandbox.state.calls({ method: 'sendChatAction' })).toEqual([]);
  });

  it('moves the work of a bot that Telegram answered 429 to the other bots', async () => {
    const namespace = uniqueName('sender');
    const sender = await replica(namespace);
    // Someone else used bot A's group budget in Telegram's eyes: its next call gets a 429.
    const botA = Number(SENDERS[0]!.split(':')[0]);
    const foreign = createTelegramApi(SENDERS[0]!, sandbox.url, createBridgeMetrics());
    for (let i = 0; i < PER_WINDOW; i++) await foreign.sendMessage(GROUP, `elsewhere ${i}`);
    const before = groupSends().length;
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => post(sender, `moved ${i}`)),
    );
    expect(results.every((r) => r.ok)).toBe(true);
    const ours = groupSends().slice(before);
    expect(ours).toHaveLength(8);
    const tooMany = sandbox.state.calls().filter((call) => call.status === 429);
    // Only bot A hears 429 — the calls already on their way to it when the first came back —
    // and nothing is sent with bot A after that: it waits, the other bots carry the burst.
    expect(tooMany.length).toBeGreaterThan(0);
    expect(tooMany.every((call) => call.botId === botA)).toBe(true);
    const first = Math.min(...tooMany.map((call) => call.at));
    expect(
      sandbox.state.calls().filter((call) => call.botId === botA && call.at > first + 100),
    ).toEqual([]);
  });

  it('leaves a bot that is not in the group out, says so, and sends with the others', async () => {
    const left = Number(SENDERS[1]!.split(':')[0]);
    sandbox.state.setMember(GROUP, left, 'left');
    const sender = await replica(uniqueName('sender'));
    expect(
      lines.some((line) => line.includes(`sender bot ${left} left out of group ${GROUP}`)),
    ).toBe(true);
    expect(sender.pool.describe()).toContain(`sender bot ${left} left out`);
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => post(sender, `kept ${i}`)),
    );
    expect(results.every((r) => r.ok)).toBe(true);
    expect(groupSends().filter((call) => call.botId === left)).toEqual([]);
    // Topic calls need "Manage topics": a plain member is asked for posts only.
    const member = Number(SENDERS[0]!.split(':')[0]);
    sandbox.state.setMember(GROUP, member, 'member');
    await sender.pool.check([GROUP]);
    expect(sender.pool.eligible(GROUP, BotRight.topics).map((bot) => bot.id)).toEqual([
      MAIN.split(':')[0],
    ]);
    expect(sender.pool.eligible(GROUP, BotRight.post).map((bot) => bot.id)).toEqual([
      MAIN.split(':')[0],
      String(member),
    ]);
  });
});
