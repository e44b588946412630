import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

/**
 * Envelope encryption of a tenant's secrets: the bundle is sealed (AES-256-GCM) under the
 * tenant's own data key, and that key is stored wrapped (AES-256-GCM again) by a key-encryption
 * key (KEK) that only the environment holds. Both seals are bound to the tenant id as
 * additional data, so a row copied onto another tenant does not open. Rotating the KEK rewraps
 * the data keys; the bundles themselves are never re-encrypted for it.
 */

const ALGORITHM = 'aes-256-gcm';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const VERSION = 'v1';

export const TenantSecretsErrorCode = {
  /** No TENANT_KEK is configured, and a tenant's secrets are to be read or written. */
  kekMissing: 'TENANT_KEK_MISSING',
  /** The row's data key is wrapped by a KEK id neither TENANT_KEK nor TENANT_KEKS_PREVIOUS has. */
  kekUnknown: 'TENANT_KEK_UNKNOWN',
  /** Authentication failed: the row was changed, belongs to another tenant, or the KEK is wrong. */
  corrupt: 'TENANT_SECRETS_CORRUPT',
} as const;
export type TenantSecretsErrorCode =
  (typeof TenantSecretsErrorCode)[keyof typeof TenantSecretsErrorCode];

export class TenantSecretsError extends Error {
  override readonly name = 'TenantSecretsError';
  constructor(
    readonly code: TenantSecretsErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  static is(error: unknown): error is TenantSecretsError {
    return error instanceof TenantSecretsError;
  }
}

/** A key-encryption key and the id rows name it by. */
export interface Kek {
  id: string;
  key: Buffer;
}

/**
 * `<id>:<base64 of 32 bytes>`, the form of TENANT_KEK and of each entry of TENANT_KEKS_PREVIOUS.
 * Throws a plain Error naming what is wrong (the config reports it at start).
 */
export function parseKek(value: string): Kek {
  const colon = value.indexOf(':');
  const id = colon > 0 ? value.slice(0, colon) : '';
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(id))
    throw new Error('a KEK is "<id>:<base64 of 32 random bytes>", the id of letters and digits');
  const key = Buffer.from(value.slice(colon + 1), 'base64');
  if (key.length !== KEY_BYTES)
    throw new Error(
      `the KEK "${id}" is ${key.length} bytes; it must be 32 (openssl rand -base64 32)`,
    );
  return { id, key };
}

function seal(key: Buffer, plain: Buffer, aad: string): Buffer {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, nonce).setAAD(Buffer.from(aad));
  const body = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([nonce, cipher.getAuthTag(), body]);
}

function open(key: Buffer, sealed: Buffer, aad: string, what: string): Buffer {
  if (sealed.length < NONCE_BYTES + TAG_BYTES)
    throw new TenantSecretsError(TenantSecretsErrorCode.corrupt, `${what} is truncated`);
  try {
    const decipher = createDecipheriv(ALGORITHM, key, sealed.subarray(0, NONCE_BYTES))
      .setAAD(Buffer.from(aad))
      .setAuthTag(sealed.subarray(NONCE_BYTES, NONCE_BYTES + TAG_BYTES));
    return Buffer.concat([
      decipher.update(sealed.subarray(NONCE_BYTES + TAG_BYTES)),
      decipher.final(),
    ]);
  } catch (error) {
    throw new TenantSecretsError(
      TenantSecretsErrorCode.corrupt,
      `${what} does not authenticate: changed, of another tenant, or under another key`,
      { cause: error },
    );
  }
}

const dekAad = (tenantId: string, kekId: string) =>
  `topicdesk:tenant-data-key:${VERSION}:${tenantId}:${kekId}`;
const bundleAad = (tenantId: string) => `topicdesk:tenant-secrets:${VERSION}:${tenantId}`;

/** A fresh random data key. */
export function newDataKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

/** A bundle as stored: the sealed bundle, the wrapped data key, and the KEK that wrapped it. */
export interface SealedBundle {
  secrets: string;
  dataKey: string;
  kekId: string;
}

/**
 * The KEKs of this process: the current one wraps every new data key; the previous ones only
 * unwrap (until `pnpm tenants:rotate-kek` or reads have rewrapped every row with the current).
 */
export class TenantKeyring {
  private readonly byId: Map<string, Buffer>;

