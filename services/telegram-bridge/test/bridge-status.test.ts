import { createInProcessBus, topics, type Bus } from '@topicdesk/bus';
import { BotRole, BotState, timestampMs, type BridgeStatus } from '@topicdesk/contracts';
import type { Coordination } from '@topicdesk/fanout';
import type { RunningSandbox } from '@topicdesk/telegram-sandbox';
import { createLogger } from '@topicdesk/telemetry';
import { cleanupRedis, uniqueName } from '@topicdesk/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { publishBridgeStatus, readBridgeStatus } from '../src/bridge-status';
import { createBridgeMetrics } from '../src/metrics';
import { SendPriority, type TelegramSender } from '../src/sender/telegram-sender';
import { createTelegramApi } from '../src/sender/telegram-api';
import { pacedReplica, startPacedSandbox } from './paced-sandbox';

// The console's view of the bots: a 429 with retry_after from the sandbox pauses one sender bot,
// in Redis, so the status of every replica says "paused until T" for it while the others are ok.

const GROUP = -1001000000078;
const MAIN = '310000001:status-test-main';
const SENDERS = ['310000002:status-test-a', '310000003:status-test-b'];
const WINDOW_MS = 3000;
const PER_WINDOW = 5;
const botId = (token: string) => token.split(':')[0]!;

let sandbox: RunningSandbox;
const opened: Array<{ coordination: Coordination; sender: TelegramSender; bus: Bus }> = [];
const namespaces: string[] = [];

beforeAll(async () => {
  sandbox = await startPacedSandbox(GROUP, PER_WINDOW, WINDOW_MS);
});

afterEach(async () => {
  for (const { coordination, sender, bus } of opened.splice(0)) {
    sender.close();
    await bus.close();
    await coordination.close();
  }
  for (const namespace of namespaces.splice(0)) await cleanupRedis(namespace);
  sandbox.state.reset();
});

afterAll(async () => {
  await sandbox?.close();
});

/** A bridge replica's sender and pool over the shared Redis namespace. */
async function replica(namespace: string) {
  const logger = createLogger({
    service: 'status-test',
    level: 'error',
    destination: { write: () => undefined },
  });
  const { pool, sender, coordination } = await pacedReplica({
    sandbox,
    group: GROUP,
    main: MAIN,
    senders: SENDERS,
    perWindow: PER_WINDOW,
    windowMs: WINDOW_MS,
    namespace,
    logger,
  });
  const bus = createInProcessBus();
  opened.push({ coordination, sender, bus });
  const source = {
    tenantId: 'default',
    pool,
    sender,
    budgets: coordination.budgets,
    groups: async () => [GROUP],
  };
  return { pool, sender, bus, logger, source };
}

const byId = (status: { bots: BridgeStatus['bots'] }) =>
  new Map(status.bots.map((bot) => [bot.botId, bot]));

describe('the bridge status (the console Overview’s bots)', () => {
  it('says one sender is paused until T after its 429 while the others are ok, on every replica', async () => {
    const namespace = uniqueName('status');
    namespaces.push(namespace);
    const a = await replica(namespace);
    const b = await replica(namespace);
    const heard: BridgeStatus[] = [];
    const listening = a.bus.onSignal(topics.bridgeStatus, (status) => void heard.push(status));
    await listening.ready;
    const publisher = publishBridgeStatus(a.source, { bus: a.bus, logger: a.logger });
    await publisher.ready;
    try {
      // Someone else used bot A's group budget in Telegram's eyes: its next call gets a 429.
      const paused = botId(SENDERS[0]!);
      const foreign = createTelegramApi(SENDERS[0]!, sandbox.url, createBridgeMetrics());
      for (let i = 0; i < PER_WINDOW; i++) await foreign.sendMessage(GROUP, `elsewhere ${i}`);
      const sentAt = Date.now();
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          a.sender.send({
            method: 'sendMessage',
            chatId: GROUP,
            priority: SendPriority.normal,
            since: Date.now(),
            call: (api) => api.sendMessage(GROUP, `status ${i}`),
          }),
        ),
      );
      expect(results.every((r) => r.ok)).toBe(true);
      const refused = sandbox.state.calls().filter((call) => call.status === 429);
      expect(refused.length).toBeGreaterThan(0);
      expect(refused.every((call) => String(call.botId) === paused)).toBe(true);

      // The publisher told it on its own (the pool's change), without waiting for its interval.
      await expect
        .poll(() => heard.some((s) => byId(s).get(paused)?.state === BotState.PAUSED), {
          timeout: 2000,
        })
        .toBe(true);

      // Replica B never got a 429: it reads the pause from Redis all the same.
      const seen = await readBridgeStatus(b.source, 'replica-b', 5000);
      const bots = byId(seen as BridgeStatus);
      const pausedBot = bots.get(paused)!;
      expect(pausedBot).toMatchObject({
        role: BotRole.SENDER,
        state: BotState.PAUSED,
        budget: PER_WINDOW,
        windowSeconds: 4, // the window and its safety margin
      });
      const until = timestampMs(pausedBot.pausedUntil!);
      // retry_after is whole seconds, at most the sandbox's window.
      expect(until).toBeGreaterThan(Date.now());
      expect(until).toBeLessThanOrEqual(sentAt + WINDOW_MS + 2000);
      expect(pausedBot.chats).toHaveLength(1);
      expect(timestampMs(pausedBot.chats[0]!.pausedUntil!)).toBe(until);
      // Replica A saw the refusal itself; B has no error of its own to tell.
      expect(byId(heard.at(-1)!).get(paused)?.lastErrorCode).toBe('429');
      expect(pausedBot.lastErrorCode).toBe('');

      for (const token of [MAIN, SENDERS[1]!]) {
        const bot = bots.get(botId(token))!;
        expect(bot.state).toBe(BotState.OK);
        expect(bot.pausedUntil).toBeUndefined();
        expect(bot.role).toBe(token === MAIN ? BotRole.MAIN : BotRole.SENDER);
        expect(bot.username).not.toBe('');
      }
      // Every call made counts in its bot's window (the refused ones too: their budget was
      // taken before Telegram answered), whichever replica made it.
      const sent = [...bots.values()].reduce((sum, bot) => sum + bot.sent, 0);
      expect(sent).toBe(8 + refused.length);
      expect(seen.queue).toEqual({ normal: 0, cosmetic: 0, oldestWaitMs: 0 });
    } finally {
      publisher.stop();
      listening.stop();
    }
  });

  it('says a bot that is not in the group is failing, and why, and answers a request at once', async () => {
    const left = botId(SENDERS[1]!);
    sandbox.state.setMember(GROUP, Number(left), 'left');
    const namespace = uniqueName('status');
    namespaces.push(namespace);
    const a = await replica(namespace);
    const publisher = publishBridgeStatus(a.source, {
      bus: a.bus,
      logger: a.logger,
      intervalMs: 60_000,
    });
    await publisher.ready;
    const heard: BridgeStatus[] = [];
    const listening = a.bus.onSignal(topics.bridgeStatus, (status) => void heard.push(status));
    await listening.ready;
    try {
      a.bus.signal(topics.bridgeStatusRequest, { tenantId: 'default' });
      await expect.poll(() => heard.length, { timeout: 2000 }).toBeGreaterThan(0);
      const bot = byId(heard[0]!).get(left)!;
      expect(bot.state).toBe(BotState.FAILING);
      expect(bot.problem).toContain(`not usable in ${GROUP}`);
      expect(byId(heard[0]!).get(botId(MAIN))?.state).toBe(BotState.OK);
    } finally {
      publisher.stop();
      listening.stop();
    }
  });
});
