import { Bot, GrammyError } from 'grammy';
import { afterEach, describe, expect, it } from 'vitest';
import { rawCall, startHarness, TOKEN, VISITOR, type Harness } from './fixtures';

let h: Harness | undefined;

afterEach(async () => {
  await h?.sandbox.close();
  h = undefined;
});

describe('flood limits', () => {
  it('refuses the 21st message to the group within the window with 429 and retry_after, storing nothing', async () => {
    // Per-chat and global limits out of the way; the group window is Telegram's minute.
    h = await startHarness({
      limits: { enabled: true, perChatPerSecond: 1000, globalPerSecond: 1000 },
    });
    const { bot, group, sandbox } = h;
    const { message_thread_id: thread } = await bot.api.createForumTopic(group, 'Busy');
    // createForumTopic counts too: 19 messages fill the group's 20.
    for (let i = 1; i <= 19; i += 1)
      await bot.api.sendMessage(group, `m${i}`, { message_thread_id: thread });

    const refused = await rawCall(sandbox.url, `/bot${TOKEN}/sendMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ chat_id: group, text: 'one too many', message_thread_id: thread }),
    });
    expect(refused.status).toBe(429);
    const retryAfter = (refused.body['parameters'] as { retry_after: number }).retry_after;
    expect(refused.body).toEqual({
      ok: false,
      error_code: 429,
      description: `Too Many Requests: retry after ${retryAfter}`,
      parameters: { retry_after: retryAfter },
    });
    expect(retryAfter).toBeGreaterThanOrEqual(58);
    expect(retryAfter).toBeLessThanOrEqual(60);

    // All topics share the group's budget; grammY surfaces the same error.
    const viaGrammy = await bot.api
      .sendMessage(group, 'General too')
      .catch((error: unknown) => error);
    expect(viaGrammy).toBeInstanceOf(GrammyError);
    expect(viaGrammy).toMatchObject({
      error_code: 429,
      parameters: { retry_after: expect.any(Number) as number },
    });

    expect(
      sandbox.state.messages({ threadId: thread, fromBot: true }).filter((view) => view.text),
    ).toHaveLength(19);
    expect(sandbox.state.messages({ threadId: 1 })).toHaveLength(0);
    expect(sandbox.state.rateLimited()).toEqual({ sendMessage: 2 });
    expect(
      sandbox.state.calls({ method: 'sendMessage' }).filter((call) => call.status === 429),
    ).toHaveLength(2);

    // Reads and other chats are not limited by the group budget.
    await bot.api.getChat(group);
    sandbox.state.injectMessage({ chatId: VISITOR.id, text: 'hi', from: VISITOR });
    await bot.api.sendMessage(VISITOR.id, 'private answers still go');
  });

  it('frees the group budget when the window slides', async () => {
    h = await startHarness({
      limits: {
        enabled: true,
        perChatPerSecond: 1000,
        globalPerSecond: 1000,
        perGroupPerMinute: 2,
        groupWindowMs: 400,
      },
    });
    const { bot, group } = h;
    await bot.api.sendMessage(group, 'a');
    await bot.api.sendMessage(group, 'b');
    const refused = await bot.api.sendMessage(group, 'c').catch((error: unknown) => error);
    expect(refused).toMatchObject({ error_code: 429, parameters: { retry_after: 1 } });
    await new Promise((resolve) => setTimeout(resolve, 450));
    expect(await bot.api.sendMessage(group, 'c')).toMatchObject({ text: 'c' });
  });

  it('allows one message per second to a private chat, in bursts of up to three', async () => {
    h = await startHarness({ limits: { enabled: true } });
    const { bot, sandbox } = h;
    sandbox.state.injectMessage({ chatId: VISITOR.id, text: 'hello', from: VISITOR });
    for (const text of ['first', 'second', 'third']) await bot.api.sendMessage(VISITOR.id, text);
    const fourth = await bot.api.sendMessage(VISITOR.id, 'fourth').catch((error: unknown) => error);
    // Three calls per three seconds: the burst is paid back before the chat takes a fourth.
    expect(fourth).toMatchObject({
      error_code: 429,
      description: 'Too Many Requests: retry after 3',
      parameters: { retry_after: 3 },
    });
    sandbox.state.setLimits({ chatWindowMs: 100 });
    await new Promise((resolve) => setTimeout(resolve, 350));
    expect(await bot.api.sendMessage(VISITOR.id, 'fourth')).toMatchObject({ text: 'fourth' });
    expect(
      sandbox.state.messages({ chatId: VISITOR.id, fromBot: true }).map((view) => view.text),
    ).toEqual(['first', 'second', 'third', 'fourth']);
  });

  it('is off by default and can be turned on through the control API', async () => {
    h = await startHarness();
    const { bot, group, sandbox } = h;
    for (let i = 0; i < 25; i += 1) await bot.api.sendMessage(group, `burst ${i}`);
    const set = await rawCall(sandbox.url, '/sandbox/limits', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ enabled: true, perChatPerSecond: 1, chatBurst: 1 }),
    });
    expect(set.body).toMatchObject({
      enabled: true,
      perGroupPerMinute: 20,
      perChatPerSecond: 1,
      chatBurst: 1,
    });
    await bot.api.sendMessage(group, 'first counted');
    await expect(bot.api.sendMessage(group, 'second counted')).rejects.toMatchObject({
      error_code: 429,
    });
  });

  it('gives each bot in the group its own group budget', async () => {
    h = await startHarness({
      limits: {
        enabled: true,
        perChatPerSecond: 1000,
        globalPerSecond: 1000,
        perGroupPerMinute: 3,
      },
    });
    const { bot, group, sandbox } = h;
    const pool = new Bot('200000002:e2e-sender-02', { client: { apiRoot: sandbox.url } });
    for (let i = 1; i <= 3; i += 1) await bot.api.sendMessage(group, `main ${i}`);
    await expect(bot.api.sendMessage(group, 'main 4')).rejects.toMatchObject({ error_code: 429 });
    // The main bot's spent budget does not hold the pool bot back, nor the other way round.
    for (let i = 1; i <= 3; i += 1) await pool.api.sendMessage(group, `pool ${i}`);
    await expect(pool.api.sendMessage(group, 'pool 4')).rejects.toMatchObject({ error_code: 429 });
    const accepted = sandbox.state
      .calls({ method: 'sendMessage' })
      .filter((call) => call.status === 200)
      .map((call) => call.botId);
    expect(accepted).toEqual([123456, 123456, 123456, 200000002, 200000002, 200000002]);
  });

  it('counts edits, pins and topic changes against the group budget, but not chat actions, getters or button answers', async () => {
    h = await startHarness({
      limits: {
        enabled: true,
        perChatPerSecond: 1000,
        globalPerSecond: 1000,
        perGroupPerMinute: 7,
      },
    });
    const { bot, group, sandbox } = h;
    const { message_thread_id: thread } = await bot.api.createForumTopic(group, 'Counted'); // 1
    const header = await bot.api.sendMessage(group, 'header', {
      message_thread_id: thread,
      reply_markup: { inline_keyboard: [[{ text: 'Close', callback_data: 'close' }]] },
    }); // 2
    await bot.api.pinChatMessage(group, header.message_id); // 3
    await bot.api.editMessageText(group, header.message_id, 'header, edited', {
      reply_markup: { inline_keyboard: [[{ text: 'Close', callback_data: 'close' }]] },
    }); // 4
    await bot.api.editForumTopic(group, thread, { name: 'Counted, renamed' }); // 5
    await bot.api.closeForumTopic(group, thread); // 6
    await bot.api.reopenForumTopic(group, thread); // 7
    // Free: typing, reads, a button answer.
    await bot.api.sendChatAction(group, 'typing', { message_thread_id: thread });
    await bot.api.getChat(group);
    await bot.api.getChatMember(group, 123456);
    const press = sandbox.state.pressButton({
      chatId: group,
      messageId: header.message_id,
      data: 'close',
      from: { id: 7001, is_bot: false, first_name: 'Alice' },
    });
    await bot.api.answerCallbackQuery(press);
    await expect(
      bot.api.sendMessage(group, 'the eighth', { message_thread_id: thread }),
    ).rejects.toMatchObject({ error_code: 429 });
    await expect(bot.api.unpinChatMessage(group, header.message_id)).resolves.toBe(true);
    expect(sandbox.state.calls().filter((call) => call.status === 429)).toHaveLength(1);
  });
});
