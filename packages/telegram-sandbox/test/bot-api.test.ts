import { createHmac } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AGENT,
  BOT_ID,
  failure,
  rawCall,
  startHarness,
  TOKEN,
  VISITOR,
  type Harness,
} from './fixtures';

let h: Harness;

beforeEach(async () => {
  h = await startHarness();
});

afterEach(async () => {
  await h.sandbox.close();
});

describe('identity and routing', () => {
  it('answers getMe with the bot made from the token', async () => {
    const me = await h.bot.api.getMe();
    expect(me).toMatchObject({
      id: BOT_ID,
      is_bot: true,
      first_name: 'Sandbox Bot',
      username: `sandbox_${BOT_ID}_bot`,
    });
  });

  it('refuses a malformed token with 401 and an unknown method with 404', async () => {
    const unauthorized = await rawCall(h.sandbox.url, '/botnot-a-token/getMe');
    expect(unauthorized).toEqual({
      status: 401,
      body: { ok: false, error_code: 401, description: 'Unauthorized' },
    });
    const unknown = await rawCall(h.sandbox.url, `/bot${TOKEN}/sendTelepathy`, { method: 'POST' });
    expect(unknown).toEqual({
      status: 404,
      body: { ok: false, error_code: 404, description: 'Not Found' },
    });
  });

  it('reads form-encoded and query string parameters as Telegram does', async () => {
    const topic = await rawCall(
      h.sandbox.url,
      `/bot${TOKEN}/createForumTopic?chat_id=${h.group}&name=From%20a%20query`,
    );
    expect(topic.body).toMatchObject({ ok: true, result: { name: 'From a query' } });
    const threadId = (topic.body['result'] as { message_thread_id: number }).message_thread_id;
    const form = new URLSearchParams({
      chat_id: String(h.group),
      message_thread_id: String(threadId),
      text: '123',
      reply_markup: JSON.stringify({ inline_keyboard: [[{ text: 'OK', callback_data: 'ok' }]] }),
    });
    const sent = await rawCall(h.sandbox.url, `/bot${TOKEN}/sendMessage`, {
      method: 'POST',
      body: form,
    });
    expect(sent.status).toBe(200);
    expect(sent.body['result']).toMatchObject({
      text: '123',
      message_thread_id: threadId,
      is_topic_message: true,
      reply_markup: { inline_keyboard: [[{ text: 'OK', callback_data: 'ok' }]] },
    });
  });

  it('knows the bot as an administrator that can manage topics', async () => {
    const member = await h.bot.api.getChatMember(h.group, BOT_ID);
    expect(member).toMatchObject({ status: 'administrator', can_manage_topics: true });
    const admins = await h.bot.api.getChatAdministrators(h.group);
    expect(admins.map((admin) => admin.user.id)).toContain(BOT_ID);
    const chat = await h.bot.api.getChat(h.group);
    expect(chat).toMatchObject({
      id: h.group,
      type: 'supergroup',
      title: 'Support (sandbox)',
      is_forum: true,
    });
    expect((await failure(h.bot.api.getChat(-100999))).description).toBe(
      'Bad Request: chat not found',
    );
  });
});

