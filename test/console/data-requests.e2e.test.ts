import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConversation, VisitorClient } from '@topicdesk/testkit';
import { MemberStatus, type MessageView } from '@topicdesk/telegram-sandbox';
import { admin, ALICE, botPosted, header, say } from '../support/agents';
import { BOT_TOKEN, GROUP_ID, startCluster, topicOf, type Cluster } from '../support/cluster';

// Data-subject requests and the setup checks end to end: every service its own process, real
// Postgres, NATS and Redis, the sandbox as Telegram. A widget conversation is exported and
// erased through the admin API (its topic renamed under `keep`, deleted under `delete`, the
// visitor's token refused, a tombstone and audit entries kept); a private-chat user gets their
// data with /mydata and erases it with /forget; the setup page asks the bridge over NATS.

const SERVICE_TOKEN = 'service-token-for-the-dsar-suite-0123456789';
const MAIN_BOT_ID = Number(BOT_TOKEN.split(':')[0]);
const ZOE = { id: 5_900_100_200, is_bot: false, first_name: 'Zoe', language_code: 'en' };

let cluster: Cluster;
let gatewayUrl: string;
const clients: VisitorClient[] = [];

beforeAll(async () => {
  cluster = await startCluster({
    gateways: 1,
    bridges: 1,
    gatewayEnv: { SERVICE_TOKEN, ALLOWED_ORIGINS: 'https://shop.example' },
  });
  gatewayUrl = cluster.gateways[0]!.url;
  const saved = await admin(gatewayUrl, SERVICE_TOKEN, 'PUT', `/v1/admin/agents/${ALICE.id}`, {
    displayName: 'Alice M.',
  });
  expect(saved.status).toBe(200);
}, 180_000);

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await cluster?.stop();
});

const call = (method: 'GET' | 'POST', path: string, body?: unknown) =>
  admin(gatewayUrl, SERVICE_TOKEN, method, path, body);

/** A widget conversation with a visitor message in its topic and an agent's answer. */
async function conversationInTopic(text: string) {
  const started = await startConversation(gatewayUrl, {
    name: 'Dora Datenschutz',
    page: { url: 'https://shop.example/orders/77', title: 'Order 77' },
  });
  const visitor = await VisitorClient.connect(gatewayUrl, started.token);
  clients.push(visitor);
  visitor.sendMessage('m1', text);
  const threadId = await topicOf(cluster.sandbox, started.ticket);
  await botPosted(cluster.sandbox, threadId, text, 15_000).catch(async () => {
    // The first texts may ride in the header; wait for the header to carry it instead.
    await cluster.sandbox.state.waitFor(
      () =>
        cluster.sandbox.state
          .messages({ chatId: GROUP_ID, threadId, fromBot: true })
          .find((m) => m.text?.includes(text)),
      10_000,
    );
  });
  say(cluster.sandbox, ALICE, 'We will look into it', threadId);
  await visitor.waitFor((f) => f.type === 'message' && f['kind'] === 'agent', 15_000, 'reply');
  return { ...started, threadId, visitor };
}

function topic(threadId: number) {
  return cluster.sandbox.state.topics(GROUP_ID).find((t) => t.threadId === threadId);
}

async function auditActions(conversationId: string): Promise<string[]> {
  const audit = await call('GET', '/v1/admin/audit?limit=200');
  return (
    audit.body as { entries: Array<{ action: string; conversationId: string | null }> }
  ).entries
    .filter((e) => e.conversationId === conversationId)
    .map((e) => e.action);
}

