import { DEFAULT_TENANT_ID, telegramHeaderSecret } from '@topicdesk/core';
import type { FastifyPluginAsync } from 'fastify';
import { updatesMode } from './config';
import {
  consumeSync,
  consumeTopicRemovals,
  consumeUpdates,
  showTyping,
  unserved,
} from './consumers';
import { answerMiniAppRequests } from './mini-app';
import { publishBridgeStatus } from './bridge-status';
import { answerSetupRequests } from './setup-checks';
import { startSyncSweep } from './sync/sweep';
import type { TenantBridge } from './tenant-bridges';
import { sleep, UpdateReceiving } from './updates/update-receiving';
import { webhookRoute, type TenantWebhook } from './updates/webhook';
import { wireBridge, type BridgeDeps, type BridgeParts } from './wiring';

export type { BridgeDeps } from './wiring';

export interface Bridge {
  /** Routes of the bridge (the webhook), to register on a fastify server. */
  readonly routes: FastifyPluginAsync;
  /** Starts consuming, registers the webhook or starts polling. */
  start(): Promise<void>;
  /** For /readyz: the webhook is registered (webhook mode) or polling runs. */
  health(): { ok: boolean; detail?: string };
  stop(): Promise<void>;
}

/** How long the start waits for the pool check before going on (Telegram may be away). */
const POOL_CHECK_WAIT_MS = 10_000;
const POOL_RECHECK_MS = 5 * 60_000;

/**
 * The Telegram bridge: updates come in (webhook or polling) onto the bus and are applied by the
 * update processor; conversations go out to their topics through the sync; both over one sender.
 */
export function createBridge(deps: BridgeDeps): Bridge {
  const parts = wireBridge(deps);
  const { config, logger, metrics, sender, intake, bridges } = parts;
  const receiving = new UpdateReceiving({
    ...parts,
    tenantId: DEFAULT_TENANT_ID,
    mode: updatesMode(config),
    tokens: [config.BOT_TOKEN, ...config.TELEGRAM_SENDER_BOT_TOKENS],
    webhook: {
      url: config.TELEGRAM_WEBHOOK_URL,
      headerSecret: config.TELEGRAM_HEADER_SECRET,
      pathSecretSet: Boolean(config.TELEGRAM_WEBHOOK_SECRET),
    },
  });
  const stops: Array<() => Promise<void> | void> = [];
  const abort = new AbortController();
  // Each served tenant's update receiving (its webhook for the Setup page's button).
  const receivers = new WeakMap<TenantBridge, UpdateReceiving>();

  return {
    routes: async (app) => {
      await app.register(webhookRoute, {
        pathSecret: config.TELEGRAM_WEBHOOK_SECRET,
        headerSecret: config.TELEGRAM_HEADER_SECRET,
        metrics,
        ingest: (update) => intake.ingest(update),
        tenantOf: (secret) => tenantWebhook(parts, secret),
      });
    },

    async start() {
      // Which bot may do what where, before anything is sent (bounded: Telegram may be away).
      await Promise.race([checkPool(parts), sleep(POOL_CHECK_WAIT_MS, abort.signal)]);
      const recheck = setInterval(() => void checkPool(parts), POOL_RECHECK_MS);
      recheck.unref();
      stops.push(() => clearInterval(recheck));
      stops.push(() => sender.close());
      // Every other tenant's bots: served as they are built (their polling or webhook, their
      // status), retired when their tenant is suspended or their bot changes.
      bridges.onServe((bridge) => serveTenant(parts, bridge, receivers));
      for (const subscription of [
        parts.tenants.listen(parts.bus),
        bridges.listen(parts.bus),
        consumeSync(parts),
        consumeUpdates(parts),
        consumeTopicRemovals(parts),
        showTyping(parts),
        answerSetupRequests(parts, {
          mode: receiving.mode,
          subjectOf: async (tenantId) => {
            if (tenantId === DEFAULT_TENANT_ID)
              return {
                ...parts,
                groupId: config.SUPPORT_GROUP_ID,
                webhookUrl: config.TELEGRAM_WEBHOOK_URL,
                registerWebhook: (url) => receiving.registerWebhook(url),
              };
            const bridge = await bridges.get(tenantId);
            const tenantReceiving = receivers.get(bridge);
            return {
              ...bridge,
              groupId: bridge.telegram.groupId,
              webhookUrl: tenantReceiving?.webhookUrl,
              registerWebhook: (url) =>
                tenantReceiving
                  ? tenantReceiving.registerWebhook(url)
                  : Promise.reject(new Error('the tenant is being served anew; try again')),
            };
          },
        }),
        answerMiniAppRequests(parts),
        publishBridgeStatus(
          {
            tenantId: DEFAULT_TENANT_ID,
            pool: parts.pool,
            sender,
            budgets: parts.coordination.budgets,
            groups: async () => [config.SUPPORT_GROUP_ID, ...(await parts.groups.all())],
          },
          { bus: parts.bus, logger },
        ),
      ])
        stops.push(() => subscription.stop());
      // Stopped before the consumers: their handlers waiting for a tenant's budget are handed
      // back (to another replica) instead of holding the shutdown.
      stops.push(() => bridges.stop());
      stops.push(startSyncSweep(parts));
      startPrivateChat(parts);
      await receiving.start();
      stops.push(() => receiving.stop());
      const tenants = await bridges.serveAll().catch((error: unknown) => {
        logger.error(
          { err: error },
          'could not read the tenants at start; each is served on first use',
        );
        return 0;
      });
      logger.info(
        { mode: receiving.mode, groupId: config.SUPPORT_GROUP_ID, tenants },
        'telegram bridge started',
      );
    },

    health: () => health(parts, receiving),

    async stop() {
      abort.abort();
      for (const stop of stops.reverse()) await stop();
    },
  };
}