describe('forum topics', () => {
  it('creates a topic whose id is its service message, announced to the bot', async () => {
    const topic = await h.bot.api.createForumTopic(h.group, 'Visitor #1', { icon_color: 0xffd67e });
    expect(topic).toEqual({ message_thread_id: 2, name: 'Visitor #1', icon_color: 0xffd67e });
    const [service] = h.sandbox.state.messages({ threadId: topic.message_thread_id });
    expect(service?.message).toMatchObject({
      message_id: topic.message_thread_id,
      message_thread_id: topic.message_thread_id,
      is_topic_message: true,
      forum_topic_created: { name: 'Visitor #1', icon_color: 0xffd67e },
    });
    const updates = await h.bot.api.getUpdates();
    expect(updates.map((update) => update.message?.forum_topic_created?.name)).toEqual([
      'Visitor #1',
    ]);
  });

  it('refuses bad names, non-forum chats and unknown chats', async () => {
    expect((await failure(h.bot.api.createForumTopic(h.group, ''))).description).toBe(
      'Bad Request: TOPIC_NAME_INVALID',
    );
    expect((await failure(h.bot.api.createForumTopic(h.group, 'x'.repeat(129)))).description).toBe(
      'Bad Request: TOPIC_NAME_INVALID',
    );
    expect(await h.bot.api.createForumTopic(h.group, 'x'.repeat(128))).toMatchObject({
      name: 'x'.repeat(128),
    });
    h.sandbox.state.injectMessage({ chatId: VISITOR.id, text: 'hi', from: VISITOR });
    const notForum = await failure(h.bot.api.createForumTopic(VISITOR.id, 'Nope'));
    expect([notForum.error_code, notForum.description]).toEqual([
      400,
      'Bad Request: the chat is not a forum',
    ]);
    expect((await failure(h.bot.api.createForumTopic(-100555, 'Nope'))).description).toBe(
      'Bad Request: chat not found',
    );
  });

  it('edits, closes, reopens and deletes a topic with service messages and TOPIC_NOT_MODIFIED', async () => {
    const { message_thread_id: thread } = await h.bot.api.createForumTopic(h.group, 'Ticket');
    await h.bot.api.editForumTopic(h.group, thread, { name: 'Ticket (Bob)' });
    expect(
      (await failure(h.bot.api.editForumTopic(h.group, thread, { name: 'Ticket (Bob)' })))
        .description,
    ).toBe('Bad Request: TOPIC_NOT_MODIFIED');
    await h.bot.api.closeForumTopic(h.group, thread);
    expect((await failure(h.bot.api.closeForumTopic(h.group, thread))).description).toBe(
      'Bad Request: TOPIC_NOT_MODIFIED',
    );
    expect(h.sandbox.state.topics()[0]).toMatchObject({
      name: 'Ticket (Bob)',
      closed: true,
      deleted: false,
    });
    await h.bot.api.reopenForumTopic(h.group, thread);
    expect((await failure(h.bot.api.reopenForumTopic(h.group, thread))).description).toBe(
      'Bad Request: TOPIC_NOT_MODIFIED',
    );
    expect(h.sandbox.state.messages({ threadId: thread }).map((view) => view.service)).toEqual([
      'forum_topic_created',
      'forum_topic_edited',
      'forum_topic_closed',
      'forum_topic_reopened',
    ]);
    const updates = await h.bot.api.getUpdates();
    expect(
      updates.map((update) =>
        Object.keys(update.message ?? {}).find((key) => key.startsWith('forum_topic')),
      ),
    ).toEqual([
      'forum_topic_created',
      'forum_topic_edited',
      'forum_topic_closed',
      'forum_topic_reopened',
    ]);

    await h.bot.api.sendMessage(h.group, 'bye', { message_thread_id: thread });
    await h.bot.api.deleteForumTopic(h.group, thread);
    expect(h.sandbox.state.topics()[0]).toMatchObject({ deleted: true });
    expect(h.sandbox.state.messages({ threadId: thread })).toEqual([]);
    expect(
      (await failure(h.bot.api.sendMessage(h.group, 'again', { message_thread_id: thread })))
        .description,
    ).toBe('Bad Request: message thread not found');
  });
});

