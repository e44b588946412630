import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type Database } from '@topicdesk/data';
import type { MessageView } from '@topicdesk/telegram-sandbox';
import sharp from 'sharp';
import {
  jpegWithGps,
  repoRoot,
  startConversation,
  VisitorClient,
  type ServiceProcess,
} from '@topicdesk/testkit';
import { admin, ALICE, botPosted, say, topicClosed } from '../support/agents';
import { GROUP_ID, startCluster, topicOf, type Cluster } from '../support/cluster';
import { NatsWireTap, redisKeys } from './wire';

// The second visitor channel end to end: Telegram users in the bot's private chat, served by
// the same agents as widget visitors, anonymously, within per-user limits across replicas.

const SERVICE_TOKEN = 'service-token-for-the-private-chat-suite-0123';

/** A user whose id, names and username must never surface anywhere but their own chat. */
const ZEB = {
  id: 5_813_920_476,
  is_bot: false,
  first_name: 'Zebulon',
  last_name: 'Quixotic',
  username: 'zq_private_user',
  language_code: 'en',
};
const IDENTITY = [String(ZEB.id), ZEB.first_name, ZEB.last_name, ZEB.username];
/** Two users for the limits: Ute's Telegram speaks German, Vera's says nothing. */
const UTE = { id: 6_100_200_300, is_bot: false, first_name: 'Ute', language_code: 'de' };
const VERA = { id: 6_100_200_301, is_bot: false, first_name: 'Vera' };
const NINA = { id: 6_200_300_400, is_bot: false, first_name: 'Nina', language_code: 'en' };
type TelegramUser = typeof ZEB | typeof UTE | typeof VERA | typeof NINA;
const OTHERS = [UTE, VERA, NINA];

let cluster: Cluster;
let database: Database;
let tap: NatsWireTap;
const clients: VisitorClient[] = [];

beforeAll(async () => {
  cluster = await startCluster({
    gateways: 1,
    bridges: 2,
    // Debug logs: the anonymity check reads every line the services write.
    gatewayEnv: { SERVICE_TOKEN, LOG_LEVEL: 'debug' },
    schedulerEnv: { LOG_LEVEL: 'debug' },
    bridgeEnv: {
      LIMIT_CONVERSATIONS_PER_DAY: '5',
      LIMIT_MESSAGES_PER_HOUR: '50',
      LOG_LEVEL: 'debug',
    },
  });
  tap = await NatsWireTap.start(cluster.namespace);
  database = await createDatabase({ url: cluster.database.url, poolSize: 2 });
  const saved = await admin(
    cluster.gateways[0]!.url,
    SERVICE_TOKEN,
    'PUT',
    `/v1/admin/agents/${ALICE.id}`,
    { displayName: 'Alice M.' },
  );
  expect(saved.status).toBe(200);
}, 180_000);

afterAll(async () => {
  tap?.close();
  await Promise.allSettled(clients.map((c) => c.close()));
  await database?.close();
  await cluster?.stop();
});

// ---- helpers ---------------------------------------------------------------------------

function write(user: TelegramUser, text: string) {
  return cluster.sandbox.state.injectMessage({ chatId: user.id, text, from: user });
}

/** What the bot sent to a user's private chat, oldest first. */
function botMessages(user: TelegramUser): MessageView[] {
  return cluster.sandbox.state.messages({ chatId: user.id, fromBot: true });
}

function botSaid(user: TelegramUser, fragment: string | RegExp, timeoutMs = 15_000) {
  const matches = (m: MessageView) =>
    typeof m.text === 'string' &&
    (typeof fragment === 'string' ? m.text.includes(fragment) : fragment.test(m.text));
  return cluster.sandbox.state.waitFor(() => botMessages(user).find(matches), timeoutMs);
}

function countSaid(user: TelegramUser, fragment: string): number {
  return botMessages(user).filter((m) => m.text?.includes(fragment)).length;
}

