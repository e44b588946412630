import { topics, type Bus } from '@topicdesk/bus';
import {
  ConversationSyncSchema,
  fromBinary,
  SyncReason,
  timestampNow,
  TopicRemovalSchema,
} from '@topicdesk/contracts';
import { storeDeadLetter, type OutboxRelay } from '@topicdesk/core';
import { ConversationRepository, type DB, type Kysely } from '@topicdesk/data';
import type { Coordination } from '@topicdesk/fanout';
import type { Logger } from '@topicdesk/telemetry';
import type { FastifyPluginAsync } from 'fastify';
import type { Update } from 'grammy/types';
import { updatesMode, type BridgeConfig } from './config';
import { createBridgeMetrics } from './metrics';
import { isPrivateChatUpdate, PrivateChat } from './updates/private-chat';
import { BotPool, BotRight, type PoolBot } from './sender/bot-pool';
import { botIdOf, createTelegramApi } from './sender/telegram-api';
import { SendPriority, TelegramSender } from './sender/telegram-sender';
import { SupportGroups } from './sync/support-groups';
import { TopicSync } from './sync/topic-sync';
import { UpdateProcessor } from './updates/update-processor';
import { isSealedUpdate, updateAad, UserKeyring } from './user-crypto';
import { webhookRoute } from './updates/webhook';
import { DEFAULT_TENANT_ID } from '@topicdesk/core';

export interface BridgeDeps {
  config: BridgeConfig;
  db: Kysely<DB>;
  bus: Bus;
  coordination: Coordination;
  relay: OutboxRelay;
  logger: Logger;
}

export interface Bridge {
  /** Routes of the bridge (the webhook), to register on a fastify server. */
  readonly routes: FastifyPluginAsync;
  /** Starts consuming, registers the webhook or starts polling. */
  start(): Promise<void>;
  /** For /readyz: the webhook is registered (webhook mode) or polling runs. */
  health(): { ok: boolean; detail?: string };
  stop(): Promise<void>;
}

const TYPING_INTERVAL_MS = 5000;
const SWEEP_INTERVAL_MS = 15_000;
const SWEEP_AGE_MS = 10_000;
const POLL_TIMEOUT_S = 25;
const SYNC_MAX_DELIVER = 50;
const UPDATE_MAX_DELIVER = 500;
/** How long the start waits for the pool check before going on (Telegram may be away). */
const POOL_CHECK_WAIT_MS = 10_000;
const POOL_RECHECK_MS = 5 * 60_000;
const ALL_UPDATES = ['message', 'edited_message', 'callback_query'] as const;
const SENDER_UPDATES = ['callback_query'] as const;

