import { Bot, type Context } from 'grammy';
import type { Update } from 'grammy/types';
import { describe, expect, it } from 'vitest';
import { SUPPORT_CALLBACK_DATA } from './buttons.js';
import type { TurnAnswer } from './client.js';
import { topicdesk, type TopicdeskFlavor } from './plugin.js';

// The plugin's routing of updates, with Topicdesk's API answered from a script (its behaviour is
// the e2e suite's) and the Bot API calls recorded (nothing goes out).

const USER = { id: 42, is_bot: false, first_name: 'Ann', language_code: 'en' };
const CONVERSATION = '0f0e0d0c-0b0a-4908-8706-050403020100';

type Call = { path: string; body: Record<string, unknown> | undefined };

interface Harness {
  bot: Bot<Context & TopicdeskFlavor>;
  /** Calls the plugin made to Topicdesk. */
  calls: Call[];
  /** Bot API calls the bot made (method, payload). */
  sent: Array<{ method: string; payload: Record<string, unknown> }>;
  /** What the owner's own handlers saw. */
  handled: string[];
  errors: unknown[];
  send(update: Omit<Update, 'update_id'>): Promise<void>;
}

function answer(inSupport: boolean, extra: Partial<TurnAnswer> = {}): TurnAnswer {
  return { outcome: 'command', inSupport, answers: [], toast: '', ...extra };
}

function harness(options: {
  inSupport?: number[];
  answers?: Record<string, TurnAnswer | 'down'>;
}): Harness {
  const calls: Call[] = [];
  const sent: Harness['sent'] = [];
  const handled: string[] = [];
  const errors: unknown[] = [];
  const fetch = (async (url: string, init: RequestInit) => {
    const path = new URL(url).pathname;
    const body = init.body
      ? (JSON.parse(init.body as string) as Record<string, unknown>)
      : undefined;
    calls.push({ path, body });
    if (path === '/v1/channels/bot/users')
      return Response.json({ userIds: options.inSupport ?? [] });
    const scripted = options.answers?.[path];
    if (scripted === 'down') throw new TypeError('fetch failed');
    return Response.json(scripted ?? answer(false));
  }) as unknown as typeof globalThis.fetch;

  const bot = new Bot<Context & TopicdeskFlavor>('1:test', {
    botInfo: {
      id: 1,
      is_bot: true,
      first_name: 'Owner',
      username: 'owner_bot',
      can_join_groups: false,
      can_read_all_group_messages: false,
      supports_inline_queries: false,
      can_connect_to_business: false,
      has_main_web_app: false,
    } as Bot['botInfo'],
  });
  bot.api.config.use(async (_prev, method, payload) => {
    sent.push({ method, payload: payload });
    // What Telegram would answer, as far as the plugin reads it.
    return {
      ok: true,
      result: method === 'answerCallbackQuery' ? true : { message_id: 1 },
    } as never;
  });
  bot.use(
    topicdesk({
      url: 'http://topicdesk.test',
      channelSecret: 'tdch_test',
      fetch,
      retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 1 },
      segment: () => 'client',
      onError: (error) => errors.push(error),
    }),
  );
  bot.command('book', () => void handled.push('/book'));
  bot.on('message:text', (ctx) => void handled.push(ctx.message.text));
  let updateId = 100;
  return {
    bot,
    calls,
    sent,
    handled,
    errors,
    send: (update) => bot.handleUpdate({ update_id: updateId++, ...update }),
  };
}

let messageId = 1;
function text(value: string, chat: 'private' | 'group' = 'private') {
  const command = value.startsWith('/') ? value.split(' ')[0]!.length : 0;
  return {
    message: {
      message_id: messageId++,
      date: 0,
      from: USER,
      chat:
        chat === 'private'
          ? { id: USER.id, type: 'private' as const, first_name: USER.first_name }
          : { id: -100, type: 'group' as const, title: 'g' },
      text: value,
      ...(command
        ? { entities: [{ type: 'bot_command' as const, offset: 0, length: command }] }
        : {}),
    },
  };
}

function press(data: string) {
  return {
    callback_query: {
      id: 'q1',
      from: USER,
      chat_instance: 'c',
      data,
      message: {
        message_id: 9,
        date: 0,
        chat: { id: USER.id, type: 'private' as const, first_name: USER.first_name },
        text: 'How did we do?',
      },
    },
  };
}

