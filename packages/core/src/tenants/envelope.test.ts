import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  newDataKey,
  parseKek,
  TenantKeyring,
  TenantSecretsError,
  TenantSecretsErrorCode,
} from './envelope';

const kek = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;
const bundle = Buffer.from(
  JSON.stringify({ botToken: '123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }),
);

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (TenantSecretsError.is(error)) return error.code;
    throw error;
  }
  return undefined;
}

describe('tenant secrets envelope', () => {
  it('opens what it sealed, and the stored form holds neither the secret nor the data key', () => {
    const keyring = TenantKeyring.fromEnv(kek('k1'), undefined);
    const dataKey = newDataKey();
    const sealed = keyring.seal('acme', bundle, dataKey);
    expect(sealed.kekId).toBe('k1');
    expect(sealed.secrets).toMatch(/^v1\./);
    expect(sealed.secrets).not.toContain('AAAAAAAA');
    expect(sealed.dataKey).not.toBe(dataKey.toString('base64url'));
    expect(keyring.open('acme', sealed).equals(bundle)).toBe(true);
    expect(keyring.unwrap('acme', sealed).equals(dataKey)).toBe(true);
  });

  it('refuses a changed bundle or a changed data key with TENANT_SECRETS_CORRUPT', () => {
    const keyring = TenantKeyring.fromEnv(kek('k1'), undefined);
    const sealed = keyring.seal('acme', bundle, newDataKey());
    const body = Buffer.from(sealed.secrets.slice(3), 'base64url');
    body[body.length - 1] = (body.at(-1) ?? 0) ^ 1;
    const tampered = { ...sealed, secrets: `v1.${body.toString('base64url')}` };
    expect(codeOf(() => keyring.open('acme', tampered))).toBe(TenantSecretsErrorCode.corrupt);
    const key = Buffer.from(sealed.dataKey, 'base64url');
    key[20] = (key[20] ?? 0) ^ 1;
    const wrongKey = { ...sealed, dataKey: key.toString('base64url') };
    expect(codeOf(() => keyring.open('acme', wrongKey))).toBe(TenantSecretsErrorCode.corrupt);
    expect(codeOf(() => keyring.open('acme', { ...sealed, secrets: 'v9.xx' }))).toBe(
      TenantSecretsErrorCode.corrupt,
    );
  });

  it("does not open one tenant's row as another's (the tenant id is authenticated)", () => {
    const keyring = TenantKeyring.fromEnv(kek('k1'), undefined);
    const sealed = keyring.seal('acme', bundle, newDataKey());
    expect(codeOf(() => keyring.open('globex', sealed))).toBe(TenantSecretsErrorCode.corrupt);
    expect(codeOf(() => keyring.unwrap('globex', sealed))).toBe(TenantSecretsErrorCode.corrupt);
  });

  it('rotation: the previous KEK still opens, a rewrap moves the key to the current one and loses nothing', () => {
    const first = kek('k1');
    const old = TenantKeyring.fromEnv(first, undefined);
    const dataKey = newDataKey();
    const sealed = old.seal('acme', bundle, dataKey);

    const rotated = TenantKeyring.fromEnv(kek('k2'), first);
    expect(rotated.needsRewrap(sealed.kekId)).toBe(true);
    expect(rotated.open('acme', sealed).equals(bundle)).toBe(true);
    const next = { ...sealed, ...rotated.rewrap('acme', sealed) };
    expect(next.kekId).toBe('k2');
    expect(rotated.needsRewrap(next.kekId)).toBe(false);
    expect(rotated.unwrap('acme', next).equals(dataKey)).toBe(true);

    // Once k1 is gone from TENANT_KEKS_PREVIOUS the rewrapped row still opens; the old one does not.
    const only = new TenantKeyring(rotated.current, []);
    expect(only.open('acme', next).equals(bundle)).toBe(true);
    expect(codeOf(() => only.open('acme', sealed))).toBe(TenantSecretsErrorCode.kekUnknown);
  });

  it('says TENANT_KEK_MISSING without any KEK', () => {
    const sealed = TenantKeyring.fromEnv(kek('k1'), undefined).seal('acme', bundle, newDataKey());
    const none = TenantKeyring.fromEnv(undefined, undefined);
    expect(codeOf(() => none.open('acme', sealed))).toBe(TenantSecretsErrorCode.kekMissing);
    expect(codeOf(() => none.seal('acme', bundle, newDataKey()))).toBe(
      TenantSecretsErrorCode.kekMissing,
    );
  });

  it('parses KEKs as <id>:<base64 of 32 bytes> and names what is wrong', () => {
    expect(parseKek(`k-2026.1:${Buffer.alloc(32, 7).toString('base64')}`).id).toBe('k-2026.1');
    expect(() => parseKek(Buffer.alloc(32).toString('base64'))).toThrow(/<id>:/);
    expect(() => parseKek(`k1:${Buffer.alloc(16).toString('base64')}`)).toThrow(/16 bytes/);
  });
});