export function createBridge(deps: BridgeDeps): Bridge {
  const { config, logger, bus, coordination } = deps;
  const metrics = createBridgeMetrics();
  const apiOf = (token: string, timeoutSeconds?: number) =>
    createTelegramApi(token, config.TELEGRAM_API_ROOT, metrics, timeoutSeconds);
  // One pool of bots behind one sender: every call that shows up in a chat goes through it.
  const pool = new BotPool({
    main: { token: config.BOT_TOKEN, api: apiOf(config.BOT_TOKEN) },
    senders: config.TELEGRAM_SENDER_BOT_TOKENS.map((token) => ({ token, api: apiOf(token) })),
    logger,
  });
  const sender = new TelegramSender({
    pool,
    budgets: coordination.budgets,
    logger,
    metrics,
    limits: {
      groupPerWindow: config.TELEGRAM_LIMIT_GROUP_PER_MINUTE,
      groupWindowMs: config.TELEGRAM_LIMIT_GROUP_WINDOW,
      chatPerSecond: config.TELEGRAM_LIMIT_CHAT_PER_SECOND,
      globalPerSecond: config.TELEGRAM_LIMIT_GLOBAL_PER_SECOND,
      safetyMs: config.TELEGRAM_LIMIT_SAFETY,
    },
  });
  const tokens = new Map(
    [config.BOT_TOKEN, ...config.TELEGRAM_SENDER_BOT_TOKENS].map((token) => [
      botIdOf(token),
      token,
    ]),
  );
  const botId = pool.main.id;
  const groupId = config.SUPPORT_GROUP_ID;
  const mode = updatesMode(config);
  // Private chats need the key: it encrypts users' ids in Postgres and updates on the bus.
  const keyring = config.TELEGRAM_USER_KEY
    ? UserKeyring.fromEnv(config.TELEGRAM_USER_KEY, config.TELEGRAM_USER_KEY_PREVIOUS)
    : undefined;
  const privateChat = keyring
    ? new PrivateChat({
        db: deps.db,
        sender,
        relay: deps.relay,
        coordination,
        keyring,
        logger,
        botId,
        limits: {
          conversationsPerDay: config.LIMIT_CONVERSATIONS_PER_DAY,
          messagesPerHour: config.LIMIT_MESSAGES_PER_HOUR,
        },
      })
    : undefined;
  const sync = new TopicSync({
    db: deps.db,
    sender,
    coordination,
    logger,
    metrics,
    defaultGroupId: groupId,
    pinHeader: config.TELEGRAM_PIN_HEADER,
    privateChat,
  });
  const groups = new SupportGroups(deps.db, groupId);
  const processor = new UpdateProcessor({
    db: deps.db,
    sender,
    relay: deps.relay,
    logger,
    metrics,
    botId,
    defaultGroupId: groupId,
    isSupportGroup: (chatId) => groups.has(chatId),
    allowUnknownAgents: config.ALLOW_UNKNOWN_AGENTS,
    unknownAgentName: config.AGENT_NAME_FALLBACK,
    requireClaim: config.REQUIRE_CLAIM,
    sync,
    privateChat,
  });
  const stops: Array<() => Promise<void> | void> = [];
  let registered = false;
  let stopping = false;
  const abort = new AbortController();

  /**
   * Which of our bots received an update that came by webhook (all bots share the URL): a
   * sender bot receives only the callback queries of the buttons it sent, so the message under
   * the button names it; anything else is the main bot's.
   */
  const receiverOf = (update: Update): string => {
    const author = update.callback_query?.message?.from?.id;
    return author !== undefined && pool.bot(String(author)) ? String(author) : botId;
  };

  const ingest = async (update: { update_id: number }, receiver = receiverOf(update)) => {
    const json = new TextEncoder().encode(JSON.stringify(update));
    // Updates carry people's Telegram ids and names: with the key they cross the bus sealed
    // (AES-256-GCM, bound to the update id); without it private chats are off and their
    // updates are not published at all.
    let payload: Uint8Array = json;
    if (keyring) payload = keyring.sealUpdate(json, updateAad(receiver, update.update_id));
    else if (isPrivateChatUpdate(update)) {
      metrics.updatesIgnored.add(1, { reason: 'private_chat_without_key' });
      return;
    }
    await bus.publish(
      topics.telegramUpdate,
      {
        updateId: BigInt(update.update_id),
        botId: receiver,
        payload,
        receivedAt: timestampNow(),
      },
      { msgId: `tg-${receiver}-${update.update_id}` },
    );
  };

  /** The Update JSON of a bus payload: sealed by a bridge with the key, or plain from one without. */
  const openUpdate = (data: { payload: Uint8Array; botId: string; updateId: bigint }) => {
    if (!isSealedUpdate(data.payload)) return data.payload;
    // Thrown errors make the bus redeliver: another replica (with the key) may open it.
    if (!keyring) throw new Error('a sealed update arrived but TELEGRAM_USER_KEY is not set');
    return keyring.openUpdate(data.payload, updateAad(data.botId, data.updateId));
  };

  async function registerWebhook(): Promise<void> {
    const url = config.TELEGRAM_WEBHOOK_URL;
    if (!url) return;
    const parsed = new URL(url);
    const port = parsed.port ? Number(parsed.port) : parsed.protocol === 'https:' ? 443 : 80;
    if (parsed.protocol !== 'https:' || ![443, 80, 88, 8443].includes(port)) {
      logger.warn(
        { url: redacted(url) },
        'Telegram only delivers webhooks to https on ports 443, 80, 88 or 8443; fine for a sandbox',
      );
    }
    if (!config.TELEGRAM_WEBHOOK_SECRET)
      logger.warn('TELEGRAM_WEBHOOK_SECRET is unset: the webhook route refuses every call');
    for (const bot of pool.bots) {
      await bot.api.setWebhook(url, {
        ...(config.TELEGRAM_HEADER_SECRET ? { secret_token: config.TELEGRAM_HEADER_SECRET } : {}),
        // Sender bots get only the buttons they sent; the main bot everything agents do.
        allowed_updates: bot.main ? ALL_UPDATES : SENDER_UPDATES,
        // One delivery at a time: agents' messages reach JetStream in Telegram's order.
        max_connections: 1,
      });
    }
    registered = true;
    logger.info({ url: redacted(url), bots: pool.bots.length }, 'webhook registered');
  }

  /**
   * Long polling of one bot; one replica at a time per bot (Telegram allows one getUpdates
   * caller). Sender bots poll only for the callback queries of their buttons.
   */
  async function poll(bot: PoolBot): Promise<void> {
    const token = tokens.get(bot.id) as string;
    // Long polls hold the request for POLL_TIMEOUT_S; their client waits longer than that.
    const pollingApi = apiOf(token, POLL_TIMEOUT_S + 15);
    const lockKey = bot.main ? 'telegram-poller' : `telegram-poller:${bot.id}`;
    while (!stopping) {
      // Redis may be away for a moment: that is a retry, never a crash of the poller.
      const lock = await coordination.locks.tryLock(lockKey, 30_000).catch((error: unknown) => {
        logger.warn({ err: error }, 'could not take the poller lock; retrying');
        return null;
      });
      if (!lock) {
        await sleep(5000, abort.signal);
        continue;
      }
      try {
        await bot.api.deleteWebhook({ drop_pending_updates: false });
        if (bot.main) registered = true;
        let offset: number | undefined;
        while (!stopping && !lock.signal.aborted) {
          const updates = await pollingApi.getUpdates(
            {
              timeout: POLL_TIMEOUT_S,
              allowed_updates: bot.main ? ALL_UPDATES : SENDER_UPDATES,
              ...(offset !== undefined ? { offset } : {}),
            },
            // grammY types its signal with the abort-controller shim; Node's is compatible at run time.
            abort.signal as Parameters<typeof pollingApi.getUpdates>[1],
          );
          for (const update of updates) {
            await ingest(update, bot.id);
            offset = update.update_id + 1;
          }
        }
      } catch (error) {
        if (!stopping) {
          logger.warn({ err: error, botId: bot.id }, 'polling failed; retrying');
          if (bot.main) registered = false;
          await sleep(2000, abort.signal);
        }
      } finally {
        await lock.release();
      }
    }
  }

  /** Checks the pool's bots in every support group; again every few minutes. */
  async function checkPool(): Promise<void> {
    await pool
      .check(await groups.all())
      .catch((error: unknown) =>
        logger.warn({ err: error }, 'bot pool check failed; retried later'),
      );
  }

  return {
    routes: async (app) => {
      await app.register(webhookRoute, {
        pathSecret: config.TELEGRAM_WEBHOOK_SECRET,
        headerSecret: config.TELEGRAM_HEADER_SECRET,
        metrics,
        ingest,
      });
    },

    async start() {
      // Which bot may do what where, before anything is sent (bounded: Telegram may be away).
      await Promise.race([checkPool(), sleep(POOL_CHECK_WAIT_MS, abort.signal)]);
      const recheck = setInterval(() => void checkPool(), POOL_RECHECK_MS);
      recheck.unref();
      stops.push(() => clearInterval(recheck));
      stops.push(() => sender.close());

      const syncConsumer = bus.consume(
        topics.conversationSync,
        async (delivery) => {
          await sync.reconcile(delivery.data.tenantId, delivery.data.conversationId, () =>
            delivery.working(),
          );
        },
        {
          durable: 'bridge-sync',
          // Many conversations wait for budget at once: the sender orders them fairly, so it
          // must see them (a busy conversation's further events are acked at once, see reconcile).
          maxAckPending: 512,
          // Short, so a delivery held by a dead replica comes back soon; live ones call working().
          ackWaitMs: 15_000,
          // Bounded (about 40 minutes of tries): then a dead letter an operator can replay,
          // and the agents are told; the sweep leaves the conversation until new work comes.
          maxDeliver: SYNC_MAX_DELIVER,
          backoffMs: [250, 1000, 5000, 15_000, 30_000, 60_000],
          onDeadLetter: async (deadLetter) => {
            const data = fromBinary(ConversationSyncSchema, deadLetter.payload);
            await storeDeadLetter(deps.db, logger, {
              tenantId: data.tenantId,
              topic: 'conversationSync',
              deadLetter,
              conversationId: data.conversationId,
            });
            await sync.givenUp(data.tenantId, data.conversationId, deadLetter.error.message);
          },
        },
      );
      stops.push(() => syncConsumer.stop());

      // Strictly ordered: agents' messages in a topic keep Telegram's order.
      const updateConsumer = bus.consume(
        topics.telegramUpdate,
        async (delivery) => {
          const update = JSON.parse(new TextDecoder().decode(openUpdate(delivery.data))) as Update;
          await processor.process(update, delivery.data.botId);
        },
        {
          durable: 'bridge-updates',
          maxAckPending: 1,
          ackWaitMs: 10_000,
          // Telegram already has its 200: an update outlives a long outage (about 40 hours of
          // tries), then waits as a dead letter for an operator's replay.
          maxDeliver: UPDATE_MAX_DELIVER,
          backoffMs: [250, 1000, 5000, 15_000, 60_000, 300_000],
          onDeadLetter: (deadLetter) =>
            storeDeadLetter(deps.db, logger, {
              tenantId: DEFAULT_TENANT_ID,
              topic: 'telegramUpdate',
              deadLetter,
            }),
        },
      );
      stops.push(() => updateConsumer.stop());

      // Retention purged a conversation: delete its topic (policy `delete`).
      const removalConsumer = bus.consume(
        topics.topicRemoval,
        async (delivery) => {
          const topicId = Number(delivery.data.topicId);
          const chatId = Number(delivery.data.groupChatId) || groupId;
          const result = await sender.send({
            method: 'deleteForumTopic',
            chatId,
            // Housekeeping: after every visitor's text.
            priority: SendPriority.cosmetic,
            since: Date.now(),
            needs: BotRight.delete,
            working: () => delivery.working(),
            call: (api) => api.deleteForumTopic(chatId, topicId),
          });
          if (result.ok) {
            logger.info(
              { conversationId: delivery.data.conversationId, topicId },
              'topic deleted by retention',
            );
            return;
          }
          if (result.failure.kind === 'topic_missing') return; // gone already
          throw new Error(
            `deleteForumTopic failed: ${'description' in result.failure ? result.failure.description : result.failure.kind}`,
          );
        },
        {
          durable: 'bridge-topic-removal',
          maxAckPending: 4,
          ackWaitMs: 30_000,
          maxDeliver: 20,
          backoffMs: [1000, 5000, 30_000],
          onDeadLetter: (deadLetter) => {
            const data = fromBinary(TopicRemovalSchema, deadLetter.payload);
            return storeDeadLetter(deps.db, logger, {
              tenantId: data.tenantId,
              topic: 'topicRemoval',
              deadLetter,
            });
          },
        },
      );
      stops.push(() => removalConsumer.stop());

      const typing = bus.onSignal(
        topics.visitorTyping,
        (data) => {
          void (async () => {
            if (
              !(await coordination.dedupe.firstSeen(
                `typing:${data.conversationId}`,
                TYPING_INTERVAL_MS,
              ))
            )
              return;
            const conversation = await new ConversationRepository(deps.db).find(
              data.tenantId,
              data.conversationId,
            );
            if (!conversation?.topic_id || conversation.status !== 'open') return;
            const chatId = sync.groupOf(conversation);
            const topicId = conversation.topic_id;
            // Typing spends budget too: only when a slot is free right now and nobody waits.
            await sender.send({
              method: 'sendChatAction',
              chatId,
              priority: SendPriority.cosmetic,
              since: Date.now(),
              maxWaitMs: 0,
              call: (api) => api.sendChatAction(chatId, 'typing', { message_thread_id: topicId }),
            });
          })().catch((error: unknown) => logger.debug({ err: error }, 'typing not shown'));
        },
        { queue: 'bridge-typing' },
      );
      stops.push(() => typing.stop());

      // Safety net: conversations whose Telegram side lags (a sync event that ran out of
      // retries, a restart mid-send) are synced again.
      const sweep = setInterval(() => {
        void (async () => {
          const lagging = await new ConversationRepository(deps.db).needingSync(
            new Date(Date.now() - SWEEP_AGE_MS),
            50,
          );
          // Private chats lag on their own cursor (agents' messages not sent to the user yet).
          if (privateChat)
            lagging.push(...(await privateChat.lagging(new Date(Date.now() - SWEEP_AGE_MS), 50)));
          const round = Math.floor(Date.now() / SWEEP_INTERVAL_MS);
          for (const c of lagging) {
            await bus.publish(
              topics.conversationSync,
              { tenantId: c.tenant_id, conversationId: c.id, reason: SyncReason.RETRY },
              { msgId: `sweep-${c.id}-${round}` },
            );
          }
        })().catch((error: unknown) => logger.warn({ err: error }, 'sync sweep failed'));
      }, SWEEP_INTERVAL_MS);
      stops.push(() => clearInterval(sweep));

      if (!privateChat)
        logger.warn(
          'TELEGRAM_USER_KEY is unset: the bot ignores private chats (no second channel)',
        );
      if (privateChat && keyring?.previous) {
        // A rotation: re-encrypt users sealed under the previous key, once across replicas.
        void (async () => {
          const lock = await coordination.locks.tryLock('telegram-users-rekey', 60_000);
          if (!lock) return;
          try {
            const result = await privateChat.reencryptAll();
            logger.info(
              { ...result, keyId: keyring.current.id },
              'private chat users re-encrypted under the current key',
            );
          } finally {
            await lock.release();
          }
        })().catch((error: unknown) =>
          logger.error(
            { err: error },
            're-encryption of private chat users failed; retried at the next start',
          ),
        );
      }

      if (mode === 'webhook') {
        await registerWebhook().catch((error: unknown) => {
          logger.error({ err: error }, 'setWebhook failed; retrying in the background');
          const retry = setInterval(() => {
            registerWebhook().then(
              () => clearInterval(retry),
              (error: unknown) => logger.warn({ err: error }, 'setWebhook retry failed'),
            );
          }, 10_000);
          stops.push(() => clearInterval(retry));
        });
        if (!config.TELEGRAM_WEBHOOK_URL) registered = true; // registered by someone else
      } else {
        for (const bot of pool.bots) {
          const polling = poll(bot).catch((error: unknown) =>
            logger.error({ err: error, botId: bot.id }, 'polling stopped'),
          );
          stops.push(() => polling);
        }
      }
      logger.info({ mode, groupId }, 'telegram bridge started');
    },

    health() {
      const bots = pool.report(groupId);
      const leftOut = pool.describe();
      if (!registered)
        return {
          ok: false,
          detail: [mode === 'webhook' ? 'webhook not registered yet' : 'not polling yet', leftOut]
            .filter(Boolean)
            .join('; '),
        };
      // A sender bot left out only narrows the pool: ready, and the detail says which.
      return leftOut ? { ok: bots.ok, detail: leftOut } : { ok: true };
    },

    async stop() {
      stopping = true;
      abort.abort();
      for (const stop of stops.reverse()) await stop();
    },
  };
}

/** The webhook URL without its secret path segment, for logs. */
function redacted(url: string): string {
  return url.replace(/\/webhook\/[^/?#]+/, '/webhook/…');
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
