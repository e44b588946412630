import type { Kysely } from 'kysely';
import type { DB, TelegramUser } from '../schema';

/** The encrypted form of a Telegram user id, as the bridge computes it (the key stays there). */
export interface TelegramUserSecret {
  /** HMAC-SHA256 (hex) of the id under the lookup key of `keyId`. */
  lookupHash: string;
  keyId: string;
  /** AES-256-GCM nonce and ciphertext+tag, base64. */
  nonce: string;
  ciphertext: string;
}

export interface NewTelegramUserInput extends TelegramUserSecret {
  /** Chosen by the caller: it is the associated data of the ciphertext. */
  id: string;
  tenantId: string;
  languageCode: string | null;
  at: Date;
  /** The bot channel of the user (issue 19); absent: Topicdesk's own bot. */
  botChannelId?: string | null | undefined;
}

/**
 * Telegram users of the bot's private chat. Nothing here is a Telegram id in clear: rows are
 * found by a keyed hash and hold the id encrypted; only the bridge has the key.
 */
export class TelegramUserRepository {
  constructor(private readonly db: Kysely<DB>) {}

  /** The user whose lookup hash is one of `hashes` (current key first, then previous ones). */
  async findByLookup(
    tenantId: string,
    hashes: readonly string[],
  ): Promise<TelegramUser | undefined> {
    if (hashes.length === 0) return undefined;
    const rows = await this.db
      .selectFrom('telegram_users')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('lookup_hash', 'in', hashes)
      .execute();
    for (const hash of hashes) {
      const row = rows.find((r) => r.lookup_hash === hash);
      if (row) return row;
    }
    return undefined;
  }

  find(tenantId: string, id: string): Promise<TelegramUser | undefined> {
    return this.db
      .selectFrom('telegram_users')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .executeTakeFirst();
  }

  /** Inserts the user, or returns the row that holds the same lookup hash already. */
  async insert(input: NewTelegramUserInput): Promise<TelegramUser> {
    const inserted = await this.db
      .insertInto('telegram_users')
      .values({
        id: input.id,
        tenant_id: input.tenantId,
        lookup_hash: input.lookupHash,
        key_id: input.keyId,
        nonce: input.nonce,
        ciphertext: input.ciphertext,
        language_code: input.languageCode,
        created_at: input.at,
        last_seen_at: input.at,
        bot_channel_id: input.botChannelId ?? null,
      })
      .onConflict((oc) => oc.constraint('telegram_users_lookup_unique').doNothing())
      .returningAll()
      .executeTakeFirst();
    if (inserted) return inserted;
    const existing = await this.findByLookup(input.tenantId, [input.lookupHash]);
    if (!existing) throw new Error('telegram user vanished between insert and select');
    return existing;
  }

  /** Re-encrypts a row under another key; false when someone changed its key meanwhile. */
  async rekey(
    tenantId: string,
    id: string,
    fromKeyId: string,
    secret: TelegramUserSecret,
  ): Promise<boolean> {
    const result = await this.db
      .updateTable('telegram_users')
      .set({
        lookup_hash: secret.lookupHash,
        key_id: secret.keyId,
        nonce: secret.nonce,
        ciphertext: secret.ciphertext,
      })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .where('key_id', '=', fromKeyId)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** Records that the user wrote (and the language their Telegram app uses now). */
  async touch(tenantId: string, id: string, languageCode: string | null, at: Date): Promise<void> {
    await this.db
      .updateTable('telegram_users')
      .set({ language_code: languageCode, last_seen_at: at })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .execute();
  }

  /** Rows encrypted under another key than `keyId`, by id after `afterId`, for re-encryption. */
  encryptedWithOtherKey(
    keyId: string,
    afterId: string | null,
    limit: number,
  ): Promise<TelegramUser[]> {
    let query = this.db.selectFrom('telegram_users').selectAll().where('key_id', '!=', keyId);
    if (afterId !== null) query = query.where('id', '>', afterId);
    return query.orderBy('id').limit(limit).execute();
  }

  /** How many rows are encrypted under another key than `keyId` (rotation is done at 0). */
  async countWithOtherKey(keyId: string): Promise<number> {
    const row = await this.db
      .selectFrom('telegram_users')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('key_id', '!=', keyId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /**
   * Deletes users who have no conversation left and were last seen before `lastSeenBefore`
   * (retention: once their conversations are purged, nothing needs their encrypted id).
   */
  async purgeOrphans(lastSeenBefore: Date): Promise<number> {
    const result = await this.#orphans()
      .where('last_seen_at', '<', lastSeenBefore)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** Deletes the user once they have no conversation left (one was just erased). */
  async deleteIfOrphan(tenantId: string, id: string): Promise<void> {
    await this.#orphans().where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  }

  /** A delete of users without any conversation. */
  #orphans() {
    return this.db
      .deleteFrom('telegram_users')
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('telegram_conversations as tc')
              .select('tc.conversation_id')
              .whereRef('tc.telegram_user_id', '=', 'telegram_users.id'),
          ),
        ),
      );
  }
}
