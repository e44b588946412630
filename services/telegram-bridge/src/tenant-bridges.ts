import { topics, type Bus, type SignalSubscription } from '@topicdesk/bus';
import { DEFAULT_TENANT_ID, type TenantConfig, type TenantDirectory } from '@topicdesk/core';
import type { Logger } from '@topicdesk/telemetry';
import { BridgeError, BridgeErrorCode } from './errors';
import type { BotPool } from './sender/bot-pool';
import type { TelegramSender } from './sender/telegram-sender';
import type { TopicSync } from './sync/topic-sync';
import type { PrivateChat } from './updates/private-chat';
import type { TelegramFiles } from './updates/telegram-files';
import type { UpdateIntake } from './updates/update-intake';
import type { UpdateProcessor } from './updates/update-processor';
import type { ServedGroups } from '@topicdesk/core';
import { UserKeyring } from './user-crypto';
import type { TenantTelegram } from './wiring';

/** One tenant's parts: its bots behind its sender, its sync, its processor, its groups. */
export interface TenantBridge {
  readonly tenantId: string;
  readonly telegram: TenantTelegram;
  readonly pool: BotPool;
  readonly sender: TelegramSender;
  readonly sync: TopicSync;
  readonly processor: UpdateProcessor;
  readonly groups: ServedGroups;
  readonly files: TelegramFiles;
  readonly intake: UpdateIntake;
  readonly privateChat: PrivateChat | undefined;
  /** The bridge's logger with the tenant's id on every line. */
  readonly logger: Logger;
}

/** What runs for a served tenant (its polling or webhook, its status); returns its stop. */
export type ServeHook = (bridge: TenantBridge) => () => Promise<void> | void;

export interface TenantBridgesOptions {
  tenants: Pick<TenantDirectory, 'get' | 'drop' | 'byWebhookSecret' | 'activeIds'>;
  /** The default tenant's parts, from the environment; always served. */
  main: TenantBridge;
  logger: Logger;
  /** Builds a tenant's parts (nothing started). */
  build: (telegram: TenantTelegram) => TenantBridge;
}

interface Held {
  bridge: TenantBridge;
  /** The directory's entry it was last checked against: the same entry needs no check. */
  config: TenantConfig;
  /** Token, sender tokens and group: a change of any rebuilds the parts. */
  signature: string;
  stops: Array<() => Promise<void> | void>;
}

/**
 * Every tenant's parts on this replica. The default tenant's come from the environment; any other
 * active tenant whose secrets bundle has a bot token and a support group gets its own, built on
 * first use from the tenant directory, rebuilt when its bot or group changed (the old sender is
 * closed: sends waiting for budget fail and their deliveries come back to the new one, sends in
 * flight finish), dropped when it is suspended or deleted.
 */
export class TenantBridges {
  readonly #held = new Map<string, Held>();
  /** One change at a time per tenant: two deliveries never build a tenant's parts twice. */
  readonly #turns = new Map<string, Promise<unknown>>();
  readonly #hooks: ServeHook[] = [];
  #stopped = false;

  constructor(private readonly options: TenantBridgesOptions) {}

  get main(): TenantBridge {
    return this.options.main;
  }

  /** Runs `hook` for each tenant served from now on (not the default one) until it is retired. */
  onServe(hook: ServeHook): void {
    this.#hooks.push(hook);
  }

  /**
   * The tenant's parts; a `BridgeError` `TENANT_INACTIVE` for a tenant that is unknown, suspended
   * or deleted, `TENANT_BOT_MISSING` for one without a bot token or support group.
   */
  get(tenantId: string): Promise<TenantBridge> {
    if (tenantId === DEFAULT_TENANT_ID || tenantId === '') return Promise.resolve(this.main);
    return this.#turn(tenantId, () => this.#current(tenantId));
  }

