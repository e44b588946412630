import type { BotChannelTokens } from '@topicdesk/core';
import type { Logger } from '@topicdesk/telemetry';
import type { Api } from 'grammy';
import type { BotPool } from './bot-pool';

export interface ChannelBotsOptions {
  tokens: BotChannelTokens;
  pool: BotPool;
  /** The bridge's way to make an Api for a token (TELEGRAM_API_ROOT, metrics, timeouts). */
  apiOf: (token: string) => Api;
  logger: Logger;
}

/**
 * Bot channels' bots (issue 19), joined to the pool on first use: agents' replies to a channel's
 * user go out with the owner's token, under the same per-bot budgets and 429 pauses as every
 * bot of the bridge. Tokens are read from Postgres (sealed) once per process and channel.
 */
export class ChannelBots {
  readonly #bots = new Map<string, Promise<string | undefined>>();

  constructor(private readonly options: ChannelBotsOptions) {}

  /** The pool bot id of a channel; undefined when the channel is gone or its token unreadable. */
  botOf(tenantId: string, channelId: string): Promise<string | undefined> {
    const key = `${tenantId}/${channelId}`;
    let bot = this.#bots.get(key);
    if (!bot) {
      bot = this.#load(tenantId, channelId);
      this.#bots.set(key, bot);
      // A failure to read is not remembered: the next delivery asks again.
      bot.catch(() => this.#bots.delete(key));
    }
    return bot;
  }

  async #load(tenantId: string, channelId: string): Promise<string | undefined> {
    const { tokens, pool, apiOf, logger } = this.options;
    const found = await tokens.find(tenantId, channelId);
    if (!found) {
      logger.error({ channelId }, 'bot channel not found; its users cannot be reached');
      return undefined;
    }
    return pool.addChannelBot(found.botId, apiOf(found.token)).id;
  }
}
