import type { FastifyPluginAsync } from 'fastify';
import { consumeSync, consumeTopicRemovals, consumeUpdates, showTyping } from './consumers';
import { answerMiniAppRequests } from './mini-app';
import { publishBridgeStatus } from './bridge-status';
import { answerSetupRequests } from './setup-checks';
import { startSyncSweep } from './sync/sweep';
import { UpdateIntake } from './updates/update-intake';
import { sleep, UpdateReceiving } from './updates/update-receiving';
import { webhookRoute } from './updates/webhook';
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
  const { config, logger, metrics, sender } = parts;
  const intake = new UpdateIntake(parts);
  const receiving = new UpdateReceiving({ ...parts, intake });
  const stops: Array<() => Promise<void> | void> = [];
  const abort = new AbortController();

  return {
    routes: async (app) => {
      await app.register(webhookRoute, {
        pathSecret: config.TELEGRAM_WEBHOOK_SECRET,
        headerSecret: config.TELEGRAM_HEADER_SECRET,
        metrics,
        ingest: (update) => intake.ingest(update),
      });
    },

    async start() {
      // Which bot may do what where, before anything is sent (bounded: Telegram may be away).
      await Promise.race([checkPool(parts), sleep(POOL_CHECK_WAIT_MS, abort.signal)]);
      const recheck = setInterval(() => void checkPool(parts), POOL_RECHECK_MS);
      recheck.unref();
      stops.push(() => clearInterval(recheck));
      stops.push(() => sender.close());
      for (const subscription of [
        parts.tenants.listen(parts.bus),
        consumeSync(parts),
        consumeUpdates(parts, intake),
        consumeTopicRemovals(parts),
        showTyping(parts),
        answerSetupRequests(parts, {
          mode: receiving.mode,
          registerWebhook: (url) => receiving.registerWebhook(url),
        }),
        answerMiniAppRequests(parts),
        publishBridgeStatus(
          {
            pool: parts.pool,
            sender,
            budgets: parts.coordination.budgets,
            groups: async () => [config.SUPPORT_GROUP_ID, ...(await parts.groups.all())],
          },
          { bus: parts.bus, logger },
        ),
      ])
        stops.push(() => subscription.stop());
      stops.push(startSyncSweep(parts));
      startPrivateChat(parts);
      await receiving.start();
      stops.push(() => receiving.stop());
      logger.info(
        { mode: receiving.mode, groupId: config.SUPPORT_GROUP_ID },
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

/** Checks the pool's bots in every support group (again every few minutes). */
async function checkPool({ pool, groups, logger }: BridgeParts): Promise<void> {
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
