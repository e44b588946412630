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
import { UpdateIntake } from './updates/update-intake';
import { TenantBridges, type TenantBridge } from './tenant-bridges';
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

/** What every tenant's parts share: the process's connections, metrics and core use cases. */
interface SharedParts {
  deps: BridgeDeps;
  metrics: ReturnType<typeof createBridgeMetrics>;
  apiOf: ApiOf;
  attachments: AttachmentService;
  delivery: TopicDeliveryService;
}

/** A bot's API by its token; `tenantId` (default: the default tenant) labels its calls' metrics. */
export type ApiOf = (
  token: string,
  timeoutSeconds?: number,
  tenantId?: string,
) => ReturnType<typeof createTelegramApi>;

/** One tenant's Telegram: its bots, groups, and (the default tenant only) its user key. */
export interface TenantTelegram {
  tenantId: string;
  botToken: string;
  senderBotTokens: readonly string[];
  /** Conversations without a group of their own live there (the first of its groups). */
  groupId: number;
  keyring?: UserKeyring | undefined;
  /** The tenant's webhook path secret (`tenants.webhook_secret`); unset for the default tenant. */
  webhookSecret?: string | undefined;
}

/**
 * Builds the parts: the default tenant's from the environment (the sender, the sync, the update
 * processor, the private chat when there is a key), core's use cases they record through, and
 * the registry that builds every other tenant's parts from its secrets bundle on first use.
 */
export function wireBridge(deps: BridgeDeps) {
  const { config, logger } = deps;
  const metrics = createBridgeMetrics();
  const apiOf: ApiOf = (token, timeoutSeconds, tenantId) =>
    createTelegramApi(
      token,
      config.TELEGRAM_API_ROOT,
      metrics,
      timeoutSeconds,
      undefined,
      tenantId,
    );
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
  const delivery = new TopicDeliveryService(new UnitOfWork(deps.db, deps.relay));
  const shared: SharedParts = { deps, metrics, apiOf, attachments, delivery };
  const main = wireTenant(shared, {
    tenantId: DEFAULT_TENANT_ID,
    botToken: config.BOT_TOKEN,
    senderBotTokens: config.TELEGRAM_SENDER_BOT_TOKENS,
    groupId: config.SUPPORT_GROUP_ID,
    keyring,
  });
  // The tenants as this replica knows them; `tenant.changed` drops one (bridge.ts listens).
  const tenants = new TenantDirectory({
    db: deps.db,
    keyring: TenantKeyring.fromEnv(config.TENANT_KEK, config.TENANT_KEKS_PREVIOUS),
    logger,
  });
  const bridges = new TenantBridges({
    tenants,
    main,
    logger,
    build: (telegram) => wireTenant(shared, telegram),
  });
  return {
    ...deps,
    metrics,
    tenants,
    bridges,
    apiOf,
    pool: main.pool,
    sender: main.sender,
    keyring,
    privateChat: main.privateChat,
    delivery,
    sync: main.sync,
    groups: main.groups,
    processor: main.processor,
    intake: main.intake,
  };
}

/** One tenant's parts over one pool of bots: its sender, sync, processor, groups and files. */
function wireTenant(shared: SharedParts, telegram: TenantTelegram): TenantBridge {
  const { deps, metrics, apiOf, attachments, delivery } = shared;
  const { config, coordination, tenantId } = { ...deps, tenantId: telegram.tenantId };
  const logger = deps.logger.child({ tenantId });
  const { pool, sender } = createSender(shared, telegram, logger);
  const botId = pool.main.id;
  const groupId = telegram.groupId;
  const { keyring } = telegram;
  const files = new TelegramFiles({
    api: pool.main.api,
    token: telegram.botToken,
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
        apiOf: (token) => apiOf(token, undefined, tenantId),
        logger,
      })
    : undefined;
  const privateChat = keyring
    ? new PrivateChat({
        tenantId,
        channelBots,
        db: deps.db,
        sender,
        relay: deps.relay,
        coordination,
        keyring,
        logger,
        botId,
        // Per private-chat user, the same on every tenant's bot.
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
  const groups = new ServedGroups(deps.db, groupId, tenantId);
  const processor = new UpdateProcessor({
    db: deps.db,
    tenantId,
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
      tenantId,
      botId,
      consoleUrl: consoleUrl(config),
      linkTtlMs: config.CONSOLE_LINK_TTL,
    }),
  });
  const intake = new UpdateIntake({ bus: deps.bus, pool, metrics, keyring, tenantId });
  return {
    tenantId,
    telegram,
    pool,
    sender,
    sync,
    processor,
    groups,
    files,
    intake,
    privateChat,
    logger,
  };
}

/** One pool of bots behind one sender: every call that shows up in a chat goes through it. */
function createSender(
  { deps, metrics, apiOf }: SharedParts,
  telegram: TenantTelegram,
  logger: Logger,
) {
  const { config, coordination } = deps;
  const pool = new BotPool({
    main: { token: telegram.botToken, api: apiOf(telegram.botToken, undefined, telegram.tenantId) },
    senders: telegram.senderBotTokens.map((token) => ({
      token,
      api: apiOf(token, undefined, telegram.tenantId),
    })),
    logger,
  });
  // Budgets in Redis are keyed by bot id (`tg:group:<bot>:<chat>`…): a bot is one tenant's,
  // so two tenants never share a budget.
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
  return { pool, sender };
}
