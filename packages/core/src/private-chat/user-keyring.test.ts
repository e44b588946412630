import { describe, expect, it } from 'vitest';
import {
  decodeUserKey,
  generateUserKey,
  isSealedUpdate,
  updateAad,
  UserKeyError,
  UserKeyring,
} from './user-keyring';

const KEY = generateUserKey();
const OTHER = generateUserKey();
const USER_ID = 5_813_920_476; // above 2^32, like real Telegram ids

function row(keyring: UserKeyring, id = '00000000-0000-4000-8000-0000000000aa') {
  const secret = keyring.sealUserId('default', id, USER_ID);
  return {
    id,
    tenant_id: 'default',
    key_id: secret.keyId,
    nonce: secret.nonce,
    ciphertext: secret.ciphertext,
    lookup_hash: secret.lookupHash,
  };
}

describe('decodeUserKey', () => {
  it('takes 32 bytes in base64 or base64url', () => {
    const bytes = Buffer.alloc(32, 0xfb);
    expect(decodeUserKey(bytes.toString('base64'))).toEqual(bytes);
    expect(decodeUserKey(bytes.toString('base64url'))).toEqual(bytes);
  });

  it('refuses other lengths and non-base64 without echoing the value', () => {
    expect(() => decodeUserKey(Buffer.alloc(16).toString('base64'))).toThrow(/16 bytes; 32/);
    expect(() => decodeUserKey('not a key!')).toThrow(UserKeyError);
    try {
      decodeUserKey('s3cr3t-but-wrong');
    } catch (error) {
      expect(String(error)).not.toContain('s3cr3t');
    }
  });
});

describe('UserKeyring', () => {
  it('encrypts the user id so that neither the id nor its digits appear, and decrypts it', () => {
    const keyring = UserKeyring.fromEnv(KEY);
    const sealed = row(keyring);
    expect(JSON.stringify(sealed)).not.toContain(String(USER_ID));
    expect(keyring.openUserId(sealed)).toBe(USER_ID);
    // A fresh nonce every time: the same id never gives the same ciphertext.
    expect(row(keyring).ciphertext).not.toBe(sealed.ciphertext);
  });

  it('binds the ciphertext to its row: moved to another row it does not decrypt', () => {
    const keyring = UserKeyring.fromEnv(KEY);
    const sealed = row(keyring);
    expect(() =>
      keyring.openUserId({ ...sealed, id: '00000000-0000-4000-8000-0000000000bb' }),
    ).toThrow(UserKeyError);
  });

  it('gives a stable lookup hash per user and key, different under another key', () => {
    const one = UserKeyring.fromEnv(KEY);
    const again = UserKeyring.fromEnv(KEY);
    const other = UserKeyring.fromEnv(OTHER);
    expect(one.lookupHashes('default', USER_ID)).toEqual(again.lookupHashes('default', USER_ID));
    expect(one.lookupHashes('default', USER_ID)[0]).not.toBe(
      other.lookupHashes('default', USER_ID)[0],
    );
    expect(one.lookupHashes('default', USER_ID + 1)[0]).not.toBe(
      one.lookupHashes('default', USER_ID)[0],
    );
    expect(one.pseudonym('default', USER_ID)).toMatch(/^[0-9a-f]{32}$/);
  });

  it('during a rotation finds users by either hash and opens rows of the previous key', () => {
    const before = UserKeyring.fromEnv(OTHER);
    const sealed = row(before);
    const rotating = UserKeyring.fromEnv(KEY, OTHER);
    expect(rotating.lookupHashes('default', USER_ID)).toEqual([
      UserKeyring.fromEnv(KEY).lookupHashes('default', USER_ID)[0],
      sealed.lookup_hash,
    ]);
    expect(rotating.openUserId(sealed)).toBe(USER_ID);
    // Without the previous key the row names a key nobody has.
    expect(() => UserKeyring.fromEnv(KEY).openUserId(sealed)).toThrow(/TELEGRAM_USER_KEY_PREVIOUS/);
  });

  it('seals updates for the bus: no trace of the JSON, bound to the update id', () => {
    const keyring = UserKeyring.fromEnv(KEY);
    const update = JSON.stringify({
      update_id: 42,
      message: { from: { id: USER_ID, first_name: 'Zebulon', username: 'zq_user' } },
    });
    const sealed = keyring.sealUpdate(new TextEncoder().encode(update), updateAad('1', 42));
    expect(isSealedUpdate(sealed)).toBe(true);
    const raw = Buffer.from(sealed).toString('latin1');
    for (const secret of [String(USER_ID), 'Zebulon', 'zq_user']) expect(raw).not.toContain(secret);
    expect(new TextDecoder().decode(keyring.openUpdate(sealed, updateAad('1', 42n)))).toBe(update);
    expect(() => keyring.openUpdate(sealed, updateAad('1', 43))).toThrow(UserKeyError);
    // The previous key still opens what it sealed while updates wait in the stream.
    expect(
      new TextDecoder().decode(
        UserKeyring.fromEnv(OTHER, KEY).openUpdate(sealed, updateAad('1', 42)),
      ),
    ).toBe(update);
  });

  it('tells plain JSON payloads from sealed ones', () => {
    expect(isSealedUpdate(new TextEncoder().encode('{"update_id":1}'))).toBe(false);
    expect(isSealedUpdate(new Uint8Array())).toBe(false);
  });

  it('refuses a tampered envelope', () => {
    const keyring = UserKeyring.fromEnv(KEY);
    const sealed = Buffer.from(
      keyring.sealUpdate(Buffer.from('{"update_id":7}'), updateAad('1', 7)),
    );
    const last = sealed.length - 1;
    sealed.writeUInt8(sealed.readUInt8(last) ^ 0x01, last);
    expect(() => keyring.openUpdate(sealed, updateAad('1', 7))).toThrow(UserKeyError);
  });
});