describe('sendMessage', () => {
  it('returns a full Message in the topic, replying to the topic root as Telegram does', async () => {
    const { message_thread_id: thread } = await h.bot.api.createForumTopic(h.group, 'Ticket');
    const message = await h.bot.api.sendMessage(h.group, 'Hello from the bridge', {
      message_thread_id: thread,
      reply_markup: { inline_keyboard: [[{ text: 'Close', callback_data: 'close:1' }]] },
    });
    expect(message).toMatchObject({
      message_id: thread + 1,
      from: {
        id: BOT_ID,
        is_bot: true,
        first_name: 'Sandbox Bot',
        username: `sandbox_${BOT_ID}_bot`,
      },
      chat: { id: h.group, type: 'supergroup', is_forum: true },
      text: 'Hello from the bridge',
      message_thread_id: thread,
      is_topic_message: true,
      reply_to_message: { message_id: thread, forum_topic_created: { name: 'Ticket' } },
      reply_markup: { inline_keyboard: [[{ text: 'Close', callback_data: 'close:1' }]] },
    });
    expect(Math.abs(message.date - Date.now() / 1000)).toBeLessThan(5);
    const next = await h.bot.api.sendMessage(h.group, 'again', { message_thread_id: thread });
    expect(next.message_id).toBe(message.message_id + 1);
  });

  it('does not deliver the bot its own messages', async () => {
    await h.bot.api.sendMessage(h.group, 'to General');
    expect(await h.bot.api.getUpdates()).toEqual([]);
    expect(
      h.sandbox.state.messages({ threadId: 1, fromBot: true }).map((view) => view.text),
    ).toEqual(['to General']);
  });

  it('refuses thread 1, unknown threads, closed topics, empty and too long texts', async () => {
    const { message_thread_id: thread } = await h.bot.api.createForumTopic(h.group, 'Ticket');
    const general = await failure(h.bot.api.sendMessage(h.group, 'hi', { message_thread_id: 1 }));
    expect([general.error_code, general.description]).toEqual([
      400,
      'Bad Request: message thread not found',
    ]);
    expect(
      (await failure(h.bot.api.sendMessage(h.group, 'hi', { message_thread_id: 999 }))).description,
    ).toBe('Bad Request: message thread not found');
    await h.bot.api.closeForumTopic(h.group, thread);
    expect(
      (await failure(h.bot.api.sendMessage(h.group, 'hi', { message_thread_id: thread })))
        .description,
    ).toBe('Bad Request: TOPIC_CLOSED');
    expect((await failure(h.bot.api.sendMessage(h.group, ''))).description).toBe(
      'Bad Request: message text is empty',
    );
    expect((await failure(h.bot.api.sendMessage(h.group, 'x'.repeat(4097)))).description).toBe(
      'Bad Request: message is too long',
    );
    expect(await h.bot.api.sendMessage(h.group, 'x'.repeat(4096))).toMatchObject({
      text: 'x'.repeat(4096),
    });
    expect((await failure(h.bot.api.sendMessage(-100404, 'hi'))).description).toBe(
      'Bad Request: chat not found',
    );
    const failed = h.sandbox.state
      .calls({ method: 'sendMessage' })
      .filter((call) => call.status === 400);
    expect(failed).toHaveLength(6);
    expect(h.sandbox.state.messages({ fromBot: true, threadId: 1 })).toHaveLength(1);
  });

  it('parses HTML and MarkdownV2 into entities and refuses broken markup', async () => {
    const html = await h.bot.api.sendMessage(
      h.group,
      '<b>Order</b> &lt;42&gt; <a href="https://x.test/?a=1&amp;b=2">link</a>',
      {
        parse_mode: 'HTML',
      },
    );
    expect(html.text).toBe('Order <42> link');
    expect(html.entities).toEqual([
      { type: 'bold', offset: 0, length: 5 },
      { type: 'text_link', offset: 11, length: 4, url: 'https://x.test/?a=1&b=2' },
    ]);
    expect(
      (await failure(h.bot.api.sendMessage(h.group, '<b>open', { parse_mode: 'HTML' })))
        .description,
    ).toMatch(
      /^Bad Request: can't parse entities: Can't find end tag corresponding to start tag "b"/,
    );
    const md = await h.bot.api.sendMessage(h.group, '*Total:* 4\\.20 €', {
      parse_mode: 'MarkdownV2',
    });
    expect(md.text).toBe('Total: 4.20 €');
    expect(md.entities).toEqual([{ type: 'bold', offset: 0, length: 6 }]);
    expect(
      (await failure(h.bot.api.sendMessage(h.group, 'Total: 4.20', { parse_mode: 'MarkdownV2' })))
        .description,
    ).toBe(
      "Bad Request: can't parse entities: Character '.' is reserved and must be escaped with the preceding '\\' at byte offset 8",
    );
  });

  it('answers a reply in General with the chain root as message_thread_id but no is_topic_message', async () => {
    const agentMessage = h.sandbox.state.injectMessage({
      chatId: h.group,
      text: 'question',
      from: AGENT,
    });
    expect(agentMessage.message_thread_id).toBeUndefined();
    expect(agentMessage.is_topic_message).toBeUndefined();
    const reply = await h.bot.api.sendMessage(h.group, 'answer', {
      reply_parameters: { message_id: agentMessage.message_id },
    });
    expect(reply.message_thread_id).toBe(agentMessage.message_id);
    expect(reply.is_topic_message).toBeUndefined();
    expect(reply.reply_to_message?.message_id).toBe(agentMessage.message_id);
    expect(
      (
        await failure(
          h.bot.api.sendMessage(h.group, 'x', { reply_parameters: { message_id: 9999 } }),
        )
      ).description,
    ).toBe('Bad Request: message to be replied not found');
  });
});