  /** The parts served now, the default tenant's first. */
  served(): TenantBridge[] {
    return [this.main, ...[...this.#held.values()].map((held) => held.bridge)];
  }

  /**
   * The active tenant whose webhook path carries `secret` (a webhook delivery's tenant): one
   * served already is found without Postgres (its cache entry), any other is read.
   */
  async byWebhookSecret(secret: string): Promise<TenantConfig | undefined> {
    const { tenants } = this.options;
    const known = [...this.#held.values()].find(
      (held) => held.bridge.telegram.webhookSecret === secret,
    );
    const tenant = known
      ? await tenants.get(known.bridge.tenantId)
      : await tenants.byWebhookSecret(secret);
    return tenant?.status === 'active' && tenant.webhookSecret === secret ? tenant : undefined;
  }

  /**
   * Re-reads a tenant when `tenant.changed` names it: a new tenant with a bot is served at once
   * (its polling or webhook starts), a changed token rebuilds, a suspension retires its parts.
   */
  listen(bus: Bus): SignalSubscription {
    return bus.onSignal(topics.tenantChanged, (signal) => {
      this.options.tenants.drop(signal.tenantId);
      void this.refresh(signal.tenantId);
    });
  }

  /** Serves every active tenant with a bot (at start: their updates are polled or hooked). */
  async serveAll(): Promise<number> {
    let served = 0;
    for (const id of await this.options.tenants.activeIds()) {
      if (id !== DEFAULT_TENANT_ID && (await this.refresh(id))) served += 1;
    }
    return served;
  }

  /** Whether the tenant is served after reading it again; why not is logged. */
  async refresh(tenantId: string): Promise<boolean> {
    if (tenantId === DEFAULT_TENANT_ID) return true;
    try {
      await this.get(tenantId);
      return true;
    } catch (error) {
      const code = error instanceof BridgeError ? error.code : undefined;
      if (code === BridgeErrorCode.TENANT_BOT_MISSING)
        this.options.logger.info({ tenantId }, 'tenant has no bot or support group: not served');
      else if (code !== BridgeErrorCode.TENANT_INACTIVE)
        this.options.logger.warn({ err: error, tenantId }, 'could not serve the tenant');
      return false;
    }
  }

  /** Retires every tenant's parts (the bridge stops). */
  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all([...this.#held.keys()].map((id) => this.#turn(id, () => this.#retire(id))));
  }

  async #current(tenantId: string): Promise<TenantBridge> {
    const tenant = await this.options.tenants.get(tenantId);
    if (!tenant || tenant.status !== 'active') {
      await this.#retire(tenantId);
      throw new BridgeError(
        BridgeErrorCode.TENANT_INACTIVE,
        `tenant "${tenantId}" is ${tenant ? tenant.status : 'unknown'}`,
      );
    }
    // Every delivery asks: while the directory holds the same entry, nothing changed.
    const held = this.#held.get(tenantId);
    if (held?.config === tenant) return held.bridge;
    const telegram = telegramOf(tenant, this.options.logger);
    if (!telegram) {
      await this.#retire(tenantId);
      throw new BridgeError(
        BridgeErrorCode.TENANT_BOT_MISSING,
        `tenant "${tenantId}" has no bot token or support group in its secrets`,
      );
    }
    const signature = JSON.stringify([
      telegram.botToken,
      telegram.senderBotTokens,
      telegram.groupId,
      telegram.webhookSecret,
      telegram.keyring?.current.id,
    ]);
    if (held?.signature === signature) {
      held.config = tenant;
      return held.bridge;
    }
    if (held) await this.#retire(tenantId);
    if (this.#stopped) throw new Error('the bridge is stopping');
    const bridge = this.options.build(telegram);
    const stops = this.#hooks.map((hook) => hook(bridge));
    this.#held.set(tenantId, { bridge, config: tenant, signature, stops });
    bridge.logger.info(
      { botId: bridge.pool.main.id, groupId: telegram.groupId, bots: bridge.pool.bots.length },
      held ? "tenant's bot or group changed: parts rebuilt" : 'tenant served',
    );
    return bridge;
  }

  async #retire(tenantId: string): Promise<void> {
    const held = this.#held.get(tenantId);
    if (!held) return;
    this.#held.delete(tenantId);
    for (const stop of held.stops.reverse()) {
      await Promise.resolve(stop()).catch((error: unknown) =>
        held.bridge.logger.warn({ err: error }, "could not stop part of a retired tenant's bridge"),
      );
    }
    held.bridge.sender.close();
    held.bridge.logger.info({ botId: held.bridge.pool.main.id }, "tenant's parts retired");
  }

  #turn<T>(tenantId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#turns.get(tenantId) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.catch(() => undefined);
    this.#turns.set(tenantId, settled);
    void settled.then(() => {
      if (this.#turns.get(tenantId) === settled) this.#turns.delete(tenantId);
    });
    return next;
  }
}

/**
 * A tenant's Telegram from its secrets bundle, or undefined without a bot token and a group. Its
 * `telegramUserKey`, when it is a valid key, turns on its bot's private chat.
 */
export function telegramOf(tenant: TenantConfig, logger?: Logger): TenantTelegram | undefined {
  const secrets = tenant.secrets();
  const groupId = Number(secrets.supportGroups?.[0]);
  if (!secrets.botToken || !Number.isSafeInteger(groupId) || groupId === 0) return undefined;
  return {
    tenantId: tenant.id,
    botToken: secrets.botToken,
    senderBotTokens: secrets.senderBotTokens ?? [],
    groupId,
    webhookSecret: tenant.webhookSecret,
    keyring: userKeyring(tenant.id, secrets.telegramUserKey, logger),
  };
}

function userKeyring(
  tenantId: string,
  key: string | undefined,
  logger: Logger | undefined,
): UserKeyring | undefined {
  if (!key) return undefined;
  try {
    return UserKeyring.fromEnv(key);
  } catch (error) {
    logger?.warn(
      { err: error, tenantId },
      "the tenant's telegramUserKey is not 32 bytes in base64: its bot ignores private chats",
    );
    return undefined;
  }
}
