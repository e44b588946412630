import { describe, expect, it } from 'vitest';
import { allowedHostSet, hostnameOf, isAllowedHost } from './request-guard';

describe('isAllowedHost', () => {
  const none = allowedHostSet();

  it('accepts loopback names and addresses, with or without a port', () => {
    for (const host of [
      '127.0.0.1:8081',
      '127.0.0.1',
      '127.1.2.3:80',
      'localhost:3000',
      'LOCALHOST',
      'localhost.',
      'app.localhost:5173',
      '[::1]:8081',
      '127.1:8081', // what resolvers read as 127.0.0.1
    ]) {
      expect(isAllowedHost(host, none), host).toBe(true);
    }
  });

  it('refuses any other name, a missing Host and malformed ones', () => {
    for (const host of [
      'evil.example:8081',
      'localhost.evil.example',
      '127.0.0.1.nip.io',
      '192.168.1.5:3000',
      '[::]:8081',
      '',
      '127.0.0.1:8081@evil.example',
      'localhost:99999',
    ]) {
      expect(isAllowedHost(host, none), host).toBe(false);
    }
    expect(isAllowedHost(undefined, none)).toBe(false);
  });

  it('accepts the hosts it was told, and ignores wildcard listen addresses', () => {
    const allowed = allowedHostSet(['0.0.0.0', '::', 'Sandbox.Internal', '192.168.1.5', 'fd00::5']);
    expect([...allowed].sort()).toEqual(['192.168.1.5', '[fd00::5]', 'sandbox.internal']);
    expect(isAllowedHost('sandbox.internal:8081', allowed)).toBe(true);
    expect(isAllowedHost('192.168.1.5:3000', allowed)).toBe(true);
    expect(isAllowedHost('[fd00::5]:3000', allowed)).toBe(true);
    expect(isAllowedHost('0.0.0.0:3000', allowed)).toBe(false);
  });

  it('reads a Host header the way URL parsing does', () => {
    expect(hostnameOf('Example.COM:80')).toBe('example.com');
    expect(hostnameOf('a b')).toBeUndefined();
  });
});
