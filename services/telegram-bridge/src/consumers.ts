import { topics, type Delivery, type TopicName } from '@topicdesk/bus';
import {
  ConversationSyncSchema,
  fromBinary,
  SyncReason,
  TelegramUpdateSchema,
  toBinary,
  TopicRemovalSchema,
  type DescMessage,
  type MessageShape,
} from '@topicdesk/contracts';
import { DEFAULT_TENANT_ID, storeDeadLetter, TenantSecretsError } from '@topicdesk/core';
import type { Update } from 'grammy/types';
import { BridgeError, BridgeErrorCode } from './errors';
import { BotRight } from './sender/bot-pool';
import type { TenantBridge } from './tenant-bridges';
import { SendPriority } from './sender/telegram-sender';
import { FairShare } from './sync/fair-share';
import type { BridgeParts } from './wiring';

const SYNC_MAX_DELIVER = 50;
const UPDATE_MAX_DELIVER = 500;
const TYPING_INTERVAL_MS = 5000;

/** What the bridge takes off the bus; each returns its stop. */
export type Subscription = { stop(): Promise<void> | void };

/** How long a tenant's delivery over its fair share waits for a place before it is handed back. */
const FAIR_SHARE_WAIT_MS = 250;

/** A bus message the bridge may refuse, with what its dead letter needs. */
interface RefusedMessage<S extends DescMessage> {
  topic: TopicName;
  durable: string;
  delivery: Delivery<MessageShape<S>>;
  payload: () => Uint8Array;
  conversationId?: string;
}

/**
 * The tenant's parts, or undefined when the bridge cannot serve it (no bot or group in its
 * bundle: `TENANT_BOT_MISSING`; unknown, suspended, deleted: `TENANT_INACTIVE`; its bundle does
 * not open here: `TENANT_KEK_MISSING`, `TENANT_KEK_UNKNOWN`, `TENANT_SECRETS_CORRUPT`). Retrying cannot
 * help until an operator acts, and a retry waiting for its next delivery keeps a slot of a
 * consumer every tenant shares (the updates' only one): such a message is a dead letter at once,
 * with its code, to replay once the bot is set. Other errors (Postgres away) are thrown: retried.
 */
async function served<S extends DescMessage>(
  parts: BridgeParts,
  tenantId: string,
  message: RefusedMessage<S>,
): Promise<TenantBridge | undefined> {
  const { bridges } = parts;
  try {
    return await bridges.get(tenantId);
  } catch (error) {
    if (!unserved(error)) throw error;
    await refuse(parts, tenantId, message, error);
    return undefined;
  }
}

/** Stores a tenant's bus message as a dead letter at once (reason `refused`), with why. */
async function refuse<S extends DescMessage>(
  { db, logger }: BridgeParts,
  tenantId: string,
  message: RefusedMessage<S>,
  error: { code: string; message: string },
): Promise<void> {
  const { delivery, topic, conversationId } = message;
  logger.warn(
    { tenantId, topic, conversationId, code: error.code },
    `${error.message}: the message is a dead letter, to replay once the tenant is served`,
  );
  await storeDeadLetter(db, logger, {
    tenantId,
    topic,
    conversationId,
    deadLetter: {
      reason: 'refused',
      subject: topics[topic].subject,
      durable: message.durable,
      deliveryCount: delivery.deliveryCount,
      msgId: delivery.msgId,
      error: { code: error.code, message: error.message },
      cause: error,
      payload: message.payload(),
    },
  });
}

/**
 * Whether the error says the tenant cannot be served until an operator acts: no bot or group
 * in its bundle, inactive, or a bundle this replica cannot open (no or an unknown TENANT_KEK).
 */
export function unserved(error: unknown): error is { code: string; message: string } {
  if (error instanceof TenantSecretsError) return true;
  return (
    error instanceof BridgeError &&
    (error.code === BridgeErrorCode.TENANT_BOT_MISSING ||
      error.code === BridgeErrorCode.TENANT_INACTIVE)
  );
}