describe('data-subject requests through the admin API', () => {
  it('exports a conversation, then erases it keeping its topic renamed to the tombstone', async () => {
    const c = await conversationInTopic('Please delete everything about parcel 991');
    const exported = await call('GET', `/v1/admin/conversations/${c.ticket}/export`);
    expect(exported.status).toBe(200);
    const body = exported.body as {
      visitor: { name: string };
      messages: Array<{ kind: string; text: string }>;
      conversation: { topicId: number };
    };
    expect(body.visitor.name).toBe('Dora Datenschutz');
    expect(body.conversation.topicId).toBe(c.threadId);
    expect(body.messages.map((m) => [m.kind, m.text])).toEqual(
      expect.arrayContaining([
        ['visitor', 'Please delete everything about parcel 991'],
        ['agent', 'We will look into it'],
      ]),
    );

    const erased = await call('POST', `/v1/admin/conversations/${c.conversationId}/erase`, {
      topic: 'keep',
    });
    expect(erased.status).toBe(200);
    // The visitor's socket hears the close; the token is refused from now on.
    await c.visitor.waitFor((f) => f.type === 'status' && f['status'] === 'closed', 10_000);
    const history = await fetch(`${gatewayUrl}/v1/conversations/${c.conversationId}/messages`, {
      headers: { authorization: `Bearer ${c.token}` },
    });
    expect(history.status).toBe(410);
    expect(await history.json()).toMatchObject({ error: { code: 'CONVERSATION_ERASED' } });

    // The topic: renamed to the tombstone, told, closed — still there (policy keep).
    await botPosted(cluster.sandbox, c.threadId, 'was erased on', 15_000);
    await cluster.sandbox.state.waitFor(
      () => topic(c.threadId)?.name === `⚪ ${c.ticket} · data erased` && topic(c.threadId)?.closed,
      15_000,
    );
    expect(topic(c.threadId)?.deleted).toBe(false);
    // Its pinned header no longer names the visitor or their page.
    const headerText = header(cluster.sandbox, c.threadId)?.text ?? '';
    expect(headerText).toContain(c.ticket);
    expect(headerText).not.toContain('Dora');
    expect(headerText).not.toContain('shop.example/orders');
    expect(await auditActions(c.conversationId)).toEqual(
      expect.arrayContaining(['data.export', 'data.erase']),
    );
    const again = await call('GET', `/v1/admin/conversations/${c.ticket}/export`);
    expect(again).toMatchObject({
      status: 410,
      body: {
        error: { code: 'CONVERSATION_ERASED', details: { tombstone: { ticket: c.ticket } } },
      },
    });
  });

  it('erases with the topic deleted in Telegram under the `delete` policy', async () => {
    const c = await conversationInTopic('Forget me and my topic');
    const erased = await call('POST', `/v1/admin/conversations/${c.ticket}/erase`, {
      topic: 'delete',
    });
    expect(erased).toMatchObject({ status: 200, body: { tombstone: { topic: 'delete' } } });
    await cluster.sandbox.state.waitFor(() => topic(c.threadId)?.deleted === true, 15_000);
    expect(cluster.sandbox.state.messages({ chatId: GROUP_ID, threadId: c.threadId })).toHaveLength(
      0,
    );
    const refresh = await fetch(`${gatewayUrl}/v1/conversations/${c.conversationId}/token`, {
      method: 'POST',
      headers: { authorization: `Bearer ${c.token}` },
    });
    expect(await refresh.json()).toMatchObject({ error: { code: 'CONVERSATION_ERASED' } });
  });
});