  constructor(
    readonly current: Kek | undefined,
    previous: readonly Kek[] = [],
  ) {
    this.byId = new Map(previous.map((k) => [k.id, k.key]));
    if (current) this.byId.set(current.id, current.key);
  }

  /** From TENANT_KEK and TENANT_KEKS_PREVIOUS (comma-separated), as the config parsed them. */
  static fromEnv(current: string | undefined, previous: string | undefined): TenantKeyring {
    const older = (previous ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map(parseKek);
    return new TenantKeyring(current ? parseKek(current) : undefined, older);
  }

  private currentKek(): Kek {
    if (!this.current)
      throw new TenantSecretsError(
        TenantSecretsErrorCode.kekMissing,
        'TENANT_KEK is not set: tenant secrets cannot be encrypted',
      );
    return this.current;
  }

  private kek(id: string): Buffer {
    if (this.byId.size === 0)
      throw new TenantSecretsError(
        TenantSecretsErrorCode.kekMissing,
        'TENANT_KEK is not set: tenant secrets cannot be decrypted',
      );
    const key = this.byId.get(id);
    if (!key)
      throw new TenantSecretsError(
        TenantSecretsErrorCode.kekUnknown,
        `the tenant's data key is wrapped by KEK "${id}", which is neither TENANT_KEK nor in TENANT_KEKS_PREVIOUS`,
      );
    return key;
  }

  /**
   * Seals `plain` for `tenantId` under `dataKey` (the tenant's own, kept across changes so that
   * fingerprints of unchanged secrets stay the same; `newDataKey()` for a first bundle), wrapped
   * by the current KEK.
   */
  seal(tenantId: string, plain: Buffer, dataKey: Buffer): SealedBundle {
    const kek = this.currentKek();
    return {
      secrets: `${VERSION}.${seal(dataKey, plain, bundleAad(tenantId)).toString('base64url')}`,
      dataKey: seal(kek.key, dataKey, dekAad(tenantId, kek.id)).toString('base64url'),
      kekId: kek.id,
    };
  }

  /** The data key of a stored bundle (for fingerprints, or to open it). */
  unwrap(tenantId: string, sealed: Pick<SealedBundle, 'dataKey' | 'kekId'>): Buffer {
    const kek = this.kek(sealed.kekId);
    const key = open(
      kek,
      Buffer.from(sealed.dataKey, 'base64url'),
      dekAad(tenantId, sealed.kekId),
      "the tenant's data key",
    );
    if (key.length !== KEY_BYTES)
      throw new TenantSecretsError(TenantSecretsErrorCode.corrupt, 'the data key has a wrong size');
    return key;
  }

  /** The plain bundle of `tenantId`. */
  open(tenantId: string, sealed: SealedBundle): Buffer {
    const [version, body] = sealed.secrets.split('.', 2);
    if (version !== VERSION || body === undefined)
      throw new TenantSecretsError(
        TenantSecretsErrorCode.corrupt,
        `the secrets bundle is of an unknown format (${String(version)})`,
      );
    const dataKey = this.unwrap(tenantId, sealed);
    return open(dataKey, Buffer.from(body, 'base64url'), bundleAad(tenantId), 'the secrets bundle');
  }

  /** Whether the stored data key is wrapped by another KEK than the current one. */
  needsRewrap(kekId: string): boolean {
    return this.current !== undefined && kekId !== this.current.id;
  }

  /** The same data key wrapped by the current KEK (the bundle is unchanged). */
  rewrap(
    tenantId: string,
    sealed: Pick<SealedBundle, 'dataKey' | 'kekId'>,
  ): {
    dataKey: string;
    kekId: string;
  } {
    const kek = this.currentKek();
    const dataKey = this.unwrap(tenantId, sealed);
    return {
      dataKey: seal(kek.key, dataKey, dekAad(tenantId, kek.id)).toString('base64url'),
      kekId: kek.id,
    };
  }
}

/**
 * A short keyed fingerprint of a secret: tells an operator whether the value set is the one
 * they think, without being a hash anyone could test guesses against (the key is the tenant's
 * data key, which only a KEK holder can unwrap).
 */
export function fingerprint(dataKey: Buffer, name: string, value: string): string {
  return createHmac('sha256', dataKey)
    .update(`fingerprint:${name}:${value}`)
    .digest('base64url')
    .slice(0, 12);
}