/** Conversations to bring up to date in Telegram (the sync, sends out), each by its tenant's bot. */
export function consumeSync(parts: BridgeParts): Subscription {
  const { bus, db, logger, bridges, config, metrics } = parts;
  const fair = new FairShare({
    total: config.TELEGRAM_SYNC_IN_FLIGHT,
    minimum: 8,
    tenants: () => bridges.served().length,
  });
  return bus.consume(
    topics.conversationSync,
    async (delivery) => {
      const { tenantId, conversationId } = delivery.data;
      const bridge = await served(parts, tenantId, {
        topic: 'conversationSync',
        durable: 'bridge-sync',
        delivery,
        payload: () => toBinary(ConversationSyncSchema, delivery.data),
        conversationId,
      });
      // Refused (a dead letter): the sweep leaves the conversation until new work or a replay.
      if (!bridge) return void (await parts.delivery.syncGivenUp(tenantId, conversationId));
      const leave = await fair.enter(tenantId, FAIR_SHARE_WAIT_MS);
      if (!leave) {
        // Over its share: handed back behind what waits in the stream, so the slot is free for
        // other tenants at once (a nak would keep it until redelivered). Syncs are idempotent.
        metrics.syncsDeferred.add(1);
        await bus.publish(topics.conversationSync, delivery.data, {
          msgId: `fair-${conversationId}-${Math.floor(Date.now() / FAIR_SHARE_WAIT_MS)}`,
        });
        return;
      }
      try {
        // A new conversation: in auto mode, an online agent with a free place gets it now (the
        // scheduler's pass catches what this misses); its claim and mention join this sync.
        if (delivery.data.reason === SyncReason.CONVERSATION_CREATED)
          await bridge.processor.assignWaiting(tenantId);
        await bridge.sync.reconcile(tenantId, conversationId, () => delivery.working());
      } finally {
        leave();
      }
    },
    {
      durable: 'bridge-sync',
      // Many conversations wait for budget at once: the sender orders them fairly, so it
      // must see them (a busy conversation's further events are acked at once, see reconcile).
      maxAckPending: config.TELEGRAM_SYNC_IN_FLIGHT,
      // Short, so a delivery held by a dead replica comes back soon; live ones call working().
      ackWaitMs: 15_000,
      // Bounded (about 40 minutes of tries): then a dead letter an operator can replay,
      // and the agents are told; the sweep leaves the conversation until new work comes.
      maxDeliver: SYNC_MAX_DELIVER,
      backoffMs: [250, 1000, 5000, 15_000, 30_000, 60_000],
      onDeadLetter: async (deadLetter) => {
        const data = fromBinary(ConversationSyncSchema, deadLetter.payload);
        await storeDeadLetter(db, logger, {
          tenantId: data.tenantId,
          topic: 'conversationSync',
          deadLetter,
          conversationId: data.conversationId,
        });
        const bridge = await bridges.get(data.tenantId).catch(() => undefined);
        if (bridge)
          await bridge.sync.givenUp(data.tenantId, data.conversationId, deadLetter.error.message);
        else await parts.delivery.syncGivenUp(data.tenantId, data.conversationId);
      },
    },
  );
}

/** Telegram updates, strictly ordered: agents' messages in a topic keep Telegram's order. */
export function consumeUpdates(parts: BridgeParts): Subscription {
  const { bus, db, logger } = parts;
  return bus.consume(
    topics.telegramUpdate,
    async (delivery) => {
      // The tenant whose bot received it; an update published before tenants has none. The
      // stream is strictly ordered for every tenant: one that cannot be served must not hold it.
      const tenantId = delivery.data.tenantId || DEFAULT_TENANT_ID;
      const message = {
        topic: 'telegramUpdate',
        durable: 'bridge-updates',
        delivery,
        payload: () => toBinary(TelegramUpdateSchema, delivery.data),
      } as const;
      const bridge = await served(parts, tenantId, message);
      if (!bridge) return;
      let update: Update;
      try {
        update = bridge.intake.open(delivery.data);
      } catch (error) {
        // Sealed under a key a tenant no longer has (its telegramUserKey changed or was
        // removed): retrying would hold the ordered stream of every tenant. (The default
        // tenant's previous key is TELEGRAM_USER_KEY_PREVIOUS, and another replica may still
        // have its key: retried.)
        if (tenantId === DEFAULT_TENANT_ID) throw error;
        await refuse(parts, tenantId, message, {
          code: BridgeErrorCode.TENANT_USER_KEY_UNKNOWN,
          message: error instanceof Error ? error.message : String(error),
        });
        return;
      }
      // Downloading a file an agent posted may outlast ackWaitMs: the update is still in hand.
      const beat = setInterval(() => delivery.working(), 3000);
      try {
        await bridge.processor.process(update, delivery.data.botId);
      } finally {
        clearInterval(beat);
      }
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
        storeDeadLetter(db, logger, {
          tenantId:
            fromBinary(TelegramUpdateSchema, deadLetter.payload).tenantId || DEFAULT_TENANT_ID,
          topic: 'telegramUpdate',
          deadLetter,
        }),
    },
  );
}

/** Retention purged a conversation: its topic is deleted (policy `delete`). */
export function consumeTopicRemovals(parts: BridgeParts): Subscription {
  const { bus, db, logger } = parts;
  return bus.consume(
    topics.topicRemoval,
    async (delivery) => {
      const bridge = await served(parts, delivery.data.tenantId, {
        topic: 'topicRemoval',
        durable: 'bridge-topic-removal',
        delivery,
        payload: () => toBinary(TopicRemovalSchema, delivery.data),
        conversationId: delivery.data.conversationId,
      });
      if (!bridge) return;
      const { sender, telegram } = bridge;
      const topicId = Number(delivery.data.topicId);
      const chatId = Number(delivery.data.groupChatId) || telegram.groupId;
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
        return storeDeadLetter(db, logger, {
          tenantId: data.tenantId,
          topic: 'topicRemoval',
          deadLetter,
        });
      },
    },
  );
}

/** A visitor typing shows as typing in their topic, at most every few seconds. */
export function showTyping(parts: BridgeParts): Subscription {
  const { bus, coordination, delivery, bridges, logger } = parts;
  return bus.onSignal(
    topics.visitorTyping,
    (data) => {
      void (async () => {
        const key = `typing:${data.conversationId}`;
        if (!(await coordination.dedupe.firstSeen(key, TYPING_INTERVAL_MS))) return;
        const conversation = await delivery.find(data.tenantId, data.conversationId);
        if (!conversation?.topic_id || conversation.status !== 'open') return;
        const { sync, sender } = await bridges.get(data.tenantId);
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
}
