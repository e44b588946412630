import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PersistentSecret, persistentSecret, SecretFileError } from './config';

let dataDir: string;

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'topicdesk-secrets-'));
});

afterEach(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

describe('persistentSecret', () => {
  it('generates a secret on the first start, readable by the owner only, and keeps it', () => {
    const first = persistentSecret(join(dataDir, 'new'), PersistentSecret.conversationJwt);
    expect(first).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const path = join(dataDir, 'new', 'conversation-jwt-secret');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(persistentSecret(join(dataDir, 'new'), PersistentSecret.conversationJwt)).toBe(first);
  });

  it('refuses to start on a too-short or empty Telegram user key file and leaves the file as it was', () => {
    const path = join(dataDir, 'telegram-user-key');
    for (const content of ['short-key\n', '', '\n']) {
      writeFileSync(path, content);
      let thrown: unknown;
      try {
        persistentSecret(dataDir, PersistentSecret.telegramUserKey);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(SecretFileError);
      const message = (thrown as Error).message;
      expect(message).toContain(path);
      expect(message).toContain('TELEGRAM_USER_KEY');
      expect(message).toContain('unreadable');
      expect(readFileSync(path, 'utf8')).toBe(content);
    }
  });

  it('refuses a directory where the secret file should be, naming the variable to set', () => {
    const path = join(dataDir, 'conversation-jwt-secret');
    rmSync(dataDir, { recursive: true });
    mkdirSync(path, { recursive: true });
    expect(() => persistentSecret(dataDir, PersistentSecret.conversationJwt)).toThrow(
      /CONVERSATION_JWT_SECRET/,
    );
  });
});
