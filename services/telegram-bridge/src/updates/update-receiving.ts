import { createHash } from 'node:crypto';
import { DEFAULT_TENANT_ID } from '@topicdesk/core';
import type { Coordination } from '@topicdesk/fanout';
import type { Logger } from '@topicdesk/telemetry';
import type { BotPool, PoolBot } from '../sender/bot-pool';
import { botIdOf, type createTelegramApi } from '../sender/telegram-api';
import type { UpdateIntake } from './update-intake';

const POLL_TIMEOUT_S = 25;
const WEBHOOK_RETRY_MS = 10_000;
const ALL_UPDATES = ['message', 'edited_message', 'callback_query'] as const;
const SENDER_UPDATES = ['callback_query'] as const;
/** After a replica registered a tenant's webhook, the others skip it this long. */
const WEBHOOK_ONCE_MS = 10 * 60_000;

export interface UpdateReceivingOptions {
  /** Whose bots these are: the default tenant's main bot keeps its poller lock's old name. */
  tenantId: string;
  mode: 'webhook' | 'polling';
  /** The bots' tokens, the main bot's first (a long poll gets a client of its own). */
  tokens: readonly string[];
  /** The webhook (webhook mode): its URL (unset: registered by someone else) and header secret. */
  webhook: { url: string | undefined; headerSecret: string | undefined; pathSecretSet: boolean };
  /**
   * One replica registers the webhook for all (a tenant's, at start and on a change); the
   * default tenant's is registered by every replica at start, as before.
   */
  registerOnce?: boolean;
  pool: BotPool;
  coordination: Coordination;
  logger: Logger;
  intake: UpdateIntake;
  apiOf: (token: string, timeoutSeconds?: number) => ReturnType<typeof createTelegramApi>;
}

/**
 * How updates reach the bridge: the webhook registered for every bot, or long polling (one
 * replica at a time per bot). Knows whether that is in place, for /readyz.
 */
export class UpdateReceiving {
  readonly mode: 'webhook' | 'polling';
  #registered = false;
  #stopping = false;
  readonly #abort = new AbortController();
  readonly #stops: Array<() => Promise<void> | void> = [];
  /** Each bot's token by its id: a long poll gets a client of its own with a longer timeout. */
  readonly #tokens: Map<string, string>;

  constructor(private readonly options: UpdateReceivingOptions) {
    this.mode = options.mode;
    this.#tokens = new Map(options.tokens.map((token) => [botIdOf(token), token]));
  }

  /** The URL the bots' webhook is set to in webhook mode (unset: registered by someone else). */
  get webhookUrl(): string | undefined {
    return this.options.webhook.url;
  }

  /** The webhook is registered (webhook mode) or the main bot polls. */
  get registered(): boolean {
    return this.#registered;
  }

