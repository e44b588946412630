import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TENANT_ID } from '@topicdesk/data';
import {
  BotChannels,
  BotChannelTokens,
  BotChannelTokenError,
  generateUserKey,
  UnitOfWork,
  UserKeyring,
  type BotChannel,
  type ChannelTurn,
} from '../src/index';
import { coreFixture, type CoreFixture } from './support/core-fixture';

// Bot channels (issue 19) against a real database: registration, the plugin's calls applied as
// private-chat updates scoped to the channel, and what the bridge reads back.

const TOKEN_A = '4100000001:owner-token-a';
const TOKEN_B = '4100000002:owner-token-b';
const USER = 6_100_000_001;

describe('bot channels in core', () => {
  let fixture: CoreFixture;
  let channels: BotChannels;
  let keyring: UserKeyring;
  let a: { channel: BotChannel; secret: string };
  let b: { channel: BotChannel; secret: string };
  let nextUpdate = 1;

  beforeAll(async () => {
    fixture = await coreFixture();
    const uow = new UnitOfWork(fixture.infra.database.db, { publish: () => Promise.resolve() });
    keyring = UserKeyring.fromEnv(generateUserKey());
    channels = new BotChannels({
      uow,
      keyring,
      quotas: fixture.infra.coordination.quotas,
      logger: fixture.logger,
      limits: { conversationsPerDay: 2, messagesPerHour: 50 },
    });
    a = (await channels.register(DEFAULT_TENANT_ID, 'test', { token: TOKEN_A, name: 'A' }))!;
    b = (await channels.register(DEFAULT_TENANT_ID, 'test', { token: TOKEN_B, name: null }))!;
  }, 60_000);

  afterAll(async () => {
    await fixture.close();
  });

  const turn = (channel: BotChannel, request: ChannelTurn['request'], updateId = nextUpdate++) =>
    channels.apply({
      channel,
      updateId,
      telegramUserId: USER,
      language: 'en',
      segment: 'vip',
      request,
    });

  it('stores the token sealed and the secret hashed, and finds the channel by its secret', async () => {
    const row = await fixture.infra.database.db
      .selectFrom('bot_channels')
      .selectAll()
      .where('id', '=', a.channel.id)
      .executeTakeFirstOrThrow();
    expect(JSON.stringify(row)).not.toContain('owner-token-a');
    expect(JSON.stringify(row)).not.toContain(a.secret);
    expect((await channels.authenticate(a.secret))?.id).toBe(a.channel.id);
    expect(await channels.authenticate('tdch_nothing')).toBeUndefined();
    const tokens = new BotChannelTokens(fixture.infra.database.db, keyring);
    expect(await tokens.find(DEFAULT_TENANT_ID, a.channel.id)).toEqual({
      botId: '4100000001',
      token: TOKEN_A,
    });
    expect(await tokens.find('another-tenant', a.channel.id)).toBeUndefined();
  });

  it('refuses a second live channel of a bot, and a malformed token', async () => {
    expect(
      await channels.register(DEFAULT_TENANT_ID, 'test', { token: TOKEN_A, name: null }),
    ).toBeUndefined();
    await expect(
      channels.register(DEFAULT_TENANT_ID, 'test', { token: 'nope', name: null }),
    ).rejects.toBeInstanceOf(BotChannelTokenError);
  });

  it('keeps a text out of support with the bot, and takes it once support started', async () => {
    const before = await turn(a.channel, { kind: 'text', messageId: 1, text: 'hi' });
    expect(before).toMatchObject({ outcome: 'ignored:not_in_support', inSupport: false });
    const started = await turn(a.channel, { kind: 'support' });
    expect(started).toMatchObject({ outcome: 'command', inSupport: true });
    const update = nextUpdate++;
    const text = { kind: 'text' as const, messageId: 2, text: 'my booking' };
    expect(await turn(a.channel, text, update)).toMatchObject({ outcome: 'stored' });
    expect(await turn(a.channel, text, update)).toMatchObject({ outcome: 'duplicate' });
    const conversation = await fixture.infra.database.db
      .selectFrom('conversations')
      .select(['segment', 'channel'])
      .where('status', '=', 'open')
      .executeTakeFirstOrThrow();
    expect(conversation).toEqual({ segment: 'vip', channel: 'telegram' });
  });

  it('treats the same person in two bots as two users', async () => {
    expect(await channels.usersInSupport(a.channel)).toEqual([USER]);
    expect(await channels.usersInSupport(b.channel)).toEqual([]);
    expect(await turn(b.channel, { kind: 'text', messageId: 3, text: 'hi' })).toMatchObject({
      outcome: 'ignored:not_in_support',
    });
    const rows = await fixture.infra.database.db
      .selectFrom('telegram_users')
      .select(['bot_channel_id', 'lookup_hash'])
      .execute();
    const inA = rows.filter((r) => r.bot_channel_id === a.channel.id);
    expect(inA).toHaveLength(1);
    expect(
      rows.some((r) => r.bot_channel_id === b.channel.id && r.lookup_hash === inA[0]!.lookup_hash),
    ).toBe(false);
  });

  it('ends the conversation with /end, and the user is out of support', async () => {
    expect(await turn(a.channel, { kind: 'end' })).toMatchObject({
      outcome: 'command',
      inSupport: false,
    });
    expect(await channels.usersInSupport(a.channel)).toEqual([]);
  });
});
