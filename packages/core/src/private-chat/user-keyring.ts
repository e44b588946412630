import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import type { TelegramUserSecret } from '@topicdesk/data';

// Private-chat users are anonymous to agents, and their Telegram id must never sit in clear in
// Postgres, on the bus, in Redis keys or in logs. One 32-byte key (TELEGRAM_USER_KEY) is
// expanded with HKDF into three independent keys:
//   - `encrypt`: AES-256-GCM of the Telegram user id in `telegram_users` (row id as AAD);
//   - `lookup`:  HMAC-SHA256 of the id, to find the row again (and to key Redis quotas);
//   - `bus`:     AES-256-GCM of each raw Update published on `<ns>.telegram.update`;
//   - `token`:   AES-256-GCM of bot channels' tokens in `bot_channels` (issue 19).
// A key is named by a fingerprint (`id`), stored with every row and envelope, so a previous key
// (TELEGRAM_USER_KEY_PREVIOUS) can still open what it sealed while rows are re-encrypted.

const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID_BYTES = 8;
/** Envelope of an encrypted Update: magic, key id, nonce, ciphertext, tag. */
const ENVELOPE_MAGIC = Buffer.from('TDU1', 'ascii');

/** A bot channel's token as stored: which key, nonce, ciphertext with its tag (base64). */
export interface SealedToken {
  keyId: string;
  nonce: string;
  ciphertext: string;
}

/**
 * The scope of a bot channel's users in lookup hashes and pseudonyms: the same Telegram user in
 * Topicdesk's own bot and in an owner's bot are two users (two chats, two bots).
 */
export function channelScope(tenantId: string, channelId: string): string {
  return `${tenantId}:bot:${channelId}`;
}

export class UserKeyError extends Error {
  override readonly name = 'UserKeyError';
}

/** Decodes TELEGRAM_USER_KEY (base64 or base64url of 32 bytes); throws a UserKeyError. */
export function decodeUserKey(encoded: string): Buffer {
  const trimmed = encoded.trim();
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed))
    throw new UserKeyError('the key is not base64 (generate one with: openssl rand -base64 32)');
  const key = Buffer.from(trimmed, 'base64');
  if (key.length !== KEY_BYTES)
    throw new UserKeyError(
      `the key decodes to ${key.length} bytes; 32 are needed (openssl rand -base64 32)`,
    );
  return key;
}

/** One generation of the key, expanded. */
export interface UserKey {
  /** Fingerprint, safe to store and log (it reveals nothing of the key). */
  readonly id: string;
  readonly encrypt: Buffer;
  readonly lookup: Buffer;
  readonly bus: Buffer;
  readonly token: Buffer;
}

function derive(master: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), `topicdesk/${purpose}`, 32));
}

export function expandUserKey(master: Buffer): UserKey {
  return {
    id: derive(master, 'key-id/v1').subarray(0, KEY_ID_BYTES).toString('hex'),
    encrypt: derive(master, 'telegram-user/encrypt/v1'),
    lookup: derive(master, 'telegram-user/lookup/v1'),
    bus: derive(master, 'telegram-update/bus/v1'),
    token: derive(master, 'bot-channel/token/v1'),
  };
}

function seal(key: Buffer, plaintext: Buffer, aad: string): { nonce: Buffer; sealed: Buffer } {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const sealed = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return { nonce, sealed };
}

function open(key: Buffer, nonce: Buffer, sealed: Buffer, aad: string): Buffer {
  if (sealed.length < TAG_BYTES) throw new UserKeyError('ciphertext too short');
  const decipher = createDecipheriv('aes-256-gcm', key, nonce);
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  try {
    return Buffer.concat([
      decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES)),
      decipher.final(),
    ]);
  } catch (error) {
    throw new UserKeyError('could not decrypt: wrong key or tampered data', { cause: error });
  }
}

/**
 * The current key and, during a rotation, the previous one. Seals with the current key; opens
 * with whichever key the data names.
 */
export class UserKeyring {
  readonly current: UserKey;
  readonly previous: UserKey | undefined;

  constructor(current: Buffer, previous?: Buffer) {
    this.current = expandUserKey(current);
    this.previous = previous ? expandUserKey(previous) : undefined;
    if (this.previous?.id === this.current.id) this.previous = undefined;
  }

  static fromEnv(current: string, previous?: string): UserKeyring {
    return new UserKeyring(decodeUserKey(current), previous ? decodeUserKey(previous) : undefined);
  }