describe('editing, deleting, pinning', () => {
  it('edits a bot message and refuses unknown, foreign and unchanged edits', async () => {
    const sent = await h.bot.api.sendMessage(h.group, 'draft');
    const edited = await h.bot.api.editMessageText(h.group, sent.message_id, 'final');
    expect(edited).toMatchObject({ message_id: sent.message_id, text: 'final' });
    expect(typeof (edited as { edit_date?: number }).edit_date).toBe('number');
    expect(h.sandbox.state.messages({ fromBot: true })[0]?.edits.map((edit) => edit.text)).toEqual([
      'draft',
    ]);

    const notModified = await failure(h.bot.api.editMessageText(h.group, sent.message_id, 'final'));
    expect(notModified.description).toMatch(/^Bad Request: message is not modified: /);
    expect((await failure(h.bot.api.editMessageText(h.group, 9999, 'x'))).description).toBe(
      'Bad Request: message to edit not found',
    );
    const agentMessage = h.sandbox.state.injectMessage({
      chatId: h.group,
      text: 'mine',
      from: AGENT,
    });
    expect(
      (await failure(h.bot.api.editMessageText(h.group, agentMessage.message_id, 'x'))).description,
    ).toBe("Bad Request: message can't be edited");
    expect(
      (await failure(h.bot.api.editMessageText(h.group, sent.message_id, ''))).description,
    ).toBe('Bad Request: message text is empty');

    const keyboard = { inline_keyboard: [[{ text: 'Take', callback_data: 'take' }]] };
    const withMarkup = await h.bot.api.editMessageReplyMarkup(h.group, sent.message_id, {
      reply_markup: keyboard,
    });
    expect(withMarkup).toMatchObject({ text: 'final', reply_markup: keyboard });
    expect(
      (
        await failure(
          h.bot.api.editMessageReplyMarkup(h.group, sent.message_id, { reply_markup: keyboard }),
        )
      ).description,
    ).toMatch(/^Bad Request: message is not modified/);
  });

  it('pins, unpins and deletes messages but never a topic creation message', async () => {
    const { message_thread_id: thread } = await h.bot.api.createForumTopic(h.group, 'Ticket');
    const sent = await h.bot.api.sendMessage(h.group, 'pin me', { message_thread_id: thread });
    await h.bot.api.pinChatMessage(h.group, sent.message_id);
    expect(
      h.sandbox.state
        .messages({ threadId: thread })
        .find((view) => view.messageId === sent.message_id)?.pinned,
    ).toBe(true);
    await h.bot.api.unpinChatMessage(h.group, sent.message_id);
    expect(h.sandbox.state.messages({ threadId: thread }).some((view) => view.pinned)).toBe(false);
    expect((await failure(h.bot.api.pinChatMessage(h.group, 9999))).description).toBe(
      'Bad Request: message to pin not found',
    );

    await h.bot.api.deleteMessage(h.group, sent.message_id);
    expect((await failure(h.bot.api.deleteMessage(h.group, sent.message_id))).description).toBe(
      'Bad Request: message to delete not found',
    );
    expect((await failure(h.bot.api.deleteMessage(h.group, thread))).description).toBe(
      "Bad Request: message can't be deleted",
    );
  });
});

