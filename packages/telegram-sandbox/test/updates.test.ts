import { createServer } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import Fastify from 'fastify';
import { GrammyError, webhookCallback } from 'grammy';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AGENT, startHarness, startWebhookReceiver, VISITOR, type Harness } from './fixtures';

let h: Harness;
const cleanups: Array<() => Promise<void>> = [];

beforeEach(async () => {
  h = await startHarness();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
  await h.sandbox.close();
});

/** A port nothing listens on (one that was free a moment ago). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

function inject(text: string) {
  return h.sandbox.state.injectMessage({ chatId: h.group, text, from: AGENT });
}

describe('getUpdates', () => {
  it('long-polls until an update arrives and confirms by offset', async () => {
    const started = Date.now();
    const poll = h.bot.api.getUpdates({ timeout: 10 });
    // Let the poll reach the sandbox and start waiting before the update exists.
    await delay(200);
    inject('first');
    const [first] = await poll;
    expect(first?.message?.text).toBe('first');
    expect(Date.now() - started).toBeLessThan(5_000);

    inject('second');
    // Without an offset nothing is confirmed.
    expect((await h.bot.api.getUpdates()).map((update) => update.message?.text)).toEqual([
      'first',
      'second',
    ]);
    const confirmed = await h.bot.api.getUpdates({ offset: (first?.update_id ?? 0) + 1 });
    expect(confirmed.map((update) => update.message?.text)).toEqual(['second']);
    expect(confirmed[0]?.update_id).toBe((first?.update_id ?? 0) + 1);
    expect(h.sandbox.state.pendingUpdates()).toHaveLength(1);
  });

  it('answers an empty list when the timeout passes', async () => {
    const started = Date.now();
    expect(await h.bot.api.getUpdates({ timeout: 1 })).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('keeps update_id growing and applies limit and negative offsets', async () => {
    for (const text of ['a', 'b', 'c']) inject(text);
    const ids = (await h.bot.api.getUpdates({ limit: 2 })).map((update) => update.update_id);
    expect(ids).toEqual([1, 2]);
    const last = await h.bot.api.getUpdates({ offset: -1 });
    expect(last.map((update) => update.message?.text)).toEqual(['c']);
  });

  it('ends an older long poll with 409 when a newer one arrives, as Telegram does', async () => {
    const older = h.bot.api.getUpdates({ timeout: 10 }).catch((caught: unknown) => caught);
    await delay(200);
    const newer = h.bot.api.getUpdates({ timeout: 10 });
    expect(await older).toMatchObject({
      error_code: 409,
      description:
        'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running',
    });
    inject('for the newer poll');
    expect((await newer).map((update) => update.message?.text)).toEqual(['for the newer poll']);
  });

  it('releases a pending long poll when the sandbox closes', async () => {
    const poll = h.bot.api.getUpdates({ timeout: 30 });
    await delay(200);
    const started = Date.now();
    await h.sandbox.close();
    expect(await poll).toEqual([]);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('answers 409 while a webhook is set', async () => {
    await h.bot.api.setWebhook('http://127.0.0.1:9/unused');
    const error = await h.bot.api.getUpdates().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(GrammyError);
    expect(error).toMatchObject({
      error_code: 409,
      description:
        "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
    });
    await h.bot.api.deleteWebhook();
    expect(await h.bot.api.getUpdates()).toEqual([]);
  });

  it('drives a grammY bot end to end: it answers in the visitor topic', async () => {
    const { message_thread_id: thread } = await h.bot.api.createForumTopic(h.group, 'Visitor');
    h.bot.on('message:text', (ctx) => ctx.reply(`echo: ${ctx.message.text}`));
    const running = h.bot.start({ timeout: 2 });
    cleanups.push(async () => {
      await h.bot.stop();
      await running;
    });
    h.sandbox.state.injectMessage({
      chatId: h.group,
      text: 'ping',
      from: AGENT,
      messageThreadId: thread,
    });
    const reply = await h.sandbox.state.waitFor(() =>
      h.sandbox.state
        .messages({ threadId: thread, fromBot: true })
        .find((view) => view.text === 'echo: ping'),
    );
    expect(reply.message).toMatchObject({ message_thread_id: thread, is_topic_message: true });
  });
});

describe('webhook', () => {
  it('validates the secret token and reports the webhook in getWebhookInfo', async () => {
    const bad = await h.bot.api
      .setWebhook('http://127.0.0.1:9/hook', { secret_token: 'no spaces!' })
      .catch((e: unknown) => e);
    expect(bad).toMatchObject({
      error_code: 400,
      description: 'Bad Request: secret token contains unallowed characters',
    });
    inject('waiting');
    await h.bot.api.setWebhook('http://127.0.0.1:9/hook', {
      secret_token: 's3cr3t_-',
      max_connections: 5,
    });
    const info = await h.bot.api.getWebhookInfo();
    expect(info).toMatchObject({
      url: 'http://127.0.0.1:9/hook',
      has_custom_certificate: false,
      max_connections: 5,
    });
    await h.bot.api.deleteWebhook({ drop_pending_updates: true });
    expect(await h.bot.api.getWebhookInfo()).toEqual({
      url: '',
      has_custom_certificate: false,
      pending_update_count: 0,
    });
  });

  it('posts updates in order with the secret header, retrying a 500 until a 200', async () => {
    const receiver = await startWebhookReceiver([500, 500]);
    cleanups.push(() => receiver.close());
    await h.bot.api.setWebhook(receiver.url, { secret_token: 'topicdesk-secret' });
    inject('one');
    inject('two');
    inject('three');
    await h.sandbox.state.waitFor(
      () => receiver.received.length >= 5 && h.sandbox.state.pendingUpdates().length === 0,
    );

    const texts = receiver.received.map(
      (delivery) => (delivery.body['message'] as { text: string }).text,
    );
    // "one" failed twice, then everything arrived once, in order.
    expect(texts).toEqual(['one', 'one', 'one', 'two', 'three']);
    expect(
      receiver.received.every(
        (delivery) => delivery.headers['x-telegram-bot-api-secret-token'] === 'topicdesk-secret',
      ),
    ).toBe(true);
    expect(
      receiver.received.every(
        (delivery) => delivery.headers['content-type'] === 'application/json',
      ),
    ).toBe(true);
    const ids = receiver.received.slice(2).map((delivery) => delivery.body.update_id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    // Backoff: the first retry waits ~200 ms, the second ~400 ms.
    const [a, b, c] = receiver.received.map((delivery) => delivery.at);
    expect((b ?? 0) - (a ?? 0)).toBeGreaterThanOrEqual(150);
    expect((c ?? 0) - (b ?? 0)).toBeGreaterThanOrEqual(350);

    const info = await h.bot.api.getWebhookInfo();
    expect(info.pending_update_count).toBe(0);
    expect(info.last_error_message).toBe(
      'Wrong response from the webhook: 500 Internal Server Error',
    );
    expect(info.last_error_date).toBeTypeOf('number');
  });

  it('keeps updates pending while the webhook cannot be reached', async () => {
    await h.bot.api.setWebhook(`http://127.0.0.1:${await closedPort()}/hook`);
    inject('lost?');
    await h.sandbox.state.waitFor(
      () => h.sandbox.state.summary().bots[0]?.webhook?.lastErrorMessage,
    );
    const current = await h.bot.api.getWebhookInfo();
    expect(current.pending_update_count).toBe(1);
    expect(current.last_error_message).toBe('Connection refused');

    // Switching to long polling keeps the update for getUpdates.
    await h.bot.api.deleteWebhook();
    expect((await h.bot.api.getUpdates()).map((update) => update.message?.text)).toEqual(['lost?']);
  });

  it("feeds grammY's fastify webhookCallback, which checks the secret", async () => {
    const app = Fastify();
    cleanups.push(async () => {
      await app.close();
    });
    const secretToken = 'bridge-secret';
    h.bot.on('message:text', (ctx) => ctx.reply(`got: ${ctx.message.text}`));
    app.post('/telegram/webhook', webhookCallback(h.bot, 'fastify', { secretToken }));
    const origin = await app.listen({ host: '127.0.0.1', port: 0 });
    await h.bot.init();
    await h.bot.api.setWebhook(`${origin}/telegram/webhook`, { secret_token: secretToken });
    const { message_thread_id: thread } = await h.bot.api.createForumTopic(h.group, 'Via webhook');
    h.sandbox.state.injectMessage({
      chatId: h.group,
      text: 'hello',
      from: AGENT,
      messageThreadId: thread,
    });
    const reply = await h.sandbox.state.waitFor(() =>
      h.sandbox.state
        .messages({ threadId: thread, fromBot: true })
        .find((view) => view.text === 'got: hello'),
    );
    expect(reply.threadId).toBe(thread);
    await h.sandbox.state.waitFor(() => h.sandbox.state.pendingUpdates().length === 0);
    expect((await h.bot.api.getWebhookInfo()).last_error_message).toBeUndefined();
  });

  it('delivers a visitor message and a callback_query to the webhook', async () => {
    const receiver = await startWebhookReceiver();
    cleanups.push(() => receiver.close());
    const sent = await h.bot.api.sendMessage(h.group, 'Pick', {
      reply_markup: { inline_keyboard: [[{ text: 'Yes', callback_data: 'yes' }]] },
    });
    await h.bot.api.setWebhook(receiver.url);
    h.sandbox.state.injectMessage({ chatId: VISITOR.id, text: 'hello', from: VISITOR });
    h.sandbox.state.pressButton({
      chatId: h.group,
      messageId: sent.message_id,
      data: 'yes',
      from: { ...AGENT, is_bot: false },
    });
    await h.sandbox.state.waitFor(() => receiver.received.length === 2);
    expect(receiver.received[0]?.body).toMatchObject({
      message: { text: 'hello', chat: { type: 'private' } },
    });
    expect(receiver.received[1]?.body).toMatchObject({ callback_query: { data: 'yes' } });
    expect(receiver.received[0]?.headers['x-telegram-bot-api-secret-token']).toBeUndefined();
  });
});