describe("a private-chat user's own data: /mydata and /forget", () => {
  const write = (text: string) =>
    cluster.sandbox.state.injectMessage({ chatId: ZOE.id, text, from: ZOE });
  const fromBot = () => cluster.sandbox.state.messages({ chatId: ZOE.id, fromBot: true });

  async function press(message: MessageView, label: string) {
    const button = message.replyMarkup?.inline_keyboard.flat().find((b) => b.text.includes(label));
    if (button?.callback_data === undefined) throw new Error(`no button ${label}`);
    const id = cluster.sandbox.state.pressButton({
      chatId: ZOE.id,
      messageId: message.messageId,
      data: button.callback_data,
      from: ZOE,
    });
    return cluster.sandbox.state.waitFor(() => cluster.sandbox.state.callbackAnswer(id), 15_000);
  }

  it('sends the user what is stored about them, then erases it after a confirmation', async () => {
    write('/support');
    write('My private question about invoice 5521');
    const ticket = await cluster.sandbox.state.waitFor(
      () =>
        /SUPP-[0-9A-Z]+-[0-9A-Z]+/.exec(
          fromBot()
            .map((m) => m.text ?? '')
            .join('\n'),
        )?.[0],
      20_000,
    );
    const threadId = await topicOf(cluster.sandbox, ticket);
    await botPosted(cluster.sandbox, threadId, 'invoice 5521', 15_000).catch(() => undefined);

    write('/mydata');
    const document = await cluster.sandbox.state.waitFor(
      () => fromBot().find((m) => m.media?.kind === 'document'),
      20_000,
    );
    expect(document.media?.name).toBe('my-data.json');
    const file = cluster.sandbox.state.world.files.get(document.media!.fileId);
    const data = JSON.parse(Buffer.from(file!.bytes).toString('utf8')) as {
      format: string;
      conversations: Array<{ conversation: { ticket: string }; messages: Array<{ text: string }> }>;
    };
    expect(data.format).toBe('topicdesk.conversation-export/1');
    expect(data.conversations.map((c) => c.conversation.ticket)).toEqual([ticket]);
    expect(data.conversations[0]!.messages.map((m) => m.text)).toContain(
      'My private question about invoice 5521',
    );
    // Nothing in it names the user's Telegram id.
    expect(JSON.stringify(data)).not.toContain(String(ZOE.id));

    write('/forget');
    const confirmation = await cluster.sandbox.state.waitFor(
      () => fromBot().find((m) => m.text?.includes('cannot be undone')),
      15_000,
    );
    await press(confirmation, 'Erase my data');
    await cluster.sandbox.state.waitFor(
      () => fromBot().find((m) => m.text?.includes('1 conversation and your encrypted id')),
      15_000,
    );
    await cluster.sandbox.state.waitFor(
      () => topic(threadId)?.name === `⚪ ${ticket} · data erased`,
      15_000,
    );
    const exported = await call('GET', `/v1/admin/conversations/${ticket}/export`);
    expect(exported).toMatchObject({
      status: 410,
      body: { error: { details: { tombstone: { erasedBy: { type: 'visitor' } } } } },
    });
    // Asked again, nothing is stored about them any more.
    write('/mydata');
    await cluster.sandbox.state.waitFor(
      () => fromBot().find((m) => m.text?.startsWith('Nothing is stored about you')),
      15_000,
    );
  });
});

describe('setup checks', () => {
  it('asks the bridge over NATS and shows a failing check with its fix', async () => {
    const ok = await call('GET', '/v1/admin/setup');
    expect(ok.status).toBe(200);
    const checks = (ok.body as { checks: Array<{ id: string; ok: boolean; fix: string }> }).checks;
    const byId = new Map(checks.map((c) => [c.id, c]));
    expect(byId.get('bot.token')).toMatchObject({ ok: true });
    expect(byId.get(`group.${GROUP_ID}.forum`)).toMatchObject({ ok: true });
    expect(byId.get(`group.${GROUP_ID}.bot_admin`)).toMatchObject({ ok: true });
    expect(byId.get('webhook')).toMatchObject({ ok: true });
    expect(byId.get('origins')).toMatchObject({ ok: true });

    // The bot loses "Manage topics": that check fails and says how to fix it.
    cluster.sandbox.state.setMember(GROUP_ID, MAIN_BOT_ID, MemberStatus.administrator, {
      can_manage_topics: false,
    });
    try {
      const failing = await call('GET', '/v1/admin/setup');
      const report = failing.body as {
        ok: boolean;
        checks: Array<{ id: string; ok: boolean; fix: string }>;
      };
      expect(report.ok).toBe(false);
      expect(report.checks.find((c) => c.id === `group.${GROUP_ID}.bot_admin`)).toMatchObject({
        ok: false,
        fix: expect.stringContaining('Manage topics'),
      });
    } finally {
      cluster.sandbox.state.setMember(GROUP_ID, MAIN_BOT_ID, MemberStatus.administrator, {
        can_manage_topics: true,
      });
    }

    const webhook = await call('POST', '/v1/admin/setup/webhook', {});
    expect(webhook).toMatchObject({ status: 200, body: { ok: true } });

    const snippet = await call('GET', '/v1/admin/setup/snippet?origin=https://other.example');
    expect(snippet).toMatchObject({
      status: 200,
      body: {
        origin: 'https://other.example',
        originAllowed: false,
        integrity: expect.stringMatching(/^sha384-/),
        fix: expect.stringContaining('ALLOWED_ORIGINS'),
      },
    });
    expect((snippet.body as { snippet: string }).snippet).toContain('integrity="sha384-');
  });
});
