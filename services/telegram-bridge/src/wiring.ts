import type { Bus } from '@topicdesk/bus';
import {
  AttachmentService,
  BotChannelTokens,
  ServedGroups,
  TenantDirectory,
  TenantKeyring,
  TopicDeliveryService,
  UnitOfWork,
  type DB,
  type Kysely,
  type OutboxRelay,
} from '@topicdesk/core';
import type { Coordination } from '@topicdesk/fanout';
import { createAttachmentRuntime } from '@topicdesk/storage';
import type { Logger } from '@topicdesk/telemetry';
import type { BridgeConfig } from './config';
import { createBridgeMetrics } from './metrics';
import { BotPool } from './sender/bot-pool';
import { ChannelBots } from './sender/channel-bots';
import { createTelegramApi } from './sender/telegram-api';
import { TelegramSender } from './sender/telegram-sender';
import { TopicSync } from './sync/topic-sync';
import { PrivateChat } from './updates/private-chat';
import { TelegramFiles } from './updates/telegram-files';
import { UpdateProcessor } from './updates/update-processor';
import { ConsoleSignIn } from './updates/console-sign-in';
import { consoleUrl } from '@topicdesk/config';
import { DEFAULT_TENANT_ID } from '@topicdesk/core';
import { UserKeyring } from './user-crypto';

export interface BridgeDeps {
  config: BridgeConfig;
  db: Kysely<DB>;
  bus: Bus;
  coordination: Coordination;
  relay: OutboxRelay;
  logger: Logger;
}

/** The bridge's parts, built once from its dependencies; nothing here starts anything. */
export type BridgeParts = ReturnType<typeof wireBridge>;

/**
 * Builds the parts: the sender, the sync (sends out), the update processor (updates in), the
 * private chat when there is a key, and core's use cases they record through.
 */
export function wireBridge(deps: BridgeDeps) {
  const { config, logger, coordination } = deps;
  const metrics = createBridgeMetrics();
  const { apiOf, pool, sender } = createSender(deps, metrics);
  const botId = pool.main.id;
  const groupId = config.SUPPORT_GROUP_ID;
  // Private chats need the key: it encrypts users' ids in Postgres and updates on the bus.
  const keyring = config.TELEGRAM_USER_KEY
    ? UserKeyring.fromEnv(config.TELEGRAM_USER_KEY, config.TELEGRAM_USER_KEY_PREVIOUS)
    : undefined;
  const attachments = new AttachmentService({
    uow: new UnitOfWork(deps.db, deps.relay),
    ...createAttachmentRuntime(config, { dataDir: config.DATA_DIR, port: config.PORT }),
    urlTtlMs: config.ATTACHMENTS_URL_TTL,
    logger,
  });
  const files = new TelegramFiles({
    api: pool.main.api,
    token: config.BOT_TOKEN,
    apiRoot: config.TELEGRAM_API_ROOT,
    attachments,
    maxFileBytes: config.ATTACHMENTS_MAX_FILE_BYTES,
    logger,
  });
  // Bot channels (issue 19): owners' bots, joined to the pool when one of their users is due.
  const channelBots = keyring
    ? new ChannelBots({
        tokens: new BotChannelTokens(deps.db, keyring),
        pool,
        apiOf: (token) => apiOf(token),
        logger,
      })
    : undefined;
  const privateChat = keyring
    ? new PrivateChat({
        channelBots,
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
        files,
        allowedTypes: config.ATTACHMENTS_ALLOWED_TYPES,
        attachments,
        topicPolicy: config.DSAR_TOPIC_POLICY,
      })
    : undefined;
  const delivery = new TopicDeliveryService(new UnitOfWork(deps.db, deps.relay));
  const sync = new TopicSync({
    sender,
    delivery,
    attachments,
    coordination,
    logger,
    metrics,
    defaultGroupId: groupId,
    pinHeader: config.TELEGRAM_PIN_HEADER,
    privateChat,
  });
  const groups = new ServedGroups(deps.db, groupId);
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
    assignment: { mode: config.ASSIGNMENT, defaultCapacity: config.AGENT_CAPACITY_DEFAULT },
    sync,
    privateChat,
    files,
    consoleSignIn: new ConsoleSignIn({
      db: deps.db,
      relay: deps.relay,
      sender,
      logger,
      tenantId: DEFAULT_TENANT_ID,
      botId,
      consoleUrl: consoleUrl(config),
      linkTtlMs: config.CONSOLE_LINK_TTL,
    }),
  });
  // The tenants as this replica knows them; `tenant.changed` drops one (bridge.ts listens).
  const tenants = new TenantDirectory({
    db: deps.db,
    keyring: TenantKeyring.fromEnv(config.TENANT_KEK, config.TENANT_KEKS_PREVIOUS),
    logger,
  });
  return {
    ...deps,
    metrics,
    tenants,
    apiOf,
    pool,
    sender,
    keyring,
    privateChat,
    delivery,
    sync,
    groups,
    processor,
  };
}

/** One pool of bots behind one sender: every call that shows up in a chat goes through it. */
function createSender(
  { config, coordination, logger }: BridgeDeps,
  metrics: ReturnType<typeof createBridgeMetrics>,
) {
  const apiOf = (token: string, timeoutSeconds?: number) =>
    createTelegramApi(token, config.TELEGRAM_API_ROOT, metrics, timeoutSeconds);
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
  return { apiOf, pool, sender };
}
