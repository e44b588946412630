import { randomUUID } from 'node:crypto';
import {
  TelegramUserRepository,
  type TelegramUser,
  type TelegramUserSecret,
} from '@topicdesk/data';
import type { UnitOfWork, Work } from '../unit-of-work';
import { channelScope } from './user-keyring';

/**
 * What core needs of the bridge's user key (user-crypto.ts) to find and store a private-chat
 * user: the key never leaves the bridge, and no Telegram id reaches Postgres in clear.
 */
export interface UserCipher {
  /** The key new secrets are sealed with. */
  readonly currentKeyId: string;
  /**
   * The user's lookup hashes, current key first; `scope` is the tenant, or a bot channel of it
   * (`channelScope`).
   */
  lookupHashes(scope: string, telegramUserId: number): string[];
  /** The encrypted id for the row `rowId`, under the current key. */
  seal(tenantId: string, rowId: string, telegramUserId: number): TelegramUserSecret;
  /** The Telegram id of a row; undefined when no key at hand opens it. */
  open(row: TelegramUser): number | undefined;
}

/** Who wrote, as the bridge knows them while it handles one update. */
export interface PrivateChatVisitor {
  tenantId: string;
  /** In clear only in the bridge's memory: it seals it and finds the row by its hash. */
  telegramUserId: number;
  /** Keyed hash, safe for Redis keys (quotas). */
  pseudonym: string;
  /** Telegram's language_code, normalized: it picks the bot's texts. */
  language: string | null;
  /** The bot channel the user writes to (issue 19); absent: Topicdesk's own bot. */
  channelId?: string | undefined;
  /** The role or segment the channel's plugin passed (shown in the header, read by priority rules). */
  segment?: string | undefined;
}

/** Where a visitor's lookup hashes live: the tenant, or one bot channel of it. */
function scopeOf(visitor: PrivateChatVisitor): string {
  return visitor.channelId === undefined
    ? visitor.tenantId
    : channelScope(visitor.tenantId, visitor.channelId);
}

/** The users of the bot's private chat: stored sealed, found by keyed hash. */
export class PrivateChatUsers {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly cipher: UserCipher,
  ) {}

  /** The visitor's row (re-encrypted if sealed under the previous key), or a new one. */
  async identify(work: Work, visitor: PrivateChatVisitor): Promise<TelegramUser> {
    const { cipher } = this;
    const users = new TelegramUserRepository(work.trx);
    const at = new Date();
    const found = await users.findByLookup(
      visitor.tenantId,
      cipher.lookupHashes(scopeOf(visitor), visitor.telegramUserId),
    );
    if (!found) {
      const id = randomUUID();
      return users.insert({
        id,
        tenantId: visitor.tenantId,
        languageCode: visitor.language,
        at,
        botChannelId: visitor.channelId ?? null,
        ...this.#seal(visitor, id),
      });
    }
    if (found.key_id !== cipher.currentKeyId) {
      // Lazy re-encryption: a user who writes after a rotation moves to the current key.
      await users.rekey(visitor.tenantId, found.id, found.key_id, this.#seal(visitor, found.id));
    }
    await users.touch(visitor.tenantId, found.id, visitor.language, at);
    return found;
  }

  /** The sealed id of the visitor's row `rowId`, found again by the hash of their scope. */
  #seal(visitor: PrivateChatVisitor, rowId: string): TelegramUserSecret {
    const secret = this.cipher.seal(visitor.tenantId, rowId, visitor.telegramUserId);
    if (visitor.channelId === undefined) return secret;
    const [lookupHash] = this.cipher.lookupHashes(scopeOf(visitor), visitor.telegramUserId);
    return { ...secret, lookupHash: lookupHash ?? secret.lookupHash };
  }

  /** The visitor's row if they have one (nothing is created: a data request only reads). */
  find(visitor: PrivateChatVisitor): Promise<TelegramUser | undefined> {
    return new TelegramUserRepository(this.uow.db).findByLookup(
      visitor.tenantId,
      this.cipher.lookupHashes(scopeOf(visitor), visitor.telegramUserId),
    );
  }

  /**
   * Re-encrypts every user sealed under another key than the current one (after a rotation,
   * with the old key still at hand). Rows no key opens are counted and left as they are.
   */
  async reencryptAll(batch = 200): Promise<{ rekeyed: number; unreadable: number }> {
    const { cipher } = this;
    const users = new TelegramUserRepository(this.uow.db);
    let rekeyed = 0;
    let unreadable = 0;
    let after: string | null = null;
    for (;;) {
      const rows = await users.encryptedWithOtherKey(cipher.currentKeyId, after, batch);
      const last = rows.at(-1);
      if (!last) break;
      after = last.id;
      await this.uow.run(async (work) => {
        const writable = new TelegramUserRepository(work.trx);
        for (const row of rows) {
          const telegramUserId = cipher.open(row);
          if (telegramUserId === undefined) {
            unreadable += 1;
            continue;
          }
          const secret = this.#seal(
            {
              tenantId: row.tenant_id,
              telegramUserId,
              pseudonym: '',
              language: null,
              channelId: row.bot_channel_id ?? undefined,
            },
            row.id,
          );
          if (await writable.rekey(row.tenant_id, row.id, row.key_id, secret)) rekeyed += 1;
        }
      });
    }
    return { rekeyed, unreadable };
  }
}
