import { Bot } from 'grammy';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AGENT,
  BOT_ID,
  failure,
  rawCall,
  startHarness,
  startWebhookReceiver,
  type Harness,
} from './fixtures';

// The main bot (TOKEN) and send-only pool bots in one supergroup, as Telegram keeps them.

const POOL_TOKEN = '200000002:e2e-sender-02';
const POOL_ID = 200000002;
const OTHER_POOL_TOKEN = '200000003:e2e-sender-03';

let h: Harness;
let pool: Bot;

beforeEach(async () => {
  h = await startHarness();
  pool = new Bot(POOL_TOKEN, { client: { apiRoot: h.sandbox.url } });
});

afterEach(async () => {
  await h.sandbox.close();
});

function keyboard(data: string) {
  return { reply_markup: { inline_keyboard: [[{ text: data, callback_data: data }]] } };
}

describe('membership and rights per bot', () => {
  it('answers getMe for any token and knows every bot as an administrator with every right by default', async () => {
    expect(await pool.api.getMe()).toMatchObject({
      id: POOL_ID,
      is_bot: true,
      username: `sandbox_${POOL_ID}_bot`,
    });
    // The main bot asks about the pool bot, as the bridge checks its pool at start.
    const member = await h.bot.api.getChatMember(h.group, POOL_ID);
    expect(member).toMatchObject({
      status: 'administrator',
      user: { id: POOL_ID, is_bot: true },
      can_manage_topics: true,
      can_pin_messages: true,
      can_delete_messages: true,
    });
  });

  it('answers getChatMember with what setMember set, for the bot itself and for others', async () => {
    await h.bot.api.getMe();
    await pool.api.getMe();
    h.sandbox.state.setMember(h.group, POOL_ID, 'administrator', { can_pin_messages: false });
    expect(await pool.api.getChatMember(h.group, POOL_ID)).toMatchObject({
      status: 'administrator',
      can_manage_topics: true,
      can_pin_messages: false,
      can_delete_messages: true,
    });
    h.sandbox.state.setMember(h.group, POOL_ID, 'member');
    const asMember = await h.bot.api.getChatMember(h.group, POOL_ID);
    expect(asMember).toEqual({
      status: 'member',
      user: expect.objectContaining({ id: POOL_ID }) as unknown,
    });
    expect((await h.bot.api.getChatAdministrators(h.group)).map((admin) => admin.user.id)).toEqual([
      BOT_ID,
    ]);
    h.sandbox.state.setMember(h.group, POOL_ID, 'left');
    expect(await h.bot.api.getChatMember(h.group, POOL_ID)).toMatchObject({ status: 'left' });
    expect(await h.bot.api.getChatMemberCount(h.group)).toBe(1);
    // A bot that never called yet is known once its membership is set.
    h.sandbox.state.setMember(h.group, 200000009, 'member');
    expect(await h.bot.api.getChatMember(h.group, 200000009)).toMatchObject({
      status: 'member',
      user: { id: 200000009, is_bot: true },
    });
  });

  it('answers every call of a bot that left the group with 403, and sends it no updates from there', async () => {
    const { message_thread_id: thread } = await h.bot.api.createForumTopic(h.group, 'Shared');
    await pool.api.sendMessage(h.group, 'before leaving', { message_thread_id: thread });
    h.sandbox.state.setMember(h.group, POOL_ID, 'left');
    const forbidden = {
      error_code: 403,
      description: 'Forbidden: bot is not a member of the supergroup chat',
    };
    for (const call of [
      pool.api.sendMessage(h.group, 'after leaving', { message_thread_id: thread }),
      pool.api.createForumTopic(h.group, 'Mine'),
      pool.api.getChat(h.group),
      pool.api.getChatMember(h.group, POOL_ID),
      pool.api.sendChatAction(h.group, 'typing'),
    ]) {
      expect(await failure(call)).toMatchObject(forbidden);
    }
    // Telegram does not count a refused call against the bot's budget; nothing was posted.
    expect(h.sandbox.state.calls().filter((c) => c.status === 403)).toHaveLength(5);
    expect(
      h.sandbox.state.messages({ threadId: thread, fromBot: true }).map((m) => m.text),
    ).toEqual([null, 'before leaving']);

    await pool.api.deleteWebhook({ drop_pending_updates: true });
    h.sandbox.state.injectMessage({
      chatId: h.group,
      text: 'agents talk',
      from: AGENT,
      messageThreadId: thread,
    });
    expect(h.sandbox.state.pendingUpdates(POOL_ID)).toEqual([]);
    expect(h.sandbox.state.pendingUpdates(BOT_ID).at(-1)?.message?.text).toBe('agents talk');

    // Other bots and other chats are unaffected; joining again restores it.
    await h.bot.api.sendMessage(h.group, 'main bot still posts', { message_thread_id: thread });
    h.sandbox.state.setMember(h.group, POOL_ID, 'administrator');
    await pool.api.sendMessage(h.group, 'back again', { message_thread_id: thread });
  });

  it('refuses topic methods without can_manage_topics and pins without can_pin_messages with 400', async () => {
    const { message_thread_id: mainTopic } = await h.bot.api.createForumTopic(h.group, 'Main');
    const header = await pool.api.sendMessage(h.group, 'header', { message_thread_id: mainTopic });
    h.sandbox.state.setMember(h.group, POOL_ID, 'administrator', {
      can_manage_topics: false,
      can_pin_messages: false,
    });
    const topicRights = {
      error_code: 400,
      description: 'Bad Request: not enough rights to manage topics',
    };
    expect(await failure(pool.api.createForumTopic(h.group, 'Nope'))).toMatchObject(topicRights);
    expect(
      await failure(pool.api.editForumTopic(h.group, mainTopic, { name: 'Renamed' })),
    ).toMatchObject(topicRights);
    expect(await failure(pool.api.closeForumTopic(h.group, mainTopic))).toMatchObject(topicRights);
    expect(await failure(pool.api.pinChatMessage(h.group, header.message_id))).toMatchObject({
      error_code: 400,
      description: 'Bad Request: not enough rights to pin a message',
    });
    // Sending needs no administrator right, and a plain member may send too.
    await pool.api.sendMessage(h.group, 'texts still go', { message_thread_id: mainTopic });
    h.sandbox.state.setMember(h.group, POOL_ID, 'member');
    await pool.api.sendMessage(h.group, 'as a member', { message_thread_id: mainTopic });
    const agents = h.sandbox.state.injectMessage({
      chatId: h.group,
      text: 'an agent message',
      from: AGENT,
      messageThreadId: mainTopic,
    });
    expect(await failure(pool.api.deleteMessage(h.group, agents.message_id))).toMatchObject({
      error_code: 400,
      description: "Bad Request: message can't be deleted",
    });
    // Its own messages it may delete.
    await pool.api.deleteMessage(h.group, header.message_id);
    expect(h.sandbox.state.topics()[0]).toMatchObject({ name: 'Main', closed: false });
  });

  it('lets a bot edit, close and reopen a topic it created without can_manage_topics, as Telegram does', async () => {
    const { message_thread_id: own } = await pool.api.createForumTopic(h.group, 'Own');
    h.sandbox.state.setMember(h.group, POOL_ID, 'administrator', { can_manage_topics: false });
    await pool.api.editForumTopic(h.group, own, { name: 'Own, renamed' });
    await pool.api.closeForumTopic(h.group, own);
    await pool.api.reopenForumTopic(h.group, own);
    expect(h.sandbox.state.topics()[0]).toMatchObject({ name: 'Own, renamed', closed: false });
  });

  it('sets and lists membership through the control API', async () => {
    await pool.api.getMe();
    const post = (body: unknown) =>
      rawCall(h.sandbox.url, '/sandbox/members', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const set = await post({
      chatId: h.group,
      userId: POOL_ID,
      status: 'administrator',
      rights: { can_manage_topics: false },
    });
    expect(set).toEqual({
      status: 200,
      body: {
        userId: POOL_ID,
        status: 'administrator',
        can_manage_topics: false,
        can_pin_messages: true,
        can_delete_messages: true,
      },
    });
    expect(await failure(pool.api.createForumTopic(h.group, 'Nope'))).toMatchObject({
      error_code: 400,
    });
    const listed = await rawCall(h.sandbox.url, `/sandbox/members?chatId=${h.group}`);
    expect(listed.body).toEqual([
      expect.objectContaining({ userId: POOL_ID, can_manage_topics: false }),
    ]);

    const wrongStatus = await post({ chatId: h.group, userId: POOL_ID, status: 'kicked' });
    expect(wrongStatus.status).toBe(400);
    expect(wrongStatus.body).toMatchObject({ ok: false, code: 'BAD_REQUEST' });
    h.sandbox.state.injectMessage({
      chatId: 4242,
      text: 'hi',
      from: { id: 4242, first_name: 'V' },
    });
    const privateChat = await post({ chatId: 4242, userId: POOL_ID, status: 'left' });
    expect(privateChat).toMatchObject({ status: 400, body: { code: 'MEMBER_CHAT_INVALID' } });
    const unknownChat = await post({ chatId: -100777, userId: POOL_ID, status: 'left' });
    expect(unknownChat).toMatchObject({ status: 400, body: { code: 'CHAT_NOT_FOUND' } });
  });

  it('forgets membership on reset: every bot is an administrator again', async () => {
    h.sandbox.state.setMember(h.group, POOL_ID, 'left');
    h.sandbox.state.reset();
    expect(await pool.api.getChatMember(h.group, POOL_ID)).toMatchObject({
      status: 'administrator',
    });
  });
});

describe('callback queries and updates per bot', () => {
  it('sends a button press to the bot that sent the keyboard, and only that bot may answer it', async () => {
    const { message_thread_id: thread } = await h.bot.api.createForumTopic(h.group, 'Buttons');
    const byMain = await h.bot.api.sendMessage(h.group, 'main', {
      message_thread_id: thread,
      ...keyboard('main-button'),
    });
    const byPool = await pool.api.sendMessage(h.group, 'pool', {
      message_thread_id: thread,
      ...keyboard('pool-button'),
    });
    const poolPress = h.sandbox.state.pressButton({
      chatId: h.group,
      messageId: byPool.message_id,
      data: 'pool-button',
      from: { id: AGENT.id, is_bot: false, first_name: AGENT.first_name },
    });
    const mainPress = h.sandbox.state.pressButton({
      chatId: h.group,
      messageId: byMain.message_id,
      data: 'main-button',
      from: { id: AGENT.id, is_bot: false, first_name: AGENT.first_name },
    });

    const poolQueries = (await pool.api.getUpdates()).flatMap((u) =>
      u.callback_query ? [u.callback_query] : [],
    );
    expect(poolQueries.map((q) => [q.id, q.data])).toEqual([[poolPress, 'pool-button']]);
    const mainQueries = (await h.bot.api.getUpdates()).flatMap((u) =>
      u.callback_query ? [u.callback_query] : [],
    );
    expect(mainQueries.map((q) => [q.id, q.data])).toEqual([[mainPress, 'main-button']]);

    expect(await failure(h.bot.api.answerCallbackQuery(poolPress))).toMatchObject({
      error_code: 400,
    });
    await pool.api.answerCallbackQuery(poolPress, { text: 'done' });
    expect(h.sandbox.state.callbackAnswer(poolPress)).toMatchObject({ text: 'done' });
    // Only the sender may edit its message, too.
    expect(
      await failure(h.bot.api.editMessageText(h.group, byPool.message_id, 'taken over')),
    ).toMatchObject({ error_code: 400, description: "Bad Request: message can't be edited" });
  });

  it('gives a pool bot polling with allowed_updates ["callback_query"] only its button presses', async () => {
    // The pool bot sets its filter before anything happens; the main bot keeps Telegram's default.
    expect(await pool.api.getUpdates({ allowed_updates: ['callback_query'] })).toEqual([]);
    const { message_thread_id: thread } = await h.bot.api.createForumTopic(h.group, 'Filtered');
    const sent = await pool.api.sendMessage(h.group, 'press me', {
      message_thread_id: thread,
      ...keyboard('go'),
    });
    h.sandbox.state.injectMessage({
      chatId: h.group,
      text: 'an agent writes',
      from: AGENT,
      messageThreadId: thread,
    });
    h.sandbox.state.pressButton({
      chatId: h.group,
      messageId: sent.message_id,
      data: 'go',
      from: { id: AGENT.id, is_bot: false, first_name: AGENT.first_name },
    });
    const poolUpdates = await pool.api.getUpdates();
    expect(poolUpdates.map((u) => Object.keys(u).filter((k) => k !== 'update_id'))).toEqual([
      ['callback_query'],
    ]);
    const mainUpdates = await h.bot.api.getUpdates();
    expect(mainUpdates.map((u) => u.message?.text ?? 'service')).toEqual([
      'service',
      'an agent writes',
    ]);
  });

  it('delivers to each bot its own webhook, with its own allowed_updates and secret', async () => {
    const mainHook = await startWebhookReceiver();
    const poolHook = await startWebhookReceiver();
    try {
      await h.bot.api.setWebhook(mainHook.url, { secret_token: 'main-secret' });
      await pool.api.setWebhook(poolHook.url, {
        secret_token: 'pool-secret',
        allowed_updates: ['callback_query'],
      });
      const { message_thread_id: thread } = await h.bot.api.createForumTopic(h.group, 'Hooks');
      const sent = await pool.api.sendMessage(h.group, 'press', {
        message_thread_id: thread,
        ...keyboard('hook'),
      });
      h.sandbox.state.injectMessage({
        chatId: h.group,
        text: 'to the main bot',
        from: AGENT,
        messageThreadId: thread,
      });
      h.sandbox.state.pressButton({
        chatId: h.group,
        messageId: sent.message_id,
        data: 'hook',
        from: { id: AGENT.id, is_bot: false, first_name: AGENT.first_name },
      });
      await h.sandbox.state.waitFor(
        () => mainHook.received.length >= 2 && poolHook.received.length >= 1,
      );
      expect(poolHook.received.map((r) => r.headers['x-telegram-bot-api-secret-token'])).toEqual([
        'pool-secret',
      ]);
      expect(poolHook.received[0]?.body).toHaveProperty('callback_query.data', 'hook');
      expect(mainHook.received.map((r) => r.headers['x-telegram-bot-api-secret-token'])).toEqual([
        'main-secret',
        'main-secret',
      ]);
      expect(mainHook.received.map((r) => Object.keys(r.body).sort())).toEqual([
        ['message', 'update_id'],
        ['message', 'update_id'],
      ]);
      expect(await pool.api.getWebhookInfo()).toMatchObject({
        url: poolHook.url,
        allowed_updates: ['callback_query'],
      });
    } finally {
      await mainHook.close();
      await poolHook.close();
    }
  });

  it('keeps two pool bots apart: each sees only its own presses', async () => {
    const other = new Bot(OTHER_POOL_TOKEN, { client: { apiRoot: h.sandbox.url } });
    const a = await pool.api.sendMessage(h.group, 'a', keyboard('a'));
    const b = await other.api.sendMessage(h.group, 'b', keyboard('b'));
    for (const [message, data] of [
      [a, 'a'],
      [b, 'b'],
    ] as const) {
      h.sandbox.state.pressButton({
        chatId: h.group,
        messageId: message.message_id,
        data,
        from: { id: AGENT.id, is_bot: false, first_name: AGENT.first_name },
      });
    }
    const data = async (bot: Bot) =>
      (await bot.api.getUpdates({ allowed_updates: ['callback_query'] })).map(
        (u) => u.callback_query?.data,
      );
    expect(await data(pool)).toEqual(['a']);
    expect(await data(other)).toEqual(['b']);
  });
});
