import { createHash, randomBytes, randomUUID } from 'node:crypto';
import {
  AuditRepository,
  BotChannelRepository,
  TelegramConversationRepository,
  type BotChannel,
} from '@topicdesk/data';
import type { QuotaLimiter } from '@topicdesk/fanout';
import type { Logger } from '@topicdesk/telemetry';
import type { UnitOfWork } from '../unit-of-work';
import {
  PrivateChatIntake,
  type PrivateChatRequest,
  type PrivateChatResult,
} from './intake.service';
import { keyringCipher } from './user-cipher';
import { channelScope, type UserKeyring } from './user-keyring';
import { PrivateChatUsers, type PrivateChatVisitor } from './users.service';

/** A bot token as BotFather hands it out: `<bot id>:<secret part>`. */
const TOKEN_PATTERN = /^([0-9]{1,20}):[A-Za-z0-9_-]{1,200}$/;
/** Channel secrets: `tdch_` and 32 random bytes, base64url. */
const SECRET_PREFIX = 'tdch_';

export class BotChannelTokenError extends Error {
  override readonly name = 'BotChannelTokenError';
}

/** The Telegram bot id of a token (its prefix); throws a BotChannelTokenError on a malformed one. */
export function botIdOfToken(token: string): string {
  const match = TOKEN_PATTERN.exec(token);
  if (!match)
    throw new BotChannelTokenError('not a bot token (`<bot id>:<secret>` from BotFather)');
  return match[1] as string;
}

function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** What the admin API shows of a channel: never its token, never its secret. */
export interface BotChannelView {
  id: string;
  name: string | null;
  botId: string;
  createdAt: string;
}

export function botChannelView(channel: BotChannel): BotChannelView {
  return {
    id: channel.id,
    name: channel.name,
    botId: channel.bot_id,
    createdAt: channel.created_at.toISOString(),
  };
}

export interface BotChannelsOptions {
  uow: UnitOfWork;
  keyring: UserKeyring;
  quotas: QuotaLimiter;
  logger: Logger;
  /** The per-user limits of Topicdesk's own private chat apply to channels' users too. */
  limits: { conversationsPerDay: number; messagesPerHour: number };
}

/** A plugin's call, as the gateway parsed it: who, in which channel, asking for what. */
export interface ChannelTurn {
  channel: BotChannel;
  /** The Telegram update the call comes from: its id is the idempotency key. */
  updateId: number;
  telegramUserId: number;
  language: string | null;
  segment?: string | undefined;
  request: PrivateChatRequest;
}

/** The outcome of a plugin's call, and whether the user now has an open conversation. */
export interface ChannelTurnResult extends PrivateChatResult {
  inSupport: boolean;
}

/**
 * Bot channels (issue 19): bots that owners run with the `@topicdesk/grammy` plugin. Their users
 * are private-chat users of that bot — sealed ids scoped to the channel, the same per-user
 * limits, the same conversations — whose updates the plugin hands over instead of Telegram.
 * The token is sealed under the user key; the secret is returned once and stored hashed.
 */
export class BotChannels {
  readonly #repository: (db: UnitOfWork['db']) => BotChannelRepository;
  readonly #intake: PrivateChatIntake;
  readonly #users: PrivateChatUsers;