describe('callback queries', () => {
  it('delivers a pressed button as callback_query and accepts one answer', async () => {
    const { message_thread_id: thread } = await h.bot.api.createForumTopic(h.group, 'Ticket');
    const sent = await h.bot.api.sendMessage(h.group, 'Take this conversation?', {
      message_thread_id: thread,
      reply_markup: { inline_keyboard: [[{ text: 'Take', callback_data: 'take:42' }]] },
    });
    const offset = (await h.bot.api.getUpdates()).at(-1)?.update_id ?? 0;
    const id = h.sandbox.state.pressButton({
      chatId: h.group,
      messageId: sent.message_id,
      data: 'take:42',
      from: { ...AGENT, is_bot: false },
    });
    const [update] = await h.bot.api.getUpdates({ offset: offset + 1 });
    expect(update?.callback_query).toMatchObject({
      id,
      data: 'take:42',
      from: { id: AGENT.id, first_name: 'Alice' },
      message: { message_id: sent.message_id, message_thread_id: thread, is_topic_message: true },
    });
    expect(typeof update?.callback_query?.chat_instance).toBe('string');

    await h.bot.api.answerCallbackQuery(id, { text: 'Taken' });
    expect(h.sandbox.state.callbackAnswer(id)).toMatchObject({ text: 'Taken', showAlert: false });
    const again = await failure(h.bot.api.answerCallbackQuery(id));
    expect(again.description).toBe(
      'Bad Request: query is too old and response timeout expired or query ID is invalid',
    );
    expect((await failure(h.bot.api.answerCallbackQuery('123'))).error_code).toBe(400);
  });

  it('refuses a press on a button the message does not have (control API)', async () => {
    const sent = await h.bot.api.sendMessage(h.group, 'no buttons');
    const response = await rawCall(h.sandbox.url, '/sandbox/callback', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ chatId: h.group, messageId: sent.message_id, data: 'x', from: AGENT }),
    });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ ok: false, code: 'BUTTON_NOT_FOUND' });
  });
});

