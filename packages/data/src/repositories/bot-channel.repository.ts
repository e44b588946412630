import type { Kysely } from 'kysely';
import { ConversationStatus, type BotChannel, type DB, type TelegramUser } from '../schema';

export interface NewBotChannelInput {
  /** Chosen by the caller: it is the associated data of the token's ciphertext. */
  id: string;
  tenantId: string;
  name: string | null;
  botId: string;
  token: { keyId: string; nonce: string; ciphertext: string };
  secretHash: string;
  at: Date;
}

/**
 * Bot channels (issue 19): owners' bots whose users reach the agents through the
 * `@topicdesk/grammy` plugin. Tokens are stored encrypted, secrets as their hash.
 */
export class BotChannelRepository {
  constructor(private readonly db: Kysely<DB>) {}

  /** Inserts the channel; undefined when the tenant has a live channel of that bot already. */
  async insert(input: NewBotChannelInput): Promise<BotChannel | undefined> {
    const live = await this.db
      .selectFrom('bot_channels')
      .select('id')
      .where('tenant_id', '=', input.tenantId)
      .where('bot_id', '=', input.botId)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    if (live) return undefined;
    return this.db
      .insertInto('bot_channels')
      .values({
        id: input.id,
        tenant_id: input.tenantId,
        name: input.name,
        bot_id: input.botId,
        token_key_id: input.token.keyId,
        token_nonce: input.token.nonce,
        token_ciphertext: input.token.ciphertext,
        secret_hash: input.secretHash,
        created_at: input.at,
      })
      .returningAll()
      .executeTakeFirst();
  }

  list(tenantId: string): Promise<BotChannel[]> {
    return this.db
      .selectFrom('bot_channels')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('deleted_at', 'is', null)
      .orderBy('created_at')
      .execute();
  }

  /** A channel by id, deleted or not (the bridge still delivers what agents said before). */
  find(tenantId: string, id: string): Promise<BotChannel | undefined> {
    return this.db
      .selectFrom('bot_channels')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .executeTakeFirst();
  }

  /**
   * The live channel whose secret hashes to `secretHash`, of whichever tenant: the secret (256
   * random bits) is what names the channel and so its tenant, like a bearer token.
   */
  bySecretHash(secretHash: string): Promise<BotChannel | undefined> {
    return this.db
      .selectFrom('bot_channels')
      .selectAll()
      .where('secret_hash', '=', secretHash)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
  }

  /** Marks the channel deleted; false when there was no live channel of that id. */
  async remove(tenantId: string, id: string, at: Date): Promise<boolean> {
    const result = await this.db
      .updateTable('bot_channels')
      .set({ deleted_at: at })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** The channel's users with an open conversation (their ids stay sealed here). */
  usersInSupport(tenantId: string, channelId: string): Promise<TelegramUser[]> {
    return this.db
      .selectFrom('telegram_users as u')
      .selectAll('u')
      .where('u.tenant_id', '=', tenantId)
      .where('u.bot_channel_id', '=', channelId)
      .where((eb) =>
        eb.exists(
          eb
            .selectFrom('telegram_conversations as t')
            .innerJoin('conversations as c', (join) =>
              join.onRef('c.id', '=', 't.conversation_id').onRef('c.tenant_id', '=', 't.tenant_id'),
            )
            .select('t.conversation_id')
            .whereRef('t.telegram_user_id', '=', 'u.id')
            .where('c.status', '=', ConversationStatus.open),
        ),
      )
      .execute();
  }
}
