import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { topics, type TopicName } from '@topicdesk/bus';
import { DEFAULT_TENANT_ID } from '@topicdesk/data';
import {
  coordinationKeys,
  DEFAULT_TENANT,
  tenantKey,
  type CoordinationKeys,
} from '@topicdesk/fanout';

/**
 * Issue 16's audit of Redis keys and NATS subjects: every key builder, every key a caller
 * composes and every subject is listed here with how it is tied to a tenant. A new one fails
 * until it is added, with its scope (docs/security.md, "Tenant scoping").
 *
 * - `tenant`: the key names the tenant (`tenantKey`: the default tenant's keys keep their old
 *   names for rolling upgrades).
 * - `conversation`: a conversation's uuid, which belongs to exactly one tenant and cannot be
 *   guessed; whoever reaches the key was already checked for that tenant.
 * - `bot`: a Telegram bot's budget or poller; Telegram's limits are per bot, a bot is one
 *   tenant's.
 * - `pseudonym`: a keyed hash over (tenant, Telegram user id), so two tenants never share one.
 * - `caller`: the builder only prefixes a key its caller composes (see CALLER_KEYS).
 * - `global`: the deployment's own infrastructure, not any tenant's data.
 */
type Scope = 'tenant' | 'conversation' | 'bot' | 'pseudonym' | 'caller' | 'global';

const BUILDERS: Record<Exclude<keyof CoordinationKeys, 'namespace'>, Scope> = {
  conversationChannel: 'conversation',
  budgetLog: 'caller',
  budgetBlock: 'caller',
  quotaLog: 'caller',
  lease: 'caller',
  lock: 'caller',
  due: 'caller',
  dedupe: 'caller',
};

/** Every key a caller hands to a quota, budget, lock or dedupe, by the file that composes it. */
const CALLER_KEYS: ReadonlyArray<{ file: string; key: string; scope: Scope }> = [
  {
    file: 'services/gateway/src/conversation-start.routes.ts',
    key: 'tenantKey(tenantId, `conv:ip:${request.ip}`)',
    scope: 'tenant',
  },
  {
    // A tenant's plan limits (conversationsPerDay, messagesPerHour), one window per tenant.
    file: 'services/gateway/src/tenant-quotas.ts',
    key: 'tenantQuotaKey(tenantId, limit)',
    scope: 'tenant',
  },
  {
    // A tenant's open sockets (concurrentSockets), one lease per socket on every replica.
    file: 'services/gateway/src/tenant-sockets.ts',
    key: 'tenantSocketsKey(tenantId)',
    scope: 'tenant',
  },
  {
    file: 'services/gateway/src/visitor-socket.ts',
    key: '`msg:${conversationId}`',
    scope: 'conversation',
  },
  {
    // A bot channel's calls per minute: its uuid is one tenant's channel (issue 19).
    file: 'services/gateway/src/bot-channel.routes.ts',
    key: '`botch:${channel.id}`',
    scope: 'bot',
  },
  {
    file: 'services/gateway/src/attachment.routes.ts',
    key: '`upload:${id}`',
    scope: 'conversation',
  },
  {
    file: 'services/gateway/src/visitor-profile.routes.ts',
    key: '`profile:${c.id}`',
    scope: 'conversation',
  },
  {
    file: 'services/telegram-bridge/src/consumers.ts',
    key: '`typing:${data.conversationId}`',
    scope: 'conversation',
  },
  {
    file: 'services/telegram-bridge/src/sync/topic-sync.ts',
    key: '`sync:${conversationId}`',
    scope: 'conversation',
  },
  {
    file: 'services/telegram-bridge/src/sender/telegram-sender.ts',
    key: '`tg:bot:${botId}`',
    scope: 'bot',
  },
  {
    file: 'services/telegram-bridge/src/sender/telegram-sender.ts',
    key: '`tg:chat:${botId}:${chatKey}`',
    scope: 'bot',
  },
  {
    file: 'services/telegram-bridge/src/sender/telegram-sender.ts',
    key: '`tg:group:${botId}:${chatId}`',
    scope: 'bot',
  },
  {
    file: 'services/telegram-bridge/src/updates/update-receiving.ts',
    // The default tenant's main bot keeps the old name; every other bot its own.
    key: "mainBot ? 'telegram-poller' : `telegram-poller:${bot.id}`",
    scope: 'bot',
  },
  {
    // One replica sets a tenant's webhook (the bot's id and a digest of its URL and secrets).
    file: 'services/telegram-bridge/src/updates/update-receiving.ts',
    key: '`tg:webhook:${botId}:${digest}`',
    scope: 'bot',
  },
  {
    file: 'services/telegram-bridge/src/bridge.ts',
    key: "'telegram-users-rekey'",
    scope: 'global',
  },
  {
    file: 'services/telegram-bridge/src/updates/private-chat/calls.ts',
    key: '`tg:answers:${user.pseudonym}`',
    scope: 'pseudonym',
  },
  {
    file: 'packages/core/src/private-chat/intake.service.ts',
    key: '`tg:msg:${turn.visitor.pseudonym}`',
    scope: 'pseudonym',
  },
  {
    file: 'packages/core/src/private-chat/intake.service.ts',
    key: '`tg:conv:${visitor.pseudonym}`',
    scope: 'pseudonym',
  },
];

