import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { ConfigError, env, parseEnv } from './env';

describe('env helpers', () => {
  it('treat an empty string as unset, so defaults apply', () => {
    const schema = z.object({ PORT: env.port(3000), NAME: env.optionalString() });
    expect(parseEnv(schema, { PORT: '', NAME: '' })).toEqual({ PORT: 3000, NAME: undefined });
  });

  it('read booleans from true/false, 1/0 and yes/no, and refuse anything else', () => {
    const schema = z.object({ FLAG: env.boolean(false) });
    for (const value of ['true', '1', 'yes'])
      expect(parseEnv(schema, { FLAG: value }).FLAG).toBe(true);
    for (const value of ['false', '0', 'no'])
      expect(parseEnv(schema, { FLAG: value }).FLAG).toBe(false);
    expect(parseEnv(schema, {}).FLAG).toBe(false);
    expect(() => parseEnv(schema, { FLAG: 'on' })).toThrow(ConfigError);
  });

  it('read durations to milliseconds, the default included', () => {
    const schema = z.object({ WAIT: env.duration('30s') });
    expect(parseEnv(schema, {}).WAIT).toBe(30_000);
    expect(parseEnv(schema, { WAIT: '250ms' }).WAIT).toBe(250);
    expect(() => parseEnv(schema, { WAIT: 'a while' })).toThrow(
      /WAIT: "a while" is not a duration/,
    );
  });

  it('keep integers at or above their minimum', () => {
    const schema = z.object({ N: env.int(5, 1) });
    expect(parseEnv(schema, { N: '7' }).N).toBe(7);
    expect(() => parseEnv(schema, { N: '0' })).toThrow(ConfigError);
    expect(() => parseEnv(schema, { N: '2.5' })).toThrow(ConfigError);
  });

  it('default the namespace to topicdesk and allow only letters, digits, _ and -', () => {
    const schema = z.object({ NAMESPACE: env.namespace() });
    expect(parseEnv(schema, {}).NAMESPACE).toBe('topicdesk');
    expect(parseEnv(schema, { NAMESPACE: 'test_run-1' }).NAMESPACE).toBe('test_run-1');
    expect(() => parseEnv(schema, { NAMESPACE: 'a.b' })).toThrow(ConfigError);
    expect(() => parseEnv(schema, { NAMESPACE: 'a b' })).toThrow(ConfigError);
  });

  it('read a user key of 32 bytes in base64 or base64url, never repeating a wrong one', () => {
    const schema = z.object({ KEY: env.userKey() });
    const key = Buffer.alloc(32, 7);
    expect(parseEnv(schema, { KEY: key.toString('base64') }).KEY).toBe(key.toString('base64'));
    expect(parseEnv(schema, { KEY: key.toString('base64url') }).KEY).toBeDefined();
    expect(parseEnv(schema, { KEY: '' }).KEY).toBeUndefined();
    for (const wrong of [Buffer.alloc(16, 7).toString('base64'), 'not a key!'])
      expect(() => parseEnv(schema, { KEY: wrong })).toThrow(
        expect.objectContaining({ message: expect.not.stringContaining(wrong) as string }),
      );
  });

  it('default the log level to info and refuse unknown levels', () => {
    const schema = z.object({ LOG_LEVEL: env.logLevel() });
    expect(parseEnv(schema, {}).LOG_LEVEL).toBe('info');
    expect(() => parseEnv(schema, { LOG_LEVEL: 'verbose' })).toThrow(ConfigError);
  });
});

describe('parseEnv', () => {
  it('throws one ConfigError (CONFIG_INVALID) listing every invalid variable', () => {
    const schema = z.object({ A: env.int(1, 1), B: env.boolean(false), C: env.string() });
    let caught: unknown;
    try {
      parseEnv(schema, { A: '0', B: 'perhaps' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const error = caught as ConfigError;
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.name).toBe('ConfigError');
    expect(error.issues.map((issue) => issue.split(':')[0])).toEqual(['A', 'B', 'C']);
    expect(error.message.split('\n')[0]).toBe('invalid configuration:');
  });

  it('ignores variables the schema does not name', () => {
    const schema = z.object({ A: env.optionalString() });
    expect(parseEnv(schema, { A: 'x', PATH: '/usr/bin' })).toEqual({ A: 'x' });
  });
});
