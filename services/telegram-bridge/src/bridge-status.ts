import { randomUUID } from 'node:crypto';
import { topics, type Bus, type SignalSubscription } from '@topicdesk/bus';
import {
  BotRole,
  BotState,
  timestampFromMs,
  type BotStatusSchema,
  type BridgeStatusSchema,
  type MessageInitShape,
} from '@topicdesk/contracts';
import type { BudgetLimiter } from '@topicdesk/fanout';
import type { Logger } from '@topicdesk/telemetry';
import type { BotPool } from './sender/bot-pool';
import type { TelegramSender } from './sender/telegram-sender';

export interface BridgeStatusSource {
  /** Whose bots these are: each tenant's are reported under its id (the gateway filters). */
  tenantId: string;
  pool: BotPool;
  sender: TelegramSender;
  /** The budgets in Redis (shared by the replicas), read without recording a use. */
  budgets: BudgetLimiter;
  /** The support groups whose budgets are shown (the default group and the registered ones). */
  groups: () => Promise<readonly number[]>;
}

/**
 * This replica's view of the bots and its send queue, for the console's Overview. A bot's budget
 * use and 429 pauses come from Redis, so another replica's 429 shows here too; its place in the
 * groups (left out, a refused token) and its last error are what this replica has seen.
 */
export async function readBridgeStatus(
  source: BridgeStatusSource,
  replicaId: string,
  intervalMs: number,
): Promise<MessageInitShape<typeof BridgeStatusSchema>> {
  const { pool, sender, budgets } = source;
  const groups = [...new Set(await source.groups())];
  const report = new Map(pool.report().bots.map((bot) => [bot.id, bot]));
  // Every bot's chat and group budget in each group, read in one round trip: [bot, chat, group]
  // from the sender; a 429 blocks the chat's and the group's, the group's counts the window.
  const pairs = pool.bots.flatMap((bot) =>
    groups.flatMap((chatId) => {
      const [, chat, group] = sender.budgets(bot.id, chatId);
      // A group (negative id) always has both; anything else has no group budget to show.
      return chat && group ? [{ bot, chatId, chat, group }] : [];
    }),
  );
  const uses = await budgets.peek(pairs.flatMap(({ chat, group }) => [chat, group]));
  const now = Date.now();
  const bots = pool.bots.map((bot): MessageInitShape<typeof BotStatusSchema> => {
    const chats = pairs.flatMap(({ bot: of, chatId, group }, i) => {
      if (of !== bot) return [];
      const [chatUse, groupUse] = [uses[2 * i], uses[2 * i + 1]];
      const blockedMs = Math.max(chatUse?.blockedMs ?? 0, groupUse?.blockedMs ?? 0);
      return [
        {
          chatId: BigInt(chatId),
          sent: groupUse?.used ?? 0,
          budget: group.limit,
          windowMs: group.windowMs,
          pausedUntil: blockedMs > 0 ? now + blockedMs : 0,
        },
      ];
    });
    const problems = report.get(bot.id)?.out ?? [];
    const pausedUntil = Math.max(0, ...chats.map((chat) => chat.pausedUntil));
    const lastError = pool.lastError(bot.id);
    return {
      botId: bot.id,
      username: bot.username ?? '',
      role: bot.main ? BotRole.MAIN : BotRole.SENDER,
      state: stateOf(problems, pausedUntil),
      pausedUntil: pausedUntil > 0 ? timestampFromMs(pausedUntil) : undefined,
      problem: problems.join('; '),
      sent: chats.reduce((sum, chat) => sum + chat.sent, 0),
      budget: chats.reduce((sum, chat) => sum + chat.budget, 0),
      windowSeconds: Math.round(Math.max(0, ...chats.map((chat) => chat.windowMs)) / 1000),
      lastErrorCode: lastError?.code ?? '',
      lastErrorAt: lastError ? timestampFromMs(lastError.at) : undefined,
      chats: chats.map((chat) => ({
        chatId: chat.chatId,
        sent: chat.sent,
        budget: chat.budget,
        pausedUntil: chat.pausedUntil > 0 ? timestampFromMs(chat.pausedUntil) : undefined,
      })),
    };
  });
  const queue = sender.queue();
  return {
    replicaId,
    tenantId: source.tenantId,
    at: timestampFromMs(now),
    bots,
    queue: {
      normal: queue.byPriority.normal,
      cosmetic: queue.byPriority.cosmetic,
      oldestWaitMs: queue.waiting > 0 ? queue.oldestWaitMs : 0,
    },
    intervalMs,
  };
}

function stateOf(problems: readonly string[], pausedUntil: number): BotState {
  if (problems.length > 0) return BotState.FAILING;
  return pausedUntil > 0 ? BotState.PAUSED : BotState.OK;
}

export interface BridgeStatusPublisherOptions {
  bus: Bus;
  logger: Logger;
  /** How often the status is signalled without a change (5 s). */
  intervalMs?: number;
}

/** A change (a 429, a bot left out) is told this soon, once for a burst of them. */
const CHANGE_DEBOUNCE_MS = 250;

/**
 * Signals this replica's status every `intervalMs`, soon after a bot's state changes, and at
 * once when a gateway asks (every replica answers: each has its own queue). Nothing is kept
 * anywhere: a gateway forgets a replica that stopped signalling.
 */
export function publishBridgeStatus(
  source: BridgeStatusSource,
  options: BridgeStatusPublisherOptions,
): SignalSubscription {
  const { bus, logger } = options;
  const intervalMs = options.intervalMs ?? 5000;
  const replicaId = randomUUID();
  let publishing = false;
  let again = false;
  let stopped = false;
  const publish = async (): Promise<void> => {
    if (publishing) {
      again = true;
      return;
    }
    publishing = true;
    try {
      do {
        again = false;
        const status = await readBridgeStatus(source, replicaId, intervalMs);
        if (!stopped) bus.signal(topics.bridgeStatus, status);
      } while (again && !stopped);
    } catch (error) {
      // Redis or Postgres away: the next interval tries again; the gateway shows it as stale.
      logger.warn({ err: error }, 'could not read the bridge status for the console');
    } finally {
      publishing = false;
    }
  };
  const timer = setInterval(() => void publish(), intervalMs);
  timer.unref();
  let debounce: NodeJS.Timeout | undefined;
  const stopListening = source.pool.onChange(() => {
    debounce ??= setTimeout(() => {
      debounce = undefined;
      void publish();
    }, CHANGE_DEBOUNCE_MS);
  });
  // A gateway asks for its tenant's bots (no tenant: everyone's).
  const requests = bus.onSignal(topics.bridgeStatusRequest, (request) => {
    if (!request.tenantId || request.tenantId === source.tenantId) void publish();
  });
  void requests.ready.then(() => publish());
  return {
    ready: requests.ready,
    stop: () => {
      stopped = true;
      clearInterval(timer);
      clearTimeout(debounce);
      stopListening();
      requests.stop();
    },
  };
}