describe('the topicdesk plugin', () => {
  it("leaves users who are not in support, and group chats, to the bot's handlers", async () => {
    const h = harness({});
    await h.send(text('hello'));
    await h.send(text('/book'));
    await h.send(text('in a group', 'group'));
    expect(h.handled).toEqual(['hello', '/book', 'in a group']);
    expect(h.calls.map((c) => c.path)).toEqual(['/v1/channels/bot/users']);
  });

  it("hands a user's texts to Topicdesk after /support, and keeps the bot's commands", async () => {
    const h = harness({
      answers: {
        '/v1/channels/bot/support': answer(true),
        '/v1/channels/bot/messages': answer(true, { outcome: 'stored' }),
      },
    });
    await h.send(text('/support'));
    await h.send(text('my order is late'));
    await h.send(text('/book'));
    expect(h.handled).toEqual(['/book']);
    const message = h.calls.find((c) => c.path === '/v1/channels/bot/messages');
    expect(message?.body).toMatchObject({
      userId: USER.id,
      text: 'my order is late',
      segment: 'client',
      locale: 'en',
    });
    expect(typeof message?.body?.['updateId']).toBe('number');
  });

  it('knows who is in support after a restart, from Topicdesk', async () => {
    const h = harness({
      inSupport: [USER.id],
      answers: { '/v1/channels/bot/messages': answer(true, { outcome: 'stored' }) },
    });
    await h.send(text('still there?'));
    expect(h.handled).toEqual([]);
    expect(h.calls.map((c) => c.path)).toContain('/v1/channels/bot/messages');
  });

  it('gives the text back to the bot when the agents closed the conversation', async () => {
    const h = harness({
      inSupport: [USER.id],
      answers: {
        '/v1/channels/bot/messages': answer(false, { outcome: 'ignored:not_in_support' }),
      },
    });
    await h.send(text('book me in'));
    await h.send(text('and again'));
    expect(h.handled).toEqual(['book me in', 'and again']);
    // The second text was not offered to Topicdesk: the user is known to be out of support.
    expect(h.calls.filter((c) => c.path === '/v1/channels/bot/messages')).toHaveLength(1);
  });

  it("shows Topicdesk's answers with their buttons, and answers a pressed button", async () => {
    const h = harness({
      answers: {
        '/v1/channels/bot/support': answer(true, {
          answers: [
            {
              text: 'You are already connected',
              button: { text: 'End', callbackData: `td:pc:end:${CONVERSATION}` },
            },
          ],
        }),
        '/v1/channels/bot/rating': answer(false, { toast: 'Thank you for your rating!' }),
      },
    });
    await h.send(press(SUPPORT_CALLBACK_DATA));
    const reply = h.sent.find((s) => s.method === 'sendMessage');
    expect(reply?.payload).toMatchObject({
      text: 'You are already connected',
      reply_markup: { inline_keyboard: [[{ callback_data: `td:pc:end:${CONVERSATION}` }]] },
    });
    await h.send(press(`td:pc:rate:${CONVERSATION}:4`));
    expect(h.calls.find((c) => c.path === '/v1/channels/bot/rating')?.body).toMatchObject({
      conversationId: CONVERSATION,
      rating: 4,
    });
    expect(h.sent.filter((s) => s.method === 'answerCallbackQuery').at(-1)?.payload).toMatchObject({
      text: 'Thank you for your rating!',
    });
    expect(h.sent.find((s) => s.method === 'editMessageText')?.payload).toMatchObject({
      text: 'How did we do?\n⭐⭐⭐⭐',
    });
  });

  it('tells the user when Topicdesk cannot be reached, without throwing into the bot', async () => {
    const h = harness({
      inSupport: [USER.id],
      answers: { '/v1/channels/bot/messages': 'down' },
    });
    await h.send(text('anyone?'));
    expect(h.handled).toEqual([]);
    expect(h.errors).toHaveLength(1);
    expect(h.sent.find((s) => s.method === 'sendMessage')?.payload['text']).toContain(
      'Support cannot be reached',
    );
  });
});
