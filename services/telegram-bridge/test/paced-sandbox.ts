import { createRedisCoordination, type Coordination } from '@topicdesk/fanout';
import { startSandbox, type RunningSandbox } from '@topicdesk/telegram-sandbox';
import type { Logger } from '@topicdesk/telemetry';
import { testInfra } from '@topicdesk/testkit';
import { createBridgeMetrics } from '../src/metrics';
import { BotPool } from '../src/sender/bot-pool';
import { createTelegramApi } from '../src/sender/telegram-api';
import { TelegramSender } from '../src/sender/telegram-sender';

/**
 * A sandbox whose support group takes `perWindow` calls per `windowMs`: Telegram's group limit
 * over a window of seconds, so pacing tests take seconds. Other limits stay out of the way.
 */
export function startPacedSandbox(
  supergroupId: number,
  perWindow: number,
  windowMs: number,
): Promise<RunningSandbox> {
  return startSandbox({
    supergroupId,
    limits: {
      enabled: true,
      perGroupPerMinute: perWindow,
      groupWindowMs: windowMs,
      perChatPerSecond: 30,
      globalPerSecond: 30,
    },
  });
}

/**
 * A bridge replica's pool and sender over a paced sandbox, with its own Redis connection to the
 * shared namespace (the budgets of every replica). The caller closes the sender and coordination.
 */
export async function pacedReplica(options: {
  sandbox: RunningSandbox;
  group: number;
  main: string;
  senders: readonly string[];
  perWindow: number;
  windowMs: number;
  namespace: string;
  logger: Logger;
}): Promise<{ pool: BotPool; sender: TelegramSender; coordination: Coordination }> {
  const { sandbox, logger } = options;
  const metrics = createBridgeMetrics();
  const api = (token: string) => createTelegramApi(token, sandbox.url, metrics);
  const pool = new BotPool({
    main: { token: options.main, api: api(options.main) },
    senders: options.senders.map((token) => ({ token, api: api(token) })),
    logger,
  });
  await pool.check([options.group]);
  const coordination = await createRedisCoordination({
    url: testInfra.redisUrl,
    namespace: options.namespace,
  });
  const sender = new TelegramSender({
    pool,
    budgets: coordination.budgets,
    logger,
    metrics,
    limits: {
      groupPerWindow: options.perWindow,
      groupWindowMs: options.windowMs,
      chatPerSecond: 30,
      globalPerSecond: 30,
      // The margin covers the time between the budget taken here and the call read by the
      // sandbox: on a loaded two-core machine that passes 100 ms (a 429 in the next window).
      safetyMs: 1000,
    },
  });
  return { pool, sender, coordination };
}
