import { topics, type Bus } from '@topicdesk/bus';
import { SyncReason, timestampNow } from '@topicdesk/contracts';
import type { OutboxRelay } from '@topicdesk/core';
import { ConversationRepository, type DB, type Kysely } from '@topicdesk/data';
import type { Coordination } from '@topicdesk/fanout';
import type { Logger } from '@topicdesk/telemetry';
import type { FastifyPluginAsync } from 'fastify';
import type { Update } from 'grammy/types';
import { updatesMode, type BridgeConfig } from './config';
import { createBridgeMetrics } from './metrics';
import { isPrivateChatUpdate, PrivateChat } from './updates/private-chat';
import { botIdOf, classifyTelegramError, createTelegramApi } from './sender/telegram-api';
import { TopicSync } from './sync/topic-sync';
import { UpdateProcessor } from './updates/update-processor';
import { isSealedUpdate, updateAad, UserKeyring } from './user-crypto';
import { webhookRoute } from './updates/webhook';

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

export function createBridge(deps: BridgeDeps): Bridge {
  const { config, logger, bus, coordination } = deps;
  const metrics = createBridgeMetrics();
  const api = createTelegramApi(config.BOT_TOKEN, config.TELEGRAM_API_ROOT, metrics);
  // Long polls hold the request for POLL_TIMEOUT_S; their client waits longer than that.
  const pollingApi = createTelegramApi(
    config.BOT_TOKEN,
    config.TELEGRAM_API_ROOT,
    metrics,
    POLL_TIMEOUT_S + 15,
  );
  const botId = botIdOf(config.BOT_TOKEN);
  const groupId = config.SUPPORT_GROUP_ID;
  const mode = updatesMode(config);
  // Private chats need the key: it encrypts users' ids in Postgres and updates on the bus.
  const keyring = config.TELEGRAM_USER_KEY
    ? UserKeyring.fromEnv(config.TELEGRAM_USER_KEY, config.TELEGRAM_USER_KEY_PREVIOUS)
    : undefined;
  const privateChat = keyring
    ? new PrivateChat({
        db: deps.db,
        api,
        relay: deps.relay,
        coordination,
        keyring,
        logger,
        botId,
        limits: {
          conversationsPerDay: config.LIMIT_CONVERSATIONS_PER_DAY,
          messagesPerHour: config.LIMIT_MESSAGES_PER_HOUR,
        },
        budgets: {
          chatPerSecond: config.TELEGRAM_LIMIT_CHAT_PER_SECOND,
          globalPerSecond: config.TELEGRAM_LIMIT_GLOBAL_PER_SECOND,
          safetyMs: config.TELEGRAM_LIMIT_SAFETY,
        },
      })
    : undefined;
  const sync = new TopicSync({
    db: deps.db,
    api,
    coordination,
    logger,
    metrics,
    botId,
    groupId,
    limits: {
      groupPerMinute: config.TELEGRAM_LIMIT_GROUP_PER_MINUTE,
      chatPerSecond: config.TELEGRAM_LIMIT_CHAT_PER_SECOND,
      globalPerSecond: config.TELEGRAM_LIMIT_GLOBAL_PER_SECOND,
      safetyMs: config.TELEGRAM_LIMIT_SAFETY,
    },
    privateChat,
  });
  const processor = new UpdateProcessor({
    db: deps.db,
    api,
    relay: deps.relay,
    logger,
    metrics,
    botId,
    groupId,
    allowUnknownAgents: config.ALLOW_UNKNOWN_AGENTS,
    requireClaim: config.REQUIRE_CLAIM,
    sync,
    privateChat,
  });
  const stops: Array<() => Promise<void> | void> = [];
  let registered = false;
  let stopping = false;
  const abort = new AbortController();

  const ingest = async (update: { update_id: number }) => {
    const json = new TextEncoder().encode(JSON.stringify(update));
    // Updates carry people's Telegram ids and names: with the key they cross the bus sealed
    // (AES-256-GCM, bound to the update id); without it private chats are off and their
    // updates are not published at all.
    let payload: Uint8Array = json;
    if (keyring) payload = keyring.sealUpdate(json, updateAad(botId, update.update_id));
    else if (isPrivateChatUpdate(update)) {
      metrics.updatesIgnored.add(1, { reason: 'private_chat_without_key' });
      return;
    }
    await bus.publish(
      topics.telegramUpdate,
      { updateId: BigInt(update.update_id), botId, payload, receivedAt: timestampNow() },
      { msgId: `tg-${botId}-${update.update_id}` },
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
    await api.setWebhook(url, {
      ...(config.TELEGRAM_HEADER_SECRET ? { secret_token: config.TELEGRAM_HEADER_SECRET } : {}),
      allowed_updates: ['message', 'edited_message', 'callback_query'],
      // One delivery at a time: agents' messages reach JetStream in Telegram's order.
      max_connections: 1,
    });
    registered = true;
    logger.info({ url: redacted(url) }, 'webhook registered');
  }

  /** Long polling; one replica at a time (Telegram allows one getUpdates caller). */
  async function poll(): Promise<void> {
    while (!stopping) {
      // Redis may be away for a moment: that is a retry, never a crash of the poller.
      const lock = await coordination.locks
        .tryLock('telegram-poller', 30_000)
        .catch((error: unknown) => {
          logger.warn({ err: error }, 'could not take the poller lock; retrying');
          return null;
        });
      if (!lock) {
        await sleep(5000, abort.signal);
        continue;
      }
      try {
        await api.deleteWebhook({ drop_pending_updates: false });
        registered = true;
        let offset: number | undefined;
        while (!stopping && !lock.signal.aborted) {
          const updates = await pollingApi.getUpdates(
            {
              timeout: POLL_TIMEOUT_S,
              allowed_updates: ['message', 'edited_message', 'callback_query'],
              ...(offset !== undefined ? { offset } : {}),
            },
            // grammY types its signal with the abort-controller shim; Node's is compatible at run time.
            abort.signal as Parameters<typeof pollingApi.getUpdates>[1],
          );
          for (const update of updates) {
            await ingest(update);
            offset = update.update_id + 1;
          }
        }
      } catch (error) {
        if (!stopping) {
          logger.warn({ err: error }, 'polling failed; retrying');
          registered = false;
          await sleep(2000, abort.signal);
        }
      } finally {
        await lock.release();
      }
    }
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
      const syncConsumer = bus.consume(
        topics.conversationSync,
        async (delivery) => {
          await sync.reconcile(delivery.data.tenantId, delivery.data.conversationId, () =>
            delivery.working(),
          );
        },
        {
          durable: 'bridge-sync',
          maxAckPending: 32,
          // Short, so a delivery held by a dead replica comes back soon; live ones call working().
          ackWaitMs: 15_000,
          maxDeliver: Infinity,
          backoffMs: [250, 1000, 5000, 15_000, 30_000],
        },
      );
      stops.push(() => syncConsumer.stop());

      // Strictly ordered: agents' messages in a topic keep Telegram's order.
      const updateConsumer = bus.consume(
        topics.telegramUpdate,
        async (delivery) => {
          const update = JSON.parse(new TextDecoder().decode(openUpdate(delivery.data))) as Update;
          await processor.process(update);
        },
        {
          durable: 'bridge-updates',
          maxAckPending: 1,
          ackWaitMs: 10_000,
          // Telegram already has its 200: an update must outlive any outage (Postgres down…).
          maxDeliver: Infinity,
          backoffMs: [250, 1000, 5000, 15_000],
        },
      );
      stops.push(() => updateConsumer.stop());

      // Retention purged a conversation: delete its topic (policy `delete`).
      const removalConsumer = bus.consume(
        topics.topicRemoval,
        async (delivery) => {
          const topicId = Number(delivery.data.topicId);
          try {
            await api.deleteForumTopic(groupId, topicId);
            logger.info(
              { conversationId: delivery.data.conversationId, topicId },
              'topic deleted by retention',
            );
          } catch (error) {
            const failure = classifyTelegramError(error);
            if (failure.kind === 'topic_missing') return; // gone already
            throw error;
          }
        },
        {
          durable: 'bridge-topic-removal',
          maxAckPending: 4,
          ackWaitMs: 30_000,
          maxDeliver: 20,
          backoffMs: [1000, 5000, 30_000],
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
            await api.sendChatAction(groupId, 'typing', {
              message_thread_id: conversation.topic_id,
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
              () => undefined,
            );
          }, 10_000);
          stops.push(() => clearInterval(retry));
        });
        if (!config.TELEGRAM_WEBHOOK_URL) registered = true; // registered by someone else
      } else {
        const polling = poll().catch((error: unknown) =>
          logger.error({ err: error }, 'polling stopped'),
        );
        stops.push(() => polling);
      }
      logger.info({ mode, groupId }, 'telegram bridge started');
    },

    health() {
      return registered
        ? { ok: true }
        : {
            ok: false,
            detail: mode === 'webhook' ? 'webhook not registered yet' : 'not polling yet',
          };
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