/** Each subject with what ties a message to its tenant; all are relative to `NAMESPACE`. */
const SUBJECTS: Record<TopicName, { scope: Scope; carries: 'tenantId' | 'botId' | 'requestId' }> = {
  conversationSync: { scope: 'global', carries: 'tenantId' },
  // Received by one tenant's bot; the tenant travels with it (empty: the default tenant).
  telegramUpdate: { scope: 'bot', carries: 'tenantId' },
  topicRemoval: { scope: 'global', carries: 'tenantId' },
  visitorTyping: { scope: 'global', carries: 'tenantId' },
  setupRequest: { scope: 'global', carries: 'tenantId' },
  // The answer goes to the gateway waiting for that request id, which asked for its tenant.
  setupReply: { scope: 'global', carries: 'requestId' },
  miniAppVerifyRequest: { scope: 'global', carries: 'tenantId' },
  // As setupReply: for the gateway waiting for that request id.
  miniAppVerifyReply: { scope: 'global', carries: 'requestId' },
  tenantChanged: { scope: 'global', carries: 'tenantId' },
  bridgeStatusRequest: { scope: 'global', carries: 'tenantId' },
  bridgeStatus: { scope: 'global', carries: 'tenantId' },
};

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '../../..');

function sources(dir: string): string[] {
  const found: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'generated') continue;
    if (statSync(path).isDirectory()) found.push(...sources(path));
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) found.push(path);
  }
  return found;
}

/** The key expression of every quota, lease, lock, dedupe and budget call in the services and packages. */
function composedKeys(): Array<{ file: string; key: string }> {
  const found: Array<{ file: string; key: string }> = [];
  const files = ['services', 'packages'].flatMap((top) =>
    readdirSync(join(ROOT, top)).flatMap((pkg) => {
      const src = join(ROOT, top, pkg, 'src');
      return statSync(src, { throwIfNoEntry: false })?.isDirectory() ? sources(src) : [];
    }),
  );
  for (const path of files) {
    const file = relative(ROOT, path);
    if (file.startsWith('packages/fanout/')) continue;
    const text = readFileSync(path, 'utf8');
    const calls = [...text.matchAll(/\.(?:hit|hold|tryLock|tryLockDue|firstSeen)\(\s*([^,]+?),/g)];
    const budgets = [...text.matchAll(/\bkey: (`tg:[^`]+`)/g)];
    for (const [, argument] of [...calls, ...budgets]) {
      let key = argument!.trim();
      // A variable: its definition in the same file.
      const definition = /^[A-Za-z_]\w*$/.test(key)
        ? new RegExp(`const ${key} = ([^;]+);`).exec(text)
        : null;
      if (definition) key = definition[1]!.trim();
      found.push({ file, key });
    }
  }
  return found;
}

describe('tenant scope of Redis keys and NATS subjects', () => {
  it('lists every key builder, each under the namespace', () => {
    const keys = coordinationKeys('ns');
    const builders = Object.keys(keys).filter((k) => k !== 'namespace');
    expect(builders.sort()).toEqual(Object.keys(BUILDERS).sort());
    for (const name of builders) {
      expect(keys[name as keyof typeof BUILDERS]('x').startsWith('ns:')).toBe(true);
    }
  });

  it('lists every key a caller composes, and each names its tenant or a key of one tenant', () => {
    const found = composedKeys();
    const listed = CALLER_KEYS.map(({ file, key }) => ({ file, key }));
    expect(found.filter((f) => !listed.some((l) => l.file === f.file && l.key === f.key))).toEqual(
      [],
    );
    expect(listed.filter((l) => !found.some((f) => f.file === l.file && f.key === l.key))).toEqual(
      [],
    );
    for (const { key, scope } of CALLER_KEYS) {
      if (scope === 'tenant') expect(key).toMatch(/tenant/i);
      if (scope === 'conversation') expect(key).toMatch(/conversationId|\bc\.id\b|\bid\b/);
      if (scope === 'bot') expect(key).toMatch(/bot/);
      if (scope === 'pseudonym') expect(key).toMatch(/pseudonym/);
    }
  });

  it("keeps the default tenant's keys as they were and gives every other tenant its own", () => {
    expect(DEFAULT_TENANT).toBe(DEFAULT_TENANT_ID);
    expect(tenantKey(DEFAULT_TENANT_ID, 'conv:ip:1.2.3.4')).toBe('conv:ip:1.2.3.4');
    expect(tenantKey('acme', 'conv:ip:1.2.3.4')).toBe('tenant:acme:conv:ip:1.2.3.4');
    expect(tenantKey('acme', 'k')).not.toBe(tenantKey('globex', 'k'));
  });

  it('lists every subject, and every payload names its tenant, its bot or its request', () => {
    expect(Object.keys(topics).sort()).toEqual(Object.keys(SUBJECTS).sort());
    for (const [name, topic] of Object.entries(topics)) {
      const { carries } = SUBJECTS[name as TopicName];
      const fields = topic.schema.fields.map((f) => f.localName);
      expect(fields, `${name} carries ${carries}`).toContain(carries);
      // Durable events are processed by a consumer that must find their tenant in the payload.
      if (topic.kind === 'durable') expect(['tenantId', 'botId']).toContain(carries);
    }
  });
});
