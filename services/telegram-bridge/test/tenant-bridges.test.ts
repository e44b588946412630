import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { topics } from '@topicdesk/bus';
import { SetupAction, type SetupCheck } from '@topicdesk/contracts';
import {
  generateUserKey,
  updateAad,
  UserKeyring,
  TenantKeyring,
  TenantService,
  telegramHeaderSecret,
  type Conversation,
} from '@topicdesk/core';
import type { RunningSandbox } from '@topicdesk/telegram-sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GROUP, startBridgeUnderTest, TENANT, type BridgeUnderTest } from './bridge-under-test';

const KEK = `k1:${randomBytes(32).toString('base64')}`;
const DEFAULT_BOT = 200000041;
const ACME_BOT = 200000042;
const ACME_NEW_BOT = 200000043;
const token = (id: number) => `${id}:tenant-bridges-test`;
const ACME_GROUP = -1001000000042;
const ALICE = { id: 7101, first_name: 'Alice' };

// Issue 16: the bridge serves every tenant's own bot in its own group, next to the default
// tenant's bot from the environment; a tenant is picked up as it is created, rebuilt when its
// bot changes and retired when it is suspended, without a restart.
describe('the bridge serving many tenants’ bots', () => {
  let under: BridgeUnderTest;
  let sandbox: RunningSandbox;
  let tenants: TenantService;
  let app: FastifyInstance;

  beforeAll(async () => {
    under = await startBridgeUnderTest({
      name: 'tenant_bridges',
      token: token(DEFAULT_BOT),
      env: { TENANT_KEK: KEK },
      logLevel: 'warn',
    });
    sandbox = under.sandbox;
    sandbox.state.world.addForum(ACME_GROUP, 'Acme desk');
    const bus = under.runtime.infra.bus;
    tenants = new TenantService(under.uow, TenantKeyring.fromEnv(KEK, undefined), (tenantId) =>
      bus.signal(topics.tenantChanged, { tenantId }),
    );
    app = Fastify();
    await app.register(under.bridge.routes);
  });

  afterAll(async () => {
    await app?.close();
    await under?.close();
  });

  /** The first truthy value of an async `check`, polled; fails after `timeoutMs`. */
  async function until<T>(check: () => Promise<T | null | undefined | false>, timeoutMs = 10_000) {
    for (const deadline = Date.now() + timeoutMs; Date.now() < deadline;) {
      const value = await check();
      if (value) return value;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`condition not met within ${timeoutMs} ms`);
  }

  /** A web conversation of `tenantId` with one visitor message. */
  async function conversation(tenantId: string, text: string): Promise<Conversation> {
    const c = await under.service.start({ tenantId, channel: 'web' });
    await under.service.postVisitorMessage({
      tenantId,
      conversationId: c.id,
      clientId: `${c.id}-1`,
      text,
    });
    return c;
  }

  /** The message in either group whose text contains `text`, once it is there. */
  const posted = (text: string) =>
    until(async () =>
      [GROUP, ACME_GROUP, -1001000000044]
        .flatMap((chatId) => sandbox.state.messages({ chatId }))
        .find((m) => m.text?.includes(text)),
    );

  const agentReply = (tenantId: string, c: Conversation, text: string) =>
    until(async () =>
      (await under.service.history(tenantId, c.id, 0, 100)).find(
        (m) => m.kind === 'agent' && m.text === text,
      ),
    );

  const topicOf = async (tenantId: string, c: Conversation) =>
    Number(await until(async () => (await under.service.find(tenantId, c.id))?.topic_id));

  const polls = (botId: number) =>
    sandbox.state.calls({ method: 'getUpdates' }).filter((call) => call.botId === botId).length;

  let acme: Conversation;

  it("sends a new tenant's conversations by its own bot into its own group", async () => {
    await tenants.create('platform-test', {
      id: 'acme',
      name: 'Acme',
      secrets: { botToken: token(ACME_BOT), supportGroups: [String(ACME_GROUP)] },
    });
    acme = await conversation('acme', 'Hello from an Acme visitor');
    const theirs = await posted('Hello from an Acme visitor');
    expect(theirs).toMatchObject({ chatId: ACME_GROUP, fromBot: true });
    expect(theirs.from?.id).toBe(ACME_BOT);

    const ours = await conversation(TENANT, 'Hello from a default visitor');
    expect(await posted('Hello from a default visitor')).toMatchObject({ chatId: GROUP });
    expect((await posted('Hello from a default visitor')).from?.id).toBe(DEFAULT_BOT);
    // Neither group sees the other tenant's visitors.
    expect(sandbox.state.messages({ chatId: GROUP }).map((m) => m.text)).not.toContainEqual(
      expect.stringContaining('Acme visitor'),
    );
    expect(sandbox.state.messages({ chatId: ACME_GROUP }).map((m) => m.text)).not.toContainEqual(
      expect.stringContaining('default visitor'),
    );
    expect((await under.service.find(TENANT, ours.id))?.topic_id).toBeTruthy();
  });

  it("reports each tenant's bots in the bridge status under its own tenant id", async () => {
    const bus = under.runtime.infra.bus;
    const heard: Array<{ tenantId: string; bots: string[] }> = [];
    const listening = bus.onSignal(topics.bridgeStatus, (status) => {
      heard.push({ tenantId: status.tenantId, bots: status.bots.map((bot) => bot.botId) });
    });
    await listening.ready;
    try {
      bus.signal(topics.bridgeStatusRequest, { tenantId: 'acme' });
      await until(async () => heard.find((status) => status.tenantId === 'acme'));
      expect(heard.find((status) => status.tenantId === 'acme')?.bots).toEqual([String(ACME_BOT)]);
      bus.signal(topics.bridgeStatusRequest, { tenantId: TENANT });
      await until(async () => heard.find((status) => status.tenantId === TENANT));
      expect(heard.find((status) => status.tenantId === TENANT)?.bots).toEqual([
        String(DEFAULT_BOT),
      ]);
    } finally {
      listening.stop();
    }
  });

  it("applies an agent's reply in the tenant's group to the tenant's conversation (its bot polls)", async () => {
    const topicId = await topicOf('acme', acme);
    sandbox.state.injectMessage({
      chatId: ACME_GROUP,
      messageThreadId: topicId,
      text: 'Acme support here',
      from: ALICE,
    });
    expect(await agentReply('acme', acme, 'Acme support here')).toMatchObject({ kind: 'agent' });
  });

  it("takes a tenant's webhook delivery on its own path with its own header secret", async () => {
    const { webhook_secret: secret } = await under.runtime.infra.database.db
      .selectFrom('tenants')
      .select('webhook_secret')
      .where('id', '=', 'acme')
      .executeTakeFirstOrThrow();
    const topicId = await topicOf('acme', acme);
    const update = {
      update_id: 990001,
      message: {
        message_id: 99001,
        date: Math.floor(Date.now() / 1000),
        chat: { id: ACME_GROUP, type: 'supergroup', title: 'Acme desk', is_forum: true },
        from: { ...ALICE, is_bot: false },
        text: 'Acme support, by webhook',
        message_thread_id: topicId,
        is_topic_message: true,
      },
    };
    const post = (path: string, header?: string) =>
      app.inject({
        method: 'POST',
        url: `/v1/telegram/webhook/${path}`,
        headers: header === undefined ? {} : { 'x-telegram-bot-api-secret-token': header },
        payload: update,
      });

    expect((await post('wh_nobody', telegramHeaderSecret('wh_nobody'))).statusCode).toBe(404);
    const wrong = await post(secret, 'not-the-header-secret');
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toMatchObject({ error: { code: 'BRIDGE_WEBHOOK_UNAUTHORIZED' } });
    expect((await post(secret)).statusCode).toBe(401);

    const accepted = await post(secret, telegramHeaderSecret(secret));
    expect(accepted.statusCode).toBe(200);
    expect(await agentReply('acme', acme, 'Acme support, by webhook')).toMatchObject({
      kind: 'agent',
    });
  });

  it("checks a tenant's Mini App data against its own bot's token", async () => {
    const bus = under.runtime.infra.bus;
    /** Signed as Telegram documents it, with `botToken`. */
    const initData = (botToken: string) => {
      const fields = {
        auth_date: String(Math.floor(Date.now() / 1000)),
        user: JSON.stringify({ id: ALICE.id, first_name: ALICE.first_name }),
      };
      const check = Object.entries(fields)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => `${k}=${v}`)
        .join('\n');
      const key = createHmac('sha256', 'WebAppData').update(botToken).digest();
      const hash = createHmac('sha256', key).update(check).digest('hex');
      return new URLSearchParams({ ...fields, hash }).toString();
    };
    const verify = async (tenantId: string, data: string) => {
      const requestId = randomUUID();
      let stop: (() => void) | undefined;
      const reply = new Promise<{ telegramUserId: bigint; error?: { code: string } }>((resolve) => {
        const subscription = bus.onSignal(topics.miniAppVerifyReply, (answer) => {
          if (answer.requestId === requestId) resolve(answer);
        });
        stop = () => subscription.stop();
      });
      try {
        bus.signal(topics.miniAppVerifyRequest, { requestId, tenantId, initData: data });
        return await reply;
      } finally {
        stop?.();
      }
    };
    expect((await verify('acme', initData(token(ACME_BOT)))).telegramUserId).toBe(BigInt(ALICE.id));
    expect((await verify('acme', initData(token(DEFAULT_BOT)))).error?.code).toBe(
      'MINI_APP_DATA_INVALID',
    );
    expect((await verify(TENANT, initData(token(DEFAULT_BOT)))).telegramUserId).toBe(
      BigInt(ALICE.id),
    );
  });

  it('answers the setup checks of a tenant with its own bot and group', async () => {
    const bus = under.runtime.infra.bus;
    const checks = async (tenantId: string) => {
      const requestId = randomUUID();
      let stop: (() => void) | undefined;
      const reply = new Promise<SetupCheck[]>((resolve) => {
        const subscription = bus.onSignal(topics.setupReply, (answer) => {
          if (answer.requestId === requestId) resolve(answer.checks);
        });
        stop = () => subscription.stop();
      });
      try {
        bus.signal(topics.setupRequest, { requestId, tenantId, action: SetupAction.CHECK });
        return new Map((await reply).map((check) => [check.id, check]));
      } finally {
        stop?.();
      }
    };
    const acmeChecks = await checks('acme');
    expect(acmeChecks.get('bot.token')).toMatchObject({ ok: true });
    expect(acmeChecks.get('bot.token')?.detail).toContain(`(${ACME_BOT})`);
    expect(acmeChecks.get(`group.${ACME_GROUP}.forum`)).toMatchObject({ ok: true });
    expect(acmeChecks.has(`group.${GROUP}.forum`)).toBe(false);
    const ours = await checks(TENANT);
    expect(ours.get('bot.token')?.detail).toContain(`(${DEFAULT_BOT})`);
    expect(ours.has(`group.${GROUP}.forum`)).toBe(true);
  });

  it("deletes a purged conversation's topic by the tenant's bot, and shows typing there", async () => {
    const bus = under.runtime.infra.bus;
    const purged = await conversation('acme', 'Acme visitor to be purged');
    const topicId = await topicOf('acme', purged);
    const typing = () =>
      sandbox.state
        .calls({ method: 'sendChatAction' })
        .filter((call) => call.botId === ACME_BOT && Number(call.params.chat_id) === ACME_GROUP);
    // Typing waits for nothing: shown only when the bot's budgets have room right now, at most
    // once per conversation in 5 s. Asked again until it shows.
    await until(async () => {
      bus.signal(topics.visitorTyping, { tenantId: 'acme', conversationId: purged.id });
      await new Promise((resolve) => setTimeout(resolve, 1000));
      return typing().length > 0;
    }, 15_000);

    // Only the conversation's group and topic: the tenant's bot is the one to call.
    await bus.publish(topics.topicRemoval, {
      tenantId: 'acme',
      conversationId: purged.id,
      topicId: BigInt(topicId),
    });
    const deletion = () =>
      sandbox.state
        .calls({ method: 'deleteForumTopic' })
        .find((call) => Number(call.params.message_thread_id) === topicId);
    await sandbox.state.waitFor(() => deletion(), 10_000);
    expect(deletion()).toMatchObject({ botId: ACME_BOT, status: 200 });
    expect(sandbox.state.topics(ACME_GROUP).find((t) => t.threadId === topicId)?.deleted).toBe(
      true,
    );
  });

  it("opens a private chat with a tenant's bot as that tenant's conversation, with its own key", async () => {
    const GLOBEX_BOT = 200000044;
    const GLOBEX_GROUP = -1001000000044;
    const OLA = { id: 7201, first_name: 'Ola' };
    sandbox.state.world.addForum(GLOBEX_GROUP, 'Globex desk');
    await tenants.create('platform-test', {
      id: 'globex',
      name: 'Globex',
      secrets: {
        botToken: token(GLOBEX_BOT),
        supportGroups: [String(GLOBEX_GROUP)],
        telegramUserKey: generateUserKey(),
      },
    });
    // Served at once (the signal): its bot's poller starts (deleteWebhook first), and only that
    // bot gets what Ola writes to it.
    await until(async () =>
      sandbox.state.calls({ method: 'deleteWebhook' }).some((call) => call.botId === GLOBEX_BOT),
    );
    sandbox.state.injectMessage({
      chatId: OLA.id,
      text: 'Hello Globex, from Telegram',
      from: OLA,
      toBot: GLOBEX_BOT,
    });
    const inTopic = await posted('Hello Globex, from Telegram');
    expect(inTopic).toMatchObject({ chatId: GLOBEX_GROUP });
    expect(inTopic.from?.id).toBe(GLOBEX_BOT);
    const rows = await under.runtime.infra.database.db
      .selectFrom('conversations')
      .select(['tenant_id', 'channel', 'topic_id'])
      .where('tenant_id', '=', 'globex')
      .execute();
    expect(rows).toEqual([
      { tenant_id: 'globex', channel: 'telegram', topic_id: inTopic.threadId },
    ]);

    // An update sealed under a key Globex does not have (one it had before a change): a dead
    // letter at once, not a stream held for every tenant.
    const json = new TextEncoder().encode(JSON.stringify({ update_id: 77 }));
    const other = UserKeyring.fromEnv(generateUserKey());
    await under.runtime.infra.bus.publish(topics.telegramUpdate, {
      updateId: 77n,
      botId: String(GLOBEX_BOT),
      payload: other.sealUpdate(json, updateAad(String(GLOBEX_BOT), 77)),
      tenantId: 'globex',
    });
    const letter = await until(() =>
      under.runtime.infra.database.db
        .selectFrom('dead_letters')
        .select(['topic', 'reason', 'error_code'])
        .where('tenant_id', '=', 'globex')
        .executeTakeFirst(),
    );
    expect(letter).toEqual({
      topic: 'telegramUpdate',
      reason: 'refused',
      error_code: 'TENANT_USER_KEY_UNKNOWN',
    });
  });

  it('dead-letters at once what a tenant without a bot cannot have, and goes on serving the others', async () => {
    const db = under.runtime.infra.database.db;
    await tenants.create('platform-test', { id: 'nobot', name: 'No bot yet' });
    const stranded = await conversation('nobot', 'Hello from a tenant without a bot');
    // An update as if received for it (a race with its suspension): it must not hold the stream.
    await under.runtime.infra.bus.publish(topics.telegramUpdate, {
      updateId: 1n,
      botId: '999',
      payload: new TextEncoder().encode(JSON.stringify({ update_id: 1 })),
      tenantId: 'nobot',
    });
    const letters = () =>
      db
        .selectFrom('dead_letters')
        .select(['topic', 'reason', 'error_code', 'conversation_id'])
        .where('tenant_id', '=', 'nobot')
        .execute();
    await until(async () => (await letters()).length >= 2);
    expect(await letters()).toEqual(
      expect.arrayContaining([
        {
          topic: 'conversationSync',
          reason: 'refused',
          error_code: 'TENANT_BOT_MISSING',
          conversation_id: stranded.id,
        },
        {
          topic: 'telegramUpdate',
          reason: 'refused',
          error_code: 'TENANT_BOT_MISSING',
          conversation_id: null,
        },
      ]),
    );
    // Its setup checks say why.
    const requestId = randomUUID();
    const reply = new Promise<SetupCheck[]>((resolve) => {
      const subscription = under.runtime.infra.bus.onSignal(topics.setupReply, (answer) => {
        if (answer.requestId !== requestId) return;
        subscription.stop();
        resolve(answer.checks);
      });
    });
    under.runtime.infra.bus.signal(topics.setupRequest, {
      requestId,
      tenantId: 'nobot',
      action: SetupAction.CHECK,
    });
    expect((await reply).find((check) => check.id === 'bot.token')).toMatchObject({
      ok: false,
      detail: 'the bridge serves no bot for this tenant',
    });
    // The sweep leaves it until new work or a replay.
    expect((await under.service.find('nobot', stranded.id))?.sync_given_up_at).toBeTruthy();
    // The update stream goes on: an agent's reply for acme after it is applied.
    const topicId = await topicOf('acme', acme);
    sandbox.state.injectMessage({
      chatId: ACME_GROUP,
      messageThreadId: topicId,
      text: 'Acme support, after the stranded update',
      from: ALICE,
    });
    expect(await agentReply('acme', acme, 'Acme support, after the stranded update')).toBeTruthy();
  });

  it('moves to the new bot when the token changes, and stops serving a suspended tenant', async () => {
    await tenants.update('platform-test', 'acme', {
      secrets: { botToken: token(ACME_NEW_BOT) },
    });
    const next = await conversation('acme', 'Acme visitor after the new bot');
    const sent = await posted('Acme visitor after the new bot');
    expect(sent).toMatchObject({ chatId: ACME_GROUP });
    expect(sent.from?.id).toBe(ACME_NEW_BOT);
    expect((await under.service.find('acme', next.id))?.topic_id).toBeTruthy();
    // The old bot's poller is gone: no more getUpdates from it.
    const oldPolls = polls(ACME_BOT);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(polls(ACME_BOT)).toBe(oldPolls);
    expect(polls(ACME_NEW_BOT)).toBeGreaterThan(0);

    await tenants.setSuspended('platform-test', 'acme', true);
    await until(async () => {
      const before = polls(ACME_NEW_BOT);
      await new Promise((resolve) => setTimeout(resolve, 700));
      return polls(ACME_NEW_BOT) === before;
    });
    // A suspended tenant's webhook path is unknown.
    const { webhook_secret: secret } = await under.runtime.infra.database.db
      .selectFrom('tenants')
      .select('webhook_secret')
      .where('id', '=', 'acme')
      .executeTakeFirstOrThrow();
    const refused = await app.inject({
      method: 'POST',
      url: `/v1/telegram/webhook/${secret}`,
      headers: { 'x-telegram-bot-api-secret-token': telegramHeaderSecret(secret) },
      payload: { update_id: 990002 },
    });
    expect(refused.statusCode).toBe(404);
  });
});