async function waitForCount(user: TelegramUser, fragment: string, count: number) {
  await cluster.sandbox.state.waitFor(() => countSaid(user, fragment) >= count, 15_000);
}

/** Presses an inline button of a bot message in the user's chat; returns the toast text. */
async function press(user: TelegramUser, message: MessageView, label: string) {
  const button = message.replyMarkup?.inline_keyboard.flat().find((b) => b.text.includes(label));
  if (button?.callback_data === undefined) throw new Error(`no button ${label}`);
  const id = cluster.sandbox.state.pressButton({
    chatId: user.id,
    messageId: message.messageId,
    data: button.callback_data,
    from: user,
  });
  return cluster.sandbox.state.waitFor(() => cluster.sandbox.state.callbackAnswer(id), 15_000);
}

function ticketIn(text: string): string {
  const ticket = /SUPP-[0-9A-Z]+-[0-9A-Z]{4}/.exec(text)?.[0];
  if (!ticket) throw new Error(`no ticket in ${text}`);
  return ticket;
}

/** Every text the topic received from anyone, its name included. */
function topicTexts(threadId: number): string[] {
  const topic = cluster.sandbox.state.topics(GROUP_ID).find((t) => t.threadId === threadId);
  return [
    topic?.name ?? '',
    ...cluster.sandbox.state.messages({ chatId: GROUP_ID, threadId }).map((m) => m.text ?? ''),
  ];
}

let nextUpdateId = 1_000_000;
let nextMessageId = 500_000;

/**
 * Delivers an update to one bridge replica's webhook route, as Telegram would (the sandbox
 * only ever delivers to the registered URL, the first replica's).
 */