  #key(id: string): UserKey {
    if (id === this.current.id) return this.current;
    if (this.previous && id === this.previous.id) return this.previous;
    throw new UserKeyError(
      `no key with id ${id}: set the key that sealed it as TELEGRAM_USER_KEY_PREVIOUS`,
    );
  }

  /** HMAC of a Telegram user id under one key, hex. */
  static lookupHash(key: UserKey, tenantId: string, telegramUserId: number): string {
    return createHmac('sha256', key.lookup).update(`${tenantId}:${telegramUserId}`).digest('hex');
  }

  /** The user's lookup hashes, current key first. */
  lookupHashes(tenantId: string, telegramUserId: number): string[] {
    const keys = this.previous ? [this.current, this.previous] : [this.current];
    return keys.map((key) => UserKeyring.lookupHash(key, tenantId, telegramUserId));
  }

  /** A pseudonym for Redis keys and budgets: stable per user and key, useless without the key. */
  pseudonym(tenantId: string, telegramUserId: number): string {
    return UserKeyring.lookupHash(this.current, tenantId, telegramUserId).slice(0, 32);
  }

  /** Encrypts a Telegram user id for the `telegram_users` row `rowId`. */
  sealUserId(tenantId: string, rowId: string, telegramUserId: number): TelegramUserSecret {
    const { nonce, sealed } = seal(
      this.current.encrypt,
      Buffer.from(String(telegramUserId), 'utf8'),
      `telegram-user:${tenantId}:${rowId}`,
    );
    return {
      lookupHash: UserKeyring.lookupHash(this.current, tenantId, telegramUserId),
      keyId: this.current.id,
      nonce: nonce.toString('base64'),
      ciphertext: sealed.toString('base64'),
    };
  }

  /** The Telegram user id (their private chat id) of a `telegram_users` row. */
  openUserId(row: {
    tenant_id: string;
    id: string;
    key_id: string;
    nonce: string;
    ciphertext: string;
  }): number {
    const plain = open(
      this.#key(row.key_id).encrypt,
      Buffer.from(row.nonce, 'base64'),
      Buffer.from(row.ciphertext, 'base64'),
      `telegram-user:${row.tenant_id}:${row.id}`,
    ).toString('utf8');
    const id = Number(plain);
    if (!Number.isSafeInteger(id)) throw new UserKeyError('decrypted value is not a user id');
    return id;
  }

  /** Encrypts a bot channel's token; the channel's row id is the associated data. */
  sealToken(tenantId: string, channelId: string, token: string): SealedToken {
    const { nonce, sealed } = seal(
      this.current.token,
      Buffer.from(token, 'utf8'),
      `bot-channel:${tenantId}:${channelId}`,
    );
    return {
      keyId: this.current.id,
      nonce: nonce.toString('base64'),
      ciphertext: sealed.toString('base64'),
    };
  }

  /** The token of a `bot_channels` row. */
  openToken(row: {
    tenant_id: string;
    id: string;
    token_key_id: string;
    token_nonce: string;
    token_ciphertext: string;
  }): string {
    return open(
      this.#key(row.token_key_id).token,
      Buffer.from(row.token_nonce, 'base64'),
      Buffer.from(row.token_ciphertext, 'base64'),
      `bot-channel:${row.tenant_id}:${row.id}`,
    ).toString('utf8');
  }

  /** Encrypts a raw Update for the bus; `aad` binds it to its bot and update_id. */
  sealUpdate(json: Uint8Array, aad: string): Uint8Array {
    const { nonce, sealed } = seal(this.current.bus, Buffer.from(json), aad);
    return Buffer.concat([ENVELOPE_MAGIC, Buffer.from(this.current.id, 'hex'), nonce, sealed]);
  }

  /** Opens what `sealUpdate` made. */
  openUpdate(payload: Uint8Array, aad: string): Uint8Array {
    const bytes = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    const header = ENVELOPE_MAGIC.length + KEY_ID_BYTES + NONCE_BYTES;
    if (!isSealedUpdate(bytes) || bytes.length < header + TAG_BYTES)
      throw new UserKeyError('not a sealed update');
    const keyId = bytes.subarray(ENVELOPE_MAGIC.length, ENVELOPE_MAGIC.length + KEY_ID_BYTES);
    const nonce = bytes.subarray(ENVELOPE_MAGIC.length + KEY_ID_BYTES, header);
    return open(this.#key(keyId.toString('hex')).bus, nonce, bytes.subarray(header), aad);
  }
}

/** Whether a bus payload is a sealed Update (otherwise it is the Update's plain JSON). */
export function isSealedUpdate(payload: Uint8Array): boolean {
  if (payload.length < ENVELOPE_MAGIC.length) return false;
  for (let i = 0; i < ENVELOPE_MAGIC.length; i++)
    if (payload[i] !== ENVELOPE_MAGIC[i]) return false;
  return true;
}

/** Associated data of a sealed Update: an envelope cannot be replayed as another update. */
export function updateAad(botId: string, updateId: bigint | number): string {
  return `telegram-update:${botId}:${updateId}`;
}

/** A fresh key, base64 (what `openssl rand -base64 32` prints). */
export function generateUserKey(): string {
  return randomBytes(KEY_BYTES).toString('base64');
}