  async start(): Promise<void> {
    const { webhook, logger, pool } = this.options;
    if (this.mode === 'polling') {
      for (const bot of pool.bots) {
        const polling = this.#poll(bot).catch((error: unknown) =>
          logger.error({ err: error, botId: bot.id }, 'polling stopped'),
        );
        this.#stops.push(() => polling);
      }
      return;
    }
    const url = webhook.url;
    if (!url || !(await this.#ours(url))) {
      this.#registered = true; // registered by someone else (another replica)
      return;
    }
    await this.registerWebhook(url).catch((error: unknown) => {
      logger.error({ err: error }, 'setWebhook failed; retrying in the background');
      const retry = setInterval(() => {
        this.registerWebhook(url).then(
          () => clearInterval(retry),
          (again: unknown) => logger.warn({ err: again }, 'setWebhook failed again; retrying'),
        );
      }, WEBHOOK_RETRY_MS);
      this.#stops.push(() => clearInterval(retry));
    });
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.#abort.abort();
    for (const stop of this.#stops.reverse()) await stop();
  }

  /**
   * Whether this replica sets the webhook at start: always, or with `registerOnce` only the
   * first replica to ask for these bots, URL and header secret (a change asks again); it then
   * retries until Telegram took it.
   */
  async #ours(url: string): Promise<boolean> {
    const { registerOnce, webhook, pool, coordination } = this.options;
    if (!registerOnce) return true;
    const digest = createHash('sha256')
      .update(JSON.stringify([url, webhook.headerSecret, [...this.#tokens.values()]]))
      .digest('base64url')
      .slice(0, 16);
    const botId = pool.main.id;
    return coordination.dedupe.firstSeen(`tg:webhook:${botId}:${digest}`, WEBHOOK_ONCE_MS);
  }

  /** Sets every bot's webhook to `url` (at start, and from the console's setup page). */
  async registerWebhook(url: string): Promise<void> {
    const { webhook, logger, pool } = this.options;
    const parsed = new URL(url);
    const port = parsed.port ? Number(parsed.port) : parsed.protocol === 'https:' ? 443 : 80;
    if (parsed.protocol !== 'https:' || ![443, 80, 88, 8443].includes(port)) {
      logger.warn(
        { url: redacted(url) },
        'Telegram only delivers webhooks to https on ports 443, 80, 88 or 8443; fine for a sandbox',
      );
    }
    if (!webhook.pathSecretSet)
      logger.warn('TELEGRAM_WEBHOOK_SECRET is unset: the webhook route refuses every call');
    for (const bot of pool.bots) {
      await bot.api.setWebhook(url, {
        ...(webhook.headerSecret ? { secret_token: webhook.headerSecret } : {}),
        // Sender bots get only the buttons they sent; the main bot everything agents do.
        allowed_updates: bot.main ? ALL_UPDATES : SENDER_UPDATES,
        // One delivery at a time: agents' messages reach JetStream in Telegram's order.
        max_connections: 1,
      });
    }
    this.#registered = true;
    logger.info({ url: redacted(url), bots: pool.bots.length }, 'webhook registered');
  }

  /**
   * Long polling of one bot; one replica at a time per bot (Telegram allows one getUpdates
   * caller). Sender bots poll only for the callback queries of their buttons.
   */
  async #poll(bot: PoolBot): Promise<void> {
    const { coordination, logger, intake } = this.options;
    const signal = this.#abort.signal;
    // Long polls hold the request for POLL_TIMEOUT_S; their client waits longer than that.
    const pollingApi = this.options.apiOf(this.#tokens.get(bot.id) as string, POLL_TIMEOUT_S + 15);
    // The default tenant's main bot keeps the lock's name from before tenants.
    const mainBot = bot.main && this.options.tenantId === DEFAULT_TENANT_ID;
    const lockKey = mainBot ? 'telegram-poller' : `telegram-poller:${bot.id}`;
    while (!this.#stopping) {
      // Redis may be away for a moment: that is a retry, never a crash of the poller.
      const lock = await coordination.locks.tryLock(lockKey, 30_000).catch((error: unknown) => {
        logger.warn({ err: error }, 'could not take the poller lock; retrying');
        return null;
      });
      if (!lock) {
        await sleep(5000, signal);
        continue;
      }
      try {
        await bot.api.deleteWebhook({ drop_pending_updates: false });
        if (bot.main) this.#registered = true;
        let offset: number | undefined;
        while (!this.#stopping && !lock.signal.aborted) {
          const updates = await pollingApi.getUpdates(
            {
              timeout: POLL_TIMEOUT_S,
              allowed_updates: bot.main ? ALL_UPDATES : SENDER_UPDATES,
              ...(offset !== undefined ? { offset } : {}),
            },
            // grammY types its signal with the abort-controller shim; Node's is compatible at run time.
            signal as Parameters<typeof pollingApi.getUpdates>[1],
          );
          for (const update of updates) {
            await intake.ingest(update, bot.id);
            offset = update.update_id + 1;
          }
        }
      } catch (error) {
        if (!this.#stopping) {
          logger.warn({ err: error, botId: bot.id }, 'polling failed; retrying');
          if (bot.main) this.#registered = false;
          await sleep(2000, signal);
        }
      } finally {
        await lock.release();
      }
    }
  }
}

/** The webhook URL without its secret path segment, for logs. */
function redacted(url: string): string {
  return url.replace(/\/webhook\/[^/?#]+/, '/webhook/…');
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
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