async function deliver(bridge: ServiceProcess, update: Record<string, unknown>) {
  const response = await fetch(`${bridge.url}/v1/telegram/webhook/${cluster.webhookSecret}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-telegram-bot-api-secret-token': cluster.headerSecret,
    },
    body: JSON.stringify({ update_id: nextUpdateId++, ...update }),
  });
  expect(response.status).toBe(200);
}

/** A private-chat message as Telegram shapes it, with any extra fields (sticker, photo…). */
function privateMessage(user: TelegramUser, fields: Record<string, unknown>) {
  const { is_bot: _isBot, language_code: _language, ...chat } = user as typeof ZEB;
  return {
    message: {
      message_id: nextMessageId++,
      date: Math.floor(Date.now() / 1000),
      chat: { ...chat, type: 'private' },
      from: user,
      ...fields,
    },
  };
}

function sayVia(bridge: ServiceProcess, user: TelegramUser, text: string) {
  return deliver(bridge, privateMessage(user, { text }));
}

async function conversationOf(ticket: string) {
  return database.db
    .selectFrom('conversations')
    .selectAll()
    .where('ticket', '=', ticket)
    .executeTakeFirstOrThrow();
}

// ---- the suite ---------------------------------------------------------------------------

describe('a private-chat user and a widget visitor', () => {
  it('are served side by side by the same agents, each in their own topic', async () => {
    // The widget visitor.
    const gateway = cluster.gateways[0]!.url;
    const web = await startConversation(gateway, { name: 'Wanda' });
    const visitor = await VisitorClient.connect(gateway, web.token);
    clients.push(visitor);
    await visitor.waitFor((f) => f.type === 'status');
    visitor.sendMessage('w1', 'Hello from the website');
    const webThread = await topicOf(cluster.sandbox, web.ticket);

    // The Telegram user: /start, then the Live support button.
    write(ZEB, '/start');
    const greeting = await botSaid(ZEB, 'Live support');
    expect(greeting.replyMarkup?.inline_keyboard.flat().map((b) => b.text)).toEqual([
      '💬 Live support',
    ]);
    await press(ZEB, greeting, 'Live support');
    const welcome = await botSaid(ZEB, 'Your ticket: SUPP-');
    const ticket = ticketIn(welcome.text!);
    expect(welcome.replyMarkup?.inline_keyboard.flat().map((b) => b.text)).toEqual(['⛔ End']);
    const tgThread = await topicOf(cluster.sandbox, ticket);
    expect(tgThread).not.toBe(webThread);

    write(ZEB, 'Hello from Telegram');
    await botPosted(cluster.sandbox, tgThread, 'Hello from Telegram');
    await botPosted(cluster.sandbox, webThread, 'Hello from the website');

    // The same agent answers both, in their topics.
    say(cluster.sandbox, ALICE, 'Hi website', webThread);
    const reply = say(cluster.sandbox, ALICE, 'Hi Telegram', tgThread);
    expect(
      await visitor.waitFor((f) => f.type === 'message' && f['text'] === 'Hi website'),
    ).toMatchObject({ kind: 'agent', author: 'Alice M.' });
    await botSaid(ZEB, 'Alice M. joined the conversation.');
    const signed = await botSaid(ZEB, 'Alice M.: Hi Telegram');
    // Neither side sees the other's messages.
    expect(visitor.frames.some((f) => JSON.stringify(f).includes('Telegram'))).toBe(false);
    expect(botMessages(ZEB).some((m) => m.text?.includes('website'))).toBe(false);

    // The agent edits, then retracts, the reply: the copy in the private chat follows.
    cluster.sandbox.state.editUserMessage({
      chatId: GROUP_ID,
      messageId: reply.message_id,
      text: 'Hi Telegram, how can I help?',
    });
    await cluster.sandbox.state.waitFor(
      () =>
        botMessages(ZEB).find((m) => m.messageId === signed.messageId)?.text ===
        'Alice M.: Hi Telegram, how can I help?',
      15_000,
    );
    say(cluster.sandbox, ALICE, '/delete', tgThread, reply.message_id);
    await cluster.sandbox.state.waitFor(
      () => !botMessages(ZEB).some((m) => m.messageId === signed.messageId),
      15_000,
    );

    // One history with gap-free seqs, like a widget conversation's.
    const conversation = await conversationOf(ticket);
    expect(conversation.channel).toBe('telegram');
    expect(conversation.visitor_name).toBeNull();
    const history = await database.db
      .selectFrom('messages')
      .select(['seq', 'kind', 'text'])
      .where('conversation_id', '=', conversation.id)
      .orderBy('seq')
      .execute();
    expect(history.map((m) => m.seq)).toEqual(history.map((_, i) => i + 1));
    expect(history.map((m) => m.kind)).toEqual(['system', 'visitor', 'system', 'agent']);

    // The agent closes it: the user is told and asked for a rating, which is stored and audited.
    say(cluster.sandbox, ALICE, '/close', tgThread);
    await botSaid(ZEB, 'This conversation was closed.');
    const prompt = await botSaid(ZEB, `Rate this conversation (${ticket})`);
    expect(prompt.replyMarkup?.inline_keyboard.flat().map((b) => b.text)).toEqual([
      '1 ⭐',
      '2 ⭐',
      '3 ⭐',
      '4 ⭐',
      '5 ⭐',
    ]);
    expect((await press(ZEB, prompt, '5'))?.text).toBe('Thank you for your rating!');
    const rated = await database.db
      .selectFrom('conversation_ratings')
      .select(['score'])
      .where('conversation_id', '=', conversation.id)
      .executeTakeFirstOrThrow();
    expect(rated.score).toBe(5);
    const audit = await database.db
      .selectFrom('audit_log')
      .selectAll()
      .where('conversation_id', '=', conversation.id)
      .where('action', '=', 'conversation.rate')
      .executeTakeFirstOrThrow();
    expect(audit.actor_type).toBe('visitor');
    expect(audit.details).toEqual({ rating: 5 });

    // Writing again starts a new conversation; the user ends it with /end.
    write(ZEB, 'One more question');
    const second = ticketIn(
      (
        await cluster.sandbox.state.waitFor(
          () =>
            botMessages(ZEB).find(
              (m) => m.text?.includes('Your ticket:') && !m.text.includes(ticket),
            ),
          15_000,
        )
      ).text!,
    );
    const secondThread = await topicOf(cluster.sandbox, second);
    await botPosted(cluster.sandbox, secondThread, 'One more question');
    write(ZEB, '/end');
    await botPosted(cluster.sandbox, secondThread, 'The visitor ended the conversation.');
    await cluster.sandbox.state.waitFor(() => topicClosed(cluster.sandbox, secondThread), 15_000);
    await waitForCount(ZEB, 'This conversation was closed.', 2);
    await waitForCount(ZEB, 'Rate this conversation', 2);
    expect((await conversationOf(second)).status).toBe('closed');
    const ended = await database.db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'conversation.close')
      .where('conversation_id', '=', (await conversationOf(second)).id)
      .executeTakeFirstOrThrow();
    expect(ended.actor_type).toBe('visitor');
  });
});

describe('per-user limits across two bridge replicas', () => {
  it('refuses the 6th conversation of a day and the 51st message of an hour with a localized answer', async () => {
    const [first, second] = cluster.bridges as [ServiceProcess, ServiceProcess];

    // Only the first replica runs: through the sandbox, Ute starts and ends three
    // conversations and Vera sends 30 messages.
    await second.stop();
    for (let i = 1; i <= 3; i++) {
      write(UTE, '/support');
      await waitForCount(UTE, 'Ihr Ticket: SUPP-', i);
      write(UTE, '/end');
      await waitForCount(UTE, 'Bewerten Sie dieses Gespräch', i);
    }
    write(VERA, '/support');
    const veraTicket = ticketIn((await botSaid(VERA, 'Your ticket: SUPP-')).text!);
    const veraThread = await topicOf(cluster.sandbox, veraTicket);
    for (let i = 1; i <= 30; i++) write(VERA, `vera message ${i}.`);
    await botPosted(cluster.sandbox, veraThread, 'vera message 30.', 30_000);

    // Only the second replica runs: the same users go on through its webhook route.
    await second.start(60_000);
    await first.stop();
    for (let i = 4; i <= 5; i++) {
      await sayVia(second, UTE, '/support');
      await waitForCount(UTE, 'Ihr Ticket: SUPP-', i);
      await sayVia(second, UTE, '/end');
      await waitForCount(UTE, 'Bewerten Sie dieses Gespräch', i);
    }
    await sayVia(second, UTE, '/support');
    const refusal = await botSaid(UTE, 'Sie haben heute 5 Gespräche begonnen');
    expect(refusal.text).toMatch(/in etwa \d+ Std\./);
    // Writing a message would start one too: refused the same way, nothing relayed.
    await sayVia(second, UTE, 'Hallo, noch eine Frage');
    await waitForCount(UTE, 'Sie haben heute 5 Gespräche begonnen', 2);
    const uteTickets = botMessages(UTE)
      .filter((m) => m.text?.includes('Ihr Ticket: SUPP-'))
      .map((m) => ticketIn(m.text!));
    expect(new Set(uteTickets).size).toBe(5);
    for (const ticket of uteTickets) await topicOf(cluster.sandbox, ticket);
    expect(cluster.sandbox.state.topics(GROUP_ID)).toHaveLength(
      new Set(
        (await database.db.selectFrom('conversations').select('ticket').execute()).map(
          (c) => c.ticket,
        ),
      ).size,
    );

    for (let i = 31; i <= 50; i++) await sayVia(second, VERA, `vera message ${i}.`);
    await botPosted(cluster.sandbox, veraThread, 'vera message 50.', 30_000);
    await sayVia(second, VERA, 'vera message 51.');
    const tooMany = await botSaid(VERA, 'You have sent 50 messages in the last hour');
    expect(tooMany.text).toContain('This message was not sent');
    // Nothing of the 51st reaches the agents, now or later.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(topicTexts(veraThread).join('\n')).not.toContain('vera message 51.');
    const veraConversation = await conversationOf(veraTicket);
    const visitorMessages = await database.db
      .selectFrom('messages')
      .select(['text'])
      .where('conversation_id', '=', veraConversation.id)
      .where('kind', '=', 'visitor')
      .execute();
    expect(visitorMessages).toHaveLength(50);

    await first.start(60_000);
  });
});

describe('non-text messages', () => {
  it('get a polite answer, store nothing, and the pipeline keeps working', async () => {
    write(NINA, '/support');
    const ticket = ticketIn((await botSaid(NINA, 'Your ticket: SUPP-')).text!);
    const thread = await topicOf(cluster.sandbox, ticket);
    const [first, second] = cluster.bridges as [ServiceProcess, ServiceProcess];
    await deliver(
      first,
      privateMessage(NINA, {
        sticker: {
          file_id: 'sticker-1',
          file_unique_id: 's1',
          type: 'regular',
          width: 512,
          height: 512,
          is_animated: false,
          is_video: false,
        },
      }),
    );
    await deliver(
      second,
      privateMessage(NINA, {
        photo: [{ file_id: 'photo-1', file_unique_id: 'p1', width: 90, height: 90 }],
        caption: 'a caption is not a text',
      }),
    );
    await deliver(
      first,
      privateMessage(NINA, {
        voice: { file_id: 'voice-1', file_unique_id: 'v1', duration: 3 },
      }),
    );
    await deliver(first, privateMessage(NINA, { location: { latitude: 1, longitude: 2 } }));
    // An edit of the user's own message and a button that is not ours are ignored too.
    const edited = privateMessage(NINA, { text: 'edited', edit_date: 1 });
    await deliver(second, { edited_message: edited.message });
    await waitForCount(NINA, 'only texts, photos and documents reach our team', 3);
    // The photo is a file: one Telegram cannot hand over is refused with its code.
    await botSaid(NINA, /did not reach our team: .*\(BRIDGE_FILE_UNAVAILABLE\)/);

    write(NINA, 'Plain text still works');
    await botPosted(cluster.sandbox, thread, 'Plain text still works');
    const stored = await database.db
      .selectFrom('messages')
      .select(['kind', 'text'])
      .where('conversation_id', '=', (await conversationOf(ticket)).id)
      .where('kind', '=', 'visitor')
      .execute();
    expect(stored).toEqual([{ kind: 'visitor', text: 'Plain text still works' }]);
    expect(topicTexts(thread).join('\n')).not.toContain('a caption is not a text');
    for (const bridge of cluster.bridges) expect(bridge.running).toBe(true);
  });
});

describe('photos both ways', () => {
  it('takes a user’s photo to the topic (re-encoded, under its caption), refuses a type not allowed, and brings an agent’s photo back', async () => {
    const OLA = { id: 6_300_400_500, is_bot: false, first_name: 'Ola', language_code: 'en' };
    write(OLA, '/support');
    const ticket = ticketIn((await botSaid(OLA, 'Your ticket: SUPP-')).text!);
    const thread = await topicOf(cluster.sandbox, ticket);
    const inTopic = () =>
      cluster.sandbox.state
        .messages({ chatId: GROUP_ID, threadId: thread, fromBot: true })
        .filter((m) => m.media);

    cluster.sandbox.state.injectMessage({
      chatId: OLA.id,
      text: 'my screen',
      from: OLA,
      media: { kind: 'photo', sizes: [await jpegWithGps(160, 120), await jpegWithGps(640, 480)] },
    });
    const photo = await cluster.sandbox.state.waitFor(() => inTopic()[0], 30_000);
    expect([photo.media?.kind, photo.caption]).toEqual(['photo', 'my screen']);
    expect(photo.media).toMatchObject({ width: 640, height: 480 });
    const posted = await fetch(`${cluster.sandbox.url}/sandbox/files/${photo.media!.fileId}`);
    expect((await sharp(Buffer.from(await posted.arrayBuffer())).metadata()).exif).toBeUndefined();

    cluster.sandbox.state.injectMessage({
      chatId: OLA.id,
      text: '',
      from: OLA,
      media: {
        kind: 'document',
        bytes: Buffer.from('PK\x03\x04'),
        fileName: 'a.zip',
        mimeType: 'application/zip',
      },
    });
    await botSaid(OLA, /did not reach our team: .*\(ATTACHMENT_TYPE_NOT_ALLOWED\)/);

    cluster.sandbox.state.injectMessage({
      chatId: GROUP_ID,
      messageThreadId: thread,
      text: 'Like this?',
      from: ALICE,
      media: { kind: 'photo', sizes: [await jpegWithGps(300, 200)] },
    });
    const back = await cluster.sandbox.state.waitFor(
      () => botMessages(OLA).find((m) => m.media?.kind === 'photo'),
      30_000,
    );
    expect(back.caption).toBe('Alice M.: Like this?');
    expect(back.media).toMatchObject({ width: 300, height: 200 });
    expect(inTopic()).toHaveLength(1);
  });
});

describe('anonymity', () => {
  it('keeps the user’s Telegram name, username and id out of the topic, the logs, NATS and Redis', async () => {
    const tickets = await database.db
      .selectFrom('conversations')
      .select(['ticket', 'channel', 'locale', 'visitor_name'])
      .where('channel', '=', 'telegram')
      .execute();
    expect(tickets.length).toBeGreaterThan(0);

    // Everything the support group received: topic names, headers, relayed messages, posts,
    // and every Bot API call the bridges made toward the group.
    const group = JSON.stringify([
      cluster.sandbox.state.topics(GROUP_ID),
      cluster.sandbox.state.messages({ chatId: GROUP_ID }),
      cluster.sandbox.state
        .calls()
        .filter((call) => String(call.params['chat_id']) === String(GROUP_ID)),
    ]);
    for (const secret of IDENTITY) expect(group).not.toContain(secret);
    for (const user of OTHERS) expect(group).not.toContain(String(user.id));
    // The user's language is not shown either, and the topic names carry the ticket only.
    for (const { ticket } of tickets) {
      const thread = await topicOf(cluster.sandbox, ticket);
      expect(topicTexts(thread)[0]).toMatch(new RegExp(`^. ${ticket}( → Alice M\\.)?$`, 'u'));
      expect(topicTexts(thread).join('\n')).not.toContain('Locale');
    }

    // Every service's log file of this cluster.
    const logDir = join(repoRoot, 'test-results', 'logs');
    const logs = readdirSync(logDir)
      .filter((name) => name.startsWith(`${cluster.namespace}-`))
      .map((name) => readFileSync(join(logDir, name), 'utf8'));
    expect(logs.length).toBeGreaterThanOrEqual(4);
    for (const log of logs) {
      for (const secret of IDENTITY) expect(log).not.toContain(secret);
      for (const user of OTHERS) expect(log).not.toContain(String(user.id));
    }

    // The raw bytes of everything published on this cluster's NATS subjects: the updates (sealed),
    // the sync events, the typing signals.
    expect(tap.count(cluster.namespace, 'telegram.update')).toBeGreaterThan(10);
    for (const secret of IDENTITY) expect(tap.text).not.toContain(secret);
    for (const user of OTHERS) expect(tap.text).not.toContain(String(user.id));
    // Agents' updates are sealed the same way: no name crosses the bus in clear.
    expect(tap.text).not.toContain(ALICE.username);

    // Redis key names (quotas and budgets are keyed by a keyed hash).
    const keys = await redisKeys(cluster.namespace);
    expect(keys).toContain(':quota:tg:');
    expect(keys).not.toContain(String(ZEB.id));

    // Postgres keeps the id only encrypted.
    const users = await database.db.selectFrom('telegram_users').selectAll().execute();
    expect(users.length).toBeGreaterThan(0);
    for (const secret of IDENTITY) expect(JSON.stringify(users)).not.toContain(secret);
    const stored = await database.db
      .selectFrom('messages')
      .select(['telegram_chat_id'])
      .where('telegram_chat_id', '=', ZEB.id)
      .execute();
    expect(stored).toEqual([]);
  });
});
