import { ConfigError } from '@topicdesk/config';
import { describe, expect, it } from 'vitest';
import { loadBridgeConfig, updatesMode, type BridgeConfig } from './config';

const minimal = { BOT_TOKEN: '123456:ABC-def_ghi', SUPPORT_GROUP_ID: '-1001234567890' };

function configError(source: Record<string, string | undefined>): ConfigError {
  try {
    loadBridgeConfig(source);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('updatesMode', () => {
  const config = (fields: Partial<BridgeConfig>) => ({ ...loadBridgeConfig(minimal), ...fields });

  it('polls under auto when no webhook URL is set', () => {
    expect(updatesMode(config({ TELEGRAM_UPDATES: 'auto' }))).toBe('polling');
  });

  it('takes the webhook under auto when a webhook URL is set', () => {
    expect(
      updatesMode(
        config({ TELEGRAM_UPDATES: 'auto', TELEGRAM_WEBHOOK_URL: 'https://x.example/v1/t' }),
      ),
    ).toBe('webhook');
  });

  it('polls when told to, even with a webhook URL', () => {
    expect(
      updatesMode(
        config({ TELEGRAM_UPDATES: 'polling', TELEGRAM_WEBHOOK_URL: 'https://x.example/v1/t' }),
      ),
    ).toBe('polling');
  });

  it('takes the webhook when told to, even without a URL (registered by someone else)', () => {
    expect(updatesMode(config({ TELEGRAM_UPDATES: 'webhook' }))).toBe('webhook');
  });
});

describe('loadBridgeConfig', () => {
  it('fills in the defaults around a token and a group', () => {
    const config = loadBridgeConfig(minimal);
    expect(config).toMatchObject({
      PORT: 3001,
      HOST: '0.0.0.0',
      DATA_DIR: './data',
      NAMESPACE: 'topicdesk',
      BOT_TOKEN: minimal.BOT_TOKEN,
      SUPPORT_GROUP_ID: -1001234567890,
      TELEGRAM_API_ROOT: 'https://api.telegram.org',
      TELEGRAM_UPDATES: 'auto',
      TELEGRAM_LIMIT_GROUP_PER_MINUTE: 20,
      TELEGRAM_LIMIT_CHAT_PER_SECOND: 1,
      TELEGRAM_LIMIT_GLOBAL_PER_SECOND: 30,
      TELEGRAM_LIMIT_SAFETY: 250,
      ALLOW_UNKNOWN_AGENTS: true,
      AGENT_NAME_FALLBACK: 'generic',
      REQUIRE_CLAIM: false,
      LOG_LEVEL: 'info',
    });
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.TELEGRAM_WEBHOOK_URL).toBeUndefined();
    expect(config.TELEGRAM_HEADER_SECRET).toBeUndefined();
  });

  it('shows unregistered agents by first name only when asked, and refuses other values', () => {
    expect(loadBridgeConfig({ ...minimal, AGENT_NAME_FALLBACK: '' }).AGENT_NAME_FALLBACK).toBe(
      'generic',
    );
    expect(
      loadBridgeConfig({ ...minimal, AGENT_NAME_FALLBACK: 'first_name' }).AGENT_NAME_FALLBACK,
    ).toBe('first_name');
    expect(configError({ ...minimal, AGENT_NAME_FALLBACK: 'username' }).message).toContain(
      'AGENT_NAME_FALLBACK',
    );
  });

  it('treats an empty header secret as unset', () => {
    expect(
      loadBridgeConfig({ ...minimal, TELEGRAM_HEADER_SECRET: '' }).TELEGRAM_HEADER_SECRET,
    ).toBe(undefined);
  });

  it.each(['nope', '123456', ':ABC', 'abc:def', '123456:has space'])(
    'refuses the malformed BOT_TOKEN %j with a ConfigError naming it',
    (token) => {
      const error = configError({ ...minimal, BOT_TOKEN: token });
      expect(error.code).toBe('CONFIG_INVALID');
      expect(error.issues.some((issue) => issue.startsWith('BOT_TOKEN:'))).toBe(true);
      expect(error.message).toContain('BOT_TOKEN');
    },
  );

  it('refuses a missing BOT_TOKEN', () => {
    const error = configError({ SUPPORT_GROUP_ID: minimal.SUPPORT_GROUP_ID });
    expect(error.issues.some((issue) => issue.startsWith('BOT_TOKEN:'))).toBe(true);
  });

  it.each(['has space', 'semi;colon', 'ü', 'x'.repeat(257)])(
    'refuses the header secret %j with a ConfigError naming TELEGRAM_HEADER_SECRET',
    (secret) => {
      const error = configError({ ...minimal, TELEGRAM_HEADER_SECRET: secret });
      expect(error.issues.some((issue) => issue.startsWith('TELEGRAM_HEADER_SECRET:'))).toBe(true);
    },
  );

  it('accepts a header secret of 256 allowed characters', () => {
    const secret = 'aZ09_-'.repeat(42) + 'abcd';
    expect(secret).toHaveLength(256);
    expect(
      loadBridgeConfig({ ...minimal, TELEGRAM_HEADER_SECRET: secret }).TELEGRAM_HEADER_SECRET,
    ).toBe(secret);
  });

  it('refuses a group id that is not an integer', () => {
    const error = configError({ ...minimal, SUPPORT_GROUP_ID: 'support' });
    expect(error.issues.some((issue) => issue.startsWith('SUPPORT_GROUP_ID:'))).toBe(true);
  });

  it('reports every problem at once', () => {
    const error = configError({
      BOT_TOKEN: 'nope',
      SUPPORT_GROUP_ID: minimal.SUPPORT_GROUP_ID,
      TELEGRAM_HEADER_SECRET: 'bad secret',
      TELEGRAM_UPDATES: 'sometimes',
    });
    const names = error.issues.map((issue) => issue.split(':')[0]);
    expect(names).toEqual(
      expect.arrayContaining(['BOT_TOKEN', 'TELEGRAM_HEADER_SECRET', 'TELEGRAM_UPDATES']),
    );
  });
});
