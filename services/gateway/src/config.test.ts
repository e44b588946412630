import { ConfigError } from '@topicdesk/config';
import { describe, expect, it } from 'vitest';
import { loadGatewayConfig, trustProxySetting } from './config';

const SECRET = 'x'.repeat(32);

function configError(source: Record<string, string | undefined>): ConfigError {
  try {
    loadGatewayConfig(source);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

const named = (error: ConfigError, variable: string) =>
  error.issues.some((issue) => issue.startsWith(`${variable}:`));

describe('trustProxySetting', () => {
  it('trusts no proxy when unset or "false"', () => {
    expect(trustProxySetting(undefined)).toBe(false);
    expect(trustProxySetting('false')).toBe(false);
  });

  it('trusts every proxy on "true"', () => {
    expect(trustProxySetting('true')).toBe(true);
  });

  it('reads a number as a hop count', () => {
    expect(trustProxySetting('2')).toBe(2);
    expect(trustProxySetting('0')).toBe(0);
  });

  it('reads anything else as comma-separated addresses or ranges', () => {
    expect(trustProxySetting('10.0.0.1, 10.0.0.2,,')).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(trustProxySetting('10.0.0.0/8')).toEqual(['10.0.0.0/8']);
  });
});

describe('loadGatewayConfig', () => {
  it('refuses a CLAMAV_URL that is not tcp://host:port at start, naming it', () => {
    const error = configError({ CONVERSATION_JWT_SECRET: SECRET, CLAMAV_URL: 'http://clamd:3310' });
    expect(named(error, 'CLAMAV_URL')).toBe(true);
    expect(
      loadGatewayConfig({ CONVERSATION_JWT_SECRET: SECRET, CLAMAV_URL: 'tcp://clamd:3310' })
        .CLAMAV_URL,
    ).toBe('tcp://clamd:3310');
  });

  it('fills in the defaults around a secret', () => {
    const config = loadGatewayConfig({ CONVERSATION_JWT_SECRET: SECRET });
    expect(config).toMatchObject({
      PORT: 3000,
      HOST: '0.0.0.0',
      DATA_DIR: './data',
      NAMESPACE: 'topicdesk',
      CONVERSATION_JWT_SECRET: SECRET,
      TOKEN_TTL: 3_600_000,
      TOKEN_REFRESH_GRACE: 7 * 86_400_000,
      TOKEN_BIND_IP: false,
      ALLOWED_ORIGINS: '*',
      LIMIT_CONVERSATIONS_PER_DAY: 5,
      LIMIT_MESSAGES_PER_HOUR: 50,
      WS_RATE_BURST: 20,
      WS_RATE_PER_SEC: 5,
      WS_MAX_PAYLOAD: 65_536,
      WS_RATE_CLOSE_AFTER: 50,
      WS_RATE_CLOSE_WINDOW: 10_000,
      WS_MAX_BUFFERED_BYTES: 1_048_576,
      LOG_LEVEL: 'info',
    });
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.NATS_URL).toBeUndefined();
    expect(config.REDIS_URL).toBeUndefined();
    expect(config.TRUST_PROXY).toBeUndefined();
    expect(config.PRECHAT_FIELDS).toEqual([]);
  });

  it('reads PRECHAT_FIELDS as a comma-separated list of pre-chat fields', () => {
    const read = (PRECHAT_FIELDS: string) =>
      loadGatewayConfig({ CONVERSATION_JWT_SECRET: SECRET, PRECHAT_FIELDS }).PRECHAT_FIELDS;
    expect(read('email')).toEqual(['email']);
    expect(read(' email , email,')).toEqual(['email']);
    expect(read('')).toEqual([]);
  });

  it('refuses an unknown pre-chat field at start, naming it and the known ones', () => {
    const error = configError({ CONVERSATION_JWT_SECRET: SECRET, PRECHAT_FIELDS: 'email,phone' });
    expect(named(error, 'PRECHAT_FIELDS')).toBe(true);
    expect(error.message).toContain('unknown pre-chat field "phone": the fields are email');
  });

  it('treats empty variables as unset', () => {
    const config = loadGatewayConfig({
      CONVERSATION_JWT_SECRET: SECRET,
      PORT: '',
      TOKEN_TTL: '',
      NAMESPACE: '',
      DATABASE_URL: '',
    });
    expect(config.PORT).toBe(3000);
    expect(config.TOKEN_TTL).toBe(3_600_000);
    expect(config.NAMESPACE).toBe('topicdesk');
    expect(config.DATABASE_URL).toBeUndefined();
  });

  it('reads durations, booleans and numbers from strings', () => {
    const config = loadGatewayConfig({
      CONVERSATION_JWT_SECRET: SECRET,
      TOKEN_TTL: '15m',
      TOKEN_REFRESH_GRACE: '2d',
      TOKEN_BIND_IP: 'yes',
      WS_RATE_PER_SEC: '0.5',
      PORT: '8080',
    });
    expect(config).toMatchObject({
      TOKEN_TTL: 900_000,
      TOKEN_REFRESH_GRACE: 172_800_000,
      TOKEN_BIND_IP: true,
      WS_RATE_PER_SEC: 0.5,
      PORT: 8080,
    });
  });

  it('refuses a secret shorter than 32 characters, naming the variable', () => {
    const error = configError({ CONVERSATION_JWT_SECRET: 'x'.repeat(31) });
    expect(error.code).toBe('CONFIG_INVALID');
    expect(named(error, 'CONVERSATION_JWT_SECRET')).toBe(true);
  });

  it('refuses a missing or empty secret', () => {
    expect(named(configError({}), 'CONVERSATION_JWT_SECRET')).toBe(true);
    expect(named(configError({ CONVERSATION_JWT_SECRET: '' }), 'CONVERSATION_JWT_SECRET')).toBe(
      true,
    );
  });

  it.each([
    ['TOKEN_TTL', 'soon'],
    ['TOKEN_BIND_IP', 'maybe'],
    ['NAMESPACE', 'topic.desk'],
    ['PORT', '70000'],
    ['WS_MAX_PAYLOAD', '512'],
    ['WS_RATE_BURST', '0'],
    ['WS_RATE_CLOSE_AFTER', '0'],
    ['WS_RATE_CLOSE_WINDOW', 'forever'],
    ['WS_MAX_BUFFERED_BYTES', '1024'],
    ['LIMIT_MESSAGES_PER_HOUR', '1.5'],
    ['DATABASE_URL', 'not a url'],
    ['LOG_LEVEL', 'loud'],
  ])('refuses %s=%j', (variable, value) => {
    expect(
      named(configError({ CONVERSATION_JWT_SECRET: SECRET, [variable]: value }), variable),
    ).toBe(true);
  });

  it('reports every problem at once', () => {
    const error = configError({ TOKEN_TTL: 'soon', PORT: 'http' });
    expect(error.issues).toHaveLength(3);
    expect(error.message).toContain('CONVERSATION_JWT_SECRET');
    expect(error.message).toContain('TOKEN_TTL');
    expect(error.message).toContain('PORT');
  });
});