describe('control API', () => {
  it('injects agent and visitor messages that reach the bot as updates', async () => {
    const { message_thread_id: thread } = await h.bot.api.createForumTopic(h.group, 'Ticket');
    const post = (path: string, body: unknown) =>
      rawCall(h.sandbox.url, path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const inTopic = await post('/sandbox/messages', {
      chatId: h.group,
      text: 'On it',
      from: AGENT,
      messageThreadId: thread,
    });
    expect(inTopic.status).toBe(200);
    expect(inTopic.body).toMatchObject({
      message_thread_id: thread,
      is_topic_message: true,
      text: 'On it',
    });
    const general = await post('/sandbox/messages', {
      chatId: h.group,
      text: 'Hi all',
      from: AGENT,
    });
    expect(general.body['message_thread_id']).toBeUndefined();
    expect(general.body['is_topic_message']).toBeUndefined();
    const privateChat = await post('/sandbox/messages', {
      chatId: VISITOR.id,
      text: 'Hello?',
      from: VISITOR,
    });
    expect(privateChat.body).toMatchObject({
      message_id: 1,
      chat: { id: VISITOR.id, type: 'private' },
    });
    const edited = await post('/sandbox/messages/edit', {
      chatId: h.group,
      messageId: inTopic.body['message_id'],
      text: 'On it now',
    });
    expect(edited.body).toMatchObject({ text: 'On it now' });

    const updates = await h.bot.api.getUpdates();
    expect(
      updates.map((update) => update.message?.text ?? update.edited_message?.text ?? null),
    ).toEqual([
      null, // forum_topic_created
      'On it',
      'Hi all',
      'Hello?',
      'On it now',
    ]);
    expect(updates[4]?.edited_message?.edit_date).toBeTypeOf('number');

    await h.bot.api.closeForumTopic(h.group, thread);
    const refused = await post('/sandbox/messages', {
      chatId: h.group,
      text: 'not an admin',
      from: { id: 8001, first_name: 'Eve', isAdmin: false },
      messageThreadId: thread,
    });
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({
      code: 'TOPIC_CLOSED',
      description: 'Bad Request: TOPIC_CLOSED',
    });
    const admin = await post('/sandbox/messages', {
      chatId: h.group,
      text: 'admins may',
      from: AGENT,
      messageThreadId: thread,
    });
    expect(admin.status).toBe(200);

    const listed = await fetch(
      `${h.sandbox.url}/sandbox/messages?chatId=${h.group}&threadId=${thread}&fromBot=false`,
    );
    const views = (await listed.json()) as Array<{ text: string; edits: Array<{ text: string }> }>;
    expect(views.map((view) => view.text)).toEqual(['On it now', 'admins may']);
    expect(views[0]?.edits.map((edit) => edit.text)).toEqual(['On it']);

    const calls = (await (
      await fetch(`${h.sandbox.url}/sandbox/calls?method=closeForumTopic`)
    ).json()) as {
      calls: Array<{ method: string; status: number }>;
    };
    expect(calls.calls).toEqual([
      expect.objectContaining({ method: 'closeForumTopic', status: 200 }),
    ]);

    await post('/sandbox/reset', {});
    const state = (await (await fetch(`${h.sandbox.url}/sandbox/state`)).json()) as {
      topics: unknown[];
      chats: Array<{ id: number }>;
    };
    expect(state.topics).toEqual([]);
    expect(state.chats.map((chat) => chat.id)).toEqual([h.group]);
  });

  it('serves the agent page, which renders chat text with textContent only', async () => {
    const response = await fetch(`${h.sandbox.url}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('content-security-policy')).toMatch(/script-src 'nonce-/);
    const html = await response.text();
    expect(html).toContain('sandbox/messages');
    expect(html).not.toMatch(/innerHTML|insertAdjacentHTML|document\.write/);
  });
});

describe('reactions', () => {
  it('sets, moves and removes a bot reaction on a message, keeping others’ and exposing them', async () => {
    const { message_thread_id: thread } = await h.bot.api.createForumTopic(h.group, 'Seen');
    const reply = h.sandbox.state.injectMessage({
      chatId: h.group,
      messageThreadId: thread,
      text: 'Hello from support',
      from: AGENT,
    });
    const later = h.sandbox.state.injectMessage({
      chatId: h.group,
      messageThreadId: thread,
      text: 'Anything else?',
      from: AGENT,
    });
    const reactionsOf = (messageId: number) =>
      h.sandbox.state.messages({ threadId: thread }).find((v) => v.messageId === messageId)
        ?.reactions;

    expect(
      await h.bot.api.setMessageReaction(h.group, reply.message_id, [
        { type: 'emoji', emoji: '👀' },
      ]),
    ).toBe(true);
    expect(reactionsOf(reply.message_id)).toEqual([{ userId: BOT_ID, emoji: '👀', isBig: false }]);
    // A second call replaces the bot's reaction on that message; another message is its own.
    await h.bot.api.setMessageReaction(
      h.group,
      reply.message_id,
      [{ type: 'emoji', emoji: '👍' }],
      {
        is_big: true,
      },
    );
    await h.bot.api.setMessageReaction(h.group, later.message_id, [{ type: 'emoji', emoji: '👀' }]);
    expect(reactionsOf(reply.message_id)).toEqual([{ userId: BOT_ID, emoji: '👍', isBig: true }]);
    expect(reactionsOf(later.message_id)).toEqual([{ userId: BOT_ID, emoji: '👀', isBig: false }]);
    // No reaction removes the bot's own.
    await h.bot.api.setMessageReaction(h.group, reply.message_id, []);
    expect(reactionsOf(reply.message_id)).toEqual([]);

    // Over HTTP, as the agent page reads them.
    const views = await rawCall(h.sandbox.url, `/sandbox/messages?chatId=${h.group}`);
    expect(views.body).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          messageId: later.message_id,
          reactions: [{ userId: BOT_ID, emoji: '👀', isBig: false }],
        }),
      ]),
    );
  });

  it('refuses what Telegram refuses with its descriptions', async () => {
    const sent = await h.bot.api.sendMessage(h.group, 'react to me');
    const react = (messageId: number, reaction: unknown) =>
      rawCall(h.sandbox.url, `/bot${TOKEN}/setMessageReaction`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ chat_id: h.group, message_id: messageId, reaction }),
      });
    const refused = (description: string) => ({
      status: 400,
      body: { ok: false, error_code: 400, description },
    });
    expect(await react(9999, [{ type: 'emoji', emoji: '👀' }])).toEqual(
      refused('Bad Request: message to react not found'),
    );
    for (const reaction of [
      [{ type: 'emoji', emoji: '🦆' }],
      [{ type: 'emoji' }],
      [{ type: 'custom_emoji', custom_emoji_id: '5368324170671202286' }],
      [{ type: 'paid' }],
      ['👀'],
    ]) {
      expect(await react(sent.message_id, reaction), JSON.stringify(reaction)).toEqual(
        refused('Bad Request: REACTION_INVALID'),
      );
    }
    expect(
      await react(sent.message_id, [
        { type: 'emoji', emoji: '👀' },
        { type: 'emoji', emoji: '👍' },
      ]),
    ).toEqual(refused('Bad Request: REACTIONS_TOO_MANY'));
    expect(h.sandbox.state.messages({ fromBot: true })[0]?.reactions).toEqual([]);
  });

  it('counts reactions in the group budget like other group calls', async () => {
    await h.sandbox.close();
    h = await startHarness({
      limits: {
        enabled: true,
        perGroupPerMinute: 2,
        perChatPerSecond: 1000,
        globalPerSecond: 1000,
      },
    });
    const sent = await h.bot.api.sendMessage(h.group, 'one');
    await h.bot.api.setMessageReaction(h.group, sent.message_id, [{ type: 'emoji', emoji: '👀' }]);
    const third = await failure(
      h.bot.api.setMessageReaction(h.group, sent.message_id, [{ type: 'emoji', emoji: '👍' }]),
    );
    expect(third.error_code).toBe(429);
    expect(h.sandbox.state.rateLimited()).toEqual({ setMessageReaction: 1 });
  });
});

describe('Mini App buttons', () => {
  it('takes web_app buttons over https only, and opens one with initData signed by the bot', async () => {
    h.sandbox.state.injectMessage({ chatId: VISITOR.id, text: '/start', from: VISITOR });
    const http = await failure(
      h.bot.api.sendMessage(VISITOR.id, 'Open', {
        reply_markup: { inline_keyboard: [[{ text: 'App', web_app: { url: 'http://a.test/' } }]] },
      }),
    );
    expect(http.description).toBe('Bad Request: BUTTON_URL_INVALID');
    const sent = await h.bot.api.sendMessage(VISITOR.id, 'Open', {
      reply_markup: {
        inline_keyboard: [[{ text: 'App', web_app: { url: 'https://a.test/app' } }]],
      },
    });
    const opened = h.sandbox.state.openMiniApp({
      chatId: VISITOR.id,
      messageId: sent.message_id,
      from: { ...VISITOR, is_bot: false },
    });
    expect(opened.url).toBe('https://a.test/app');
    const fields = new URLSearchParams(opened.initData);
    expect(JSON.parse(fields.get('user')!)).toMatchObject({ id: VISITOR.id });
    expect(Math.abs(Number(fields.get('auth_date')) - Date.now() / 1000)).toBeLessThan(5);
    // Signed as Telegram documents it, with the token the bot calls with.
    const hash = fields.get('hash')!;
    fields.delete('hash');
    const check = [...fields]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => `${k}=${v}`)
      .join('\n');
    const key = createHmac('sha256', 'WebAppData').update(TOKEN).digest();
    expect(createHmac('sha256', key).update(check).digest('hex')).toBe(hash);
    // A message without such a button opens nothing.
    const plain = await h.bot.api.sendMessage(VISITOR.id, 'No app');
    expect(() =>
      h.sandbox.state.openMiniApp({
        chatId: VISITOR.id,
        messageId: plain.message_id,
        from: { ...VISITOR, is_bot: false },
      }),
    ).toThrow(/no button/);
  });
});