  constructor(private readonly options: BotChannelsOptions) {
    this.#repository = (db) => new BotChannelRepository(db);
    this.#users = new PrivateChatUsers(options.uow, keyringCipher(options.keyring));
    this.#intake = new PrivateChatIntake({
      uow: options.uow,
      users: this.#users,
      quotas: options.quotas,
      logger: options.logger,
      limits: options.limits,
      textStartsConversation: false,
    });
  }

  /**
   * Registers a bot: its token sealed, a new secret (returned here only). Undefined when the
   * tenant has a live channel of that bot already.
   */
  async register(
    tenantId: string,
    actorId: string,
    input: { token: string; name: string | null },
  ): Promise<{ channel: BotChannel; secret: string } | undefined> {
    const botId = botIdOfToken(input.token);
    const id = randomUUID();
    const secret = `${SECRET_PREFIX}${randomBytes(32).toString('base64url')}`;
    return this.options.uow.run(async (work) => {
      const channel = await new BotChannelRepository(work.trx).insert({
        id,
        tenantId,
        name: input.name,
        botId,
        token: this.options.keyring.sealToken(tenantId, id, input.token),
        secretHash: hashSecret(secret),
        at: new Date(),
      });
      if (!channel) return undefined;
      await new AuditRepository(work.trx).record({
        tenantId,
        actorType: 'admin',
        actorId,
        action: 'bot_channel.register',
        details: { channelId: id, botId, name: input.name },
      });
      return { channel, secret };
    });
  }

  list(tenantId: string): Promise<BotChannel[]> {
    return this.#repository(this.options.uow.db).list(tenantId);
  }

  /** Deletes a channel: its secret stops working; the bridge still sends what was said before. */
  remove(tenantId: string, actorId: string, id: string): Promise<boolean> {
    return this.options.uow.run(async (work) => {
      const removed = await new BotChannelRepository(work.trx).remove(tenantId, id, new Date());
      if (removed)
        await new AuditRepository(work.trx).record({
          tenantId,
          actorType: 'admin',
          actorId,
          action: 'bot_channel.remove',
          details: { channelId: id },
        });
      return removed;
    });
  }

  /** The live channel of a secret, if any. */
  authenticate(secret: string): Promise<BotChannel | undefined> {
    if (!secret.startsWith(SECRET_PREFIX)) return Promise.resolve(undefined);
    return this.#repository(this.options.uow.db).bySecretHash(hashSecret(secret));
  }

  /**
   * A plugin's call applied like an update of Topicdesk's own private chat (deduplicated by the
   * channel and the update id): the outcome, the answers for the plugin to show, and whether
   * the user is in support afterwards.
   */
  async apply(turn: ChannelTurn): Promise<ChannelTurnResult> {
    const visitor = this.#visitor(turn);
    const result = await this.#intake.apply(
      { botId: `channel:${turn.channel.id}`, updateId: turn.updateId },
      visitor,
      turn.request,
    );
    return { ...result, inSupport: await this.#inSupport(visitor) };
  }

  /** The Telegram ids of the channel's users with an open conversation (for the plugin's start). */
  async usersInSupport(channel: BotChannel): Promise<number[]> {
    const rows = await this.#repository(this.options.uow.db).usersInSupport(
      channel.tenant_id,
      channel.id,
    );
    const ids: number[] = [];
    const cipher = keyringCipher(this.options.keyring);
    for (const row of rows) {
      const id = cipher.open(row);
      if (id === undefined) this.options.logger.warn({ keyId: row.key_id }, 'unreadable user');
      else ids.push(id);
    }
    return ids;
  }

  async #inSupport(visitor: PrivateChatVisitor): Promise<boolean> {
    const user = await this.#users.find(visitor);
    if (!user) return false;
    const open = await new TelegramConversationRepository(this.options.uow.db).openOf(
      visitor.tenantId,
      user.id,
    );
    return open !== undefined;
  }

  #visitor(turn: ChannelTurn): PrivateChatVisitor {
    const { channel } = turn;
    const scope = channelScope(channel.tenant_id, channel.id);
    return {
      tenantId: channel.tenant_id,
      telegramUserId: turn.telegramUserId,
      // Per channel: the user's budgets and limits in this bot, a key naming no one.
      pseudonym: this.options.keyring.pseudonym(scope, turn.telegramUserId),
      language: turn.language,
      channelId: channel.id,
      segment: turn.segment,
    };
  }
}

/**
 * The bridge's view of bot channels: a channel's bot and token, opened with the user key, to
 * send agents' side of its conversations with that bot. A deleted channel still opens: what
 * agents said before the deletion is delivered.
 */
export class BotChannelTokens {
  constructor(
    private readonly db: UnitOfWork['db'],
    private readonly keyring: UserKeyring,
  ) {}

  async find(
    tenantId: string,
    channelId: string,
  ): Promise<{ botId: string; token: string } | undefined> {
    const channel = await new BotChannelRepository(this.db).find(tenantId, channelId);
    if (!channel) return undefined;
    return { botId: channel.bot_id, token: this.keyring.openToken(channel) };
  }
}