/**
 * A tenant's webhook delivery: the tenant whose `webhook_secret` is the path's, when it is active
 * and has a bot; its header secret is derived from that secret (`telegramHeaderSecret`).
 */
async function tenantWebhook(
  { bridges }: BridgeParts,
  secret: string,
): Promise<TenantWebhook | undefined> {
  const tenant = await bridges.byWebhookSecret(secret);
  if (!tenant || tenant.id === DEFAULT_TENANT_ID) return undefined;
  // A tenant that cannot be served is no webhook (404); anything else (Postgres away) is an
  // error: the route answers 500 and Telegram sends the update again.
  const bridge = await bridges.get(tenant.id).catch((error: unknown) => {
    if (unserved(error)) return undefined;
    throw error;
  });
  if (!bridge) return undefined;
  return {
    tenantId: tenant.id,
    headerSecret: telegramHeaderSecret(tenant.webhookSecret),
    ingest: (update) => bridge.intake.ingest(update),
  };
}

/** The URL of a tenant's webhook: the default one's with the tenant's secret as last segment. */
export function tenantWebhookUrl(
  url: string | undefined,
  webhookSecret: string,
): string | undefined {
  if (!url || !/\/webhook\/[^/?#]+/.test(url)) return undefined;
  return url.replace(/\/webhook\/[^/?#]+/, `/webhook/${encodeURIComponent(webhookSecret)}`);
}

/** What runs for a served tenant: its bots checked, its updates received, its status told. */
function serveTenant(
  parts: BridgeParts,
  bridge: TenantBridge,
  receivers: WeakMap<TenantBridge, UpdateReceiving>,
): () => Promise<void> {
  const { config, coordination, bus, apiOf } = parts;
  const { telegram, pool, sender, logger } = bridge;
  const webhookSecret = telegram.webhookSecret ?? '';
  const receiving = new UpdateReceiving({
    tenantId: bridge.tenantId,
    mode: updatesMode(config),
    tokens: [telegram.botToken, ...telegram.senderBotTokens],
    webhook: {
      url: tenantWebhookUrl(config.TELEGRAM_WEBHOOK_URL, webhookSecret),
      headerSecret: telegramHeaderSecret(webhookSecret),
      pathSecretSet: webhookSecret !== '',
    },
    registerOnce: true,
    pool,
    coordination,
    logger,
    intake: bridge.intake,
    apiOf: (token, timeoutSeconds) => apiOf(token, timeoutSeconds, bridge.tenantId),
  });
  receivers.set(bridge, receiving);
  void checkPool(bridge);
  const recheck = setInterval(() => void checkPool(bridge), POOL_RECHECK_MS);
  recheck.unref();
  const started = receiving
    .start()
    .catch((error: unknown) =>
      logger.error({ err: error }, "could not receive the tenant's updates"),
    );
  const status = publishBridgeStatus(
    {
      tenantId: bridge.tenantId,
      pool,
      sender,
      budgets: coordination.budgets,
      groups: async () => [telegram.groupId, ...(await bridge.groups.all())],
    },
    { bus, logger },
  );
  return async () => {
    clearInterval(recheck);
    status.stop();
    await started;
    await receiving.stop();
  };
}

/** Checks the pool's bots in every support group (again every few minutes). */
async function checkPool({
  pool,
  groups,
  logger,
}: Pick<BridgeParts, 'pool' | 'groups' | 'logger'>): Promise<void> {
  await pool
    .check(await groups.all())
    .catch((error: unknown) => logger.warn({ err: error }, 'bot pool check failed; retried later'));
}

/** The private chat at start: said to be off without a key; after a key rotation, re-keyed. */
function startPrivateChat({ privateChat, keyring, coordination, logger }: BridgeParts): void {
  if (!privateChat) {
    logger.warn('TELEGRAM_USER_KEY is unset: the bot ignores private chats (no second channel)');
    return;
  }
  if (!keyring?.previous) return;
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

/** For /readyz: updates arrive (webhook registered, or polling), and which bots are left out. */
function health({ pool, config }: BridgeParts, receiving: UpdateReceiving) {
  const bots = pool.report(config.SUPPORT_GROUP_ID);
  const leftOut = pool.describe();
  if (!receiving.registered) {
    const waiting = receiving.mode === 'webhook' ? 'webhook not registered yet' : 'not polling yet';
    return { ok: false, detail: [waiting, leftOut].filter(Boolean).join('; ') };
  }
  // A sender bot left out only narrows the pool: ready, and the detail says which.
  return leftOut ? { ok: bots.ok, detail: leftOut } : { ok: true };
}
