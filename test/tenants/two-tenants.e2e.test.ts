// Two tenants side by side on one deployment (issue 16): every service as its own process, two
// gateway replicas. Tenant A is the default tenant, configured by the environment as before;
// tenant B is created through the platform API with its own sandbox bot, group, JWT secret and
// service token. Each visitor reaches its own topic in its own group through its own bot; B's
// valid credentials open nothing of A; B's bot token and the key-encryption key are rotated
// while messages are in flight, and every message arrives.
import { createServer, type Server } from 'node:http';
import { SignJWT } from 'jose';
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  freePort,
  startConversation,
  VisitorClient,
  type ServiceProcess,
  type StartedConversation,
} from '@topicdesk/testkit';
import { launchBrowser, send, skipBrowser, widget } from '../support/browser';
import { AGENT, GROUP_ID, startCluster, type Cluster } from '../support/cluster';
import { scrape, total } from '../observability/support';
import {
  addTenantGroup,
  DEFAULT_BOT_ID,
  newKek,
  newPlatformToken,
  PlatformClient,
  relayedLines,
  tenantBotId,
  tenantBotToken,
  tenantSecrets,
  topicIn,
  TokenWatch,
  type TenantView,
} from '../support/tenants';

const PLATFORM_TOKEN = newPlatformToken();
const KEK_1 = newKek('k1');
const KEK_2 = newKek('k2');
/** The default tenant's admin token (SERVICE_TOKEN). */
const SERVICE_TOKEN_A = `svc-a-${'0123456789abcdef'.repeat(2)}`;
const B = 'shop-b';
const secretsB = tenantSecrets(1);
const BOT_B = tenantBotId(1);
const AGENT_B = { id: 8002, first_name: 'Bob', username: 'bob_agent' };

let cluster: Cluster;
let platform: PlatformClient;
let tenantB: TenantView;
let groupB: number;
let watch: TokenWatch;
let browser: Browser | undefined;
let site: { server: Server; url: string };
const clients: VisitorClient[] = [];

/** The visitors both suites share: A's (default tenant) and B's (by its site key). */
const visitors: {
  a?: StartedConversation;
  b?: StartedConversation;
  topicA?: number;
  topicB?: number;
} = {};

function gateway(i: number): string {
  return cluster.gateways[i]!.url;
}

async function connect(i: number, token: string): Promise<VisitorClient> {
  const client = await VisitorClient.connect(gateway(i), token);
  clients.push(client);
  await client.waitFor((f) => f.type === 'status');
  return client;
}

/** Sends a message frame and waits for its ack (stored: it must reach the other side). */
async function say(client: VisitorClient, clientId: string, text: string): Promise<void> {
  client.sendMessage(clientId, text);
  await client.waitFor((f) => f.type === 'ack' && f['clientId'] === clientId);
}

function bearer(token: string) {
  return { authorization: `Bearer ${token}` };
}

async function history(i: number, conversationId: string, token: string) {
  const response = await fetch(`${gateway(i)}/v1/conversations/${conversationId}/messages`, {
    headers: bearer(token),
  });
  return { status: response.status, text: await response.text() };
}

/** A conversation token as the gateway issues them, signed with `secret`. */
function mint(secret: string, tenantId: string, conversationId: string): Promise<string> {
  return new SignJWT({ tid: tenantId, gen: 0 })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(conversationId)
    .setIssuer('topicdesk')
    .setAudience('topicdesk:conversation')
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(secret));
}

/** Restarts a service with changed environment (undefined removes a variable). */
async function restart(service: ServiceProcess, env: Record<string, string | undefined>) {
  await service.stop();
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete service.options.env[key];
    else service.options.env[key] = value;
  }
  await service.start(90_000);
}

beforeAll(async () => {
  const tenantEnv = { TENANT_KEK: KEK_1 };
  cluster = await startCluster({
    gateways: 2,
    gatewayEnv: { ...tenantEnv, PLATFORM_TOKEN, SERVICE_TOKEN: SERVICE_TOKEN_A },
    bridgeEnv: tenantEnv,
    schedulerEnv: tenantEnv,
  });
  watch = new TokenWatch(cluster.sandbox);
  groupB = addTenantGroup(cluster.sandbox, 1);
  platform = new PlatformClient(gateway(0), PLATFORM_TOKEN);
  if (!skipBrowser) browser = await launchBrowser();
  // Tenant B's website: another origin that embeds the widget with its site key.
  const port = await freePort();
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop B</title></head>` +
        `<body><h1>Shop B</h1><script src="${gateway(0)}/widget.js" data-site-key="${tenantB.siteKey}"></script>` +
        `<script>SupportChat.init({ openOnLoad: true })</script></body></html>`,
    );
  });
  await new Promise<void>((resolve) => server.listen(port, 'localhost', () => resolve()));
  site = { server, url: `http://localhost:${port}` };
}, 180_000);

afterEach((context) => {
  if (context.task.result?.state === 'fail') {
    for (const call of cluster.sandbox.state.calls().slice(-30)) {
      console.log(
        'sandbox call:',
        call.botId,
        call.method,
        call.status,
        call.description ?? '',
        JSON.stringify(call.params).slice(0, 160),
      );
    }
  }
});

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await browser?.close();
  await new Promise((resolve) => site?.server.close(resolve));
  await cluster?.stop();
});

describe('two tenants on one deployment', () => {
  it("creates tenant B through the platform API; its secrets are never answered, and its bot's webhook is set", async () => {
    tenantB = await platform.create({ id: B, name: 'Shop B', secrets: secretsB });
    expect(tenantB).toMatchObject({ id: B, status: 'active', kekId: 'k1' });
    expect(tenantB.siteKey).toEqual(expect.any(String));
    expect(tenantB.secrets['botToken']?.set).toBe(true);
    const shown = JSON.stringify(tenantB);
    for (const value of [secretsB.botToken, secretsB.jwtSecret, secretsB.serviceToken])
      expect(shown).not.toContain(value);
    // Telegram is told where B's updates go: B's own route, not the default tenant's.
    const hook = await cluster.sandbox.state.waitFor(
      () =>
        cluster.sandbox.state
          .calls()
          .find((c) => c.botId === BOT_B && c.method === 'setWebhook' && c.status === 200),
      20_000,
    );
    const url = String(hook.params['url']);
    expect(url).toMatch(/\/v1\/telegram\/webhook\/[^/]+$/);
    expect(url).not.toContain(cluster.webhookSecret);
    expect(hook.params['secret_token']).not.toBe(cluster.headerSecret);
  });

  it("brings A's visitor (the default tenant, no site key) to A's topic through A's bot, and the agent's reply back", async () => {
    // A: the default tenant, no site key, on replica A; its socket on replica B.
    visitors.a = await startConversation(gateway(0), { name: 'Ann' });
    const onA = await connect(1, visitors.a.token);
    await say(onA, 'a-1', 'A: where is my order?');
    visitors.topicA = await topicIn(cluster.sandbox, GROUP_ID, visitors.a.ticket);
    await cluster.sandbox.state.waitFor(() =>
      relayedLines(cluster.sandbox, GROUP_ID, visitors.topicA).some(
        (l) => l.text === 'A: where is my order?' && l.botId === DEFAULT_BOT_ID,
      ),
    );
    cluster.sandbox.state.injectMessage({
      chatId: GROUP_ID,
      messageThreadId: visitors.topicA,
      text: 'A: it ships today.',
      from: AGENT,
    });
    await onA.waitFor((f) => f.type === 'message' && f['text'] === 'A: it ships today.');
  });

  it("brings B's visitor (by site key) to B's topic in B's group through B's bot, and B's agent's reply back; nothing crosses", async () => {
    // B: a REST visitor by site key.
    visitors.b = await startConversation(gateway(1), { name: 'Bea', siteKey: tenantB.siteKey });
    const onB = await connect(0, visitors.b.token);
    await say(onB, 'b-1', 'B: my parcel is late');
    visitors.topicB = await topicIn(cluster.sandbox, groupB, visitors.b.ticket);
    await cluster.sandbox.state.waitFor(() =>
      relayedLines(cluster.sandbox, groupB, visitors.topicB).some(
        (l) => l.text === 'B: my parcel is late' && l.botId === BOT_B,
      ),
    );
    cluster.sandbox.state.injectMessage({
      chatId: groupB,
      messageThreadId: visitors.topicB,
      text: 'B: on its way.',
      from: AGENT_B,
    });
    await onB.waitFor((f) => f.type === 'message' && f['text'] === 'B: on its way.');

    // Each group holds its own tenant's texts only, each posted by its own bot.
    const inA = relayedLines(cluster.sandbox, GROUP_ID);
    const inB = relayedLines(cluster.sandbox, groupB);
    expect(inA.every((l) => l.botId === DEFAULT_BOT_ID)).toBe(true);
    expect(inB.every((l) => l.botId === BOT_B)).toBe(true);
    expect(inA.map((l) => l.text).join('\n')).not.toContain('B:');
    expect(inB.map((l) => l.text).join('\n')).not.toContain('A:');
    const onA = clients.find((c) =>
      c.of('message').some((f) => f['text'] === 'A: it ships today.'),
    );
    expect(onA?.of('message').map((f) => String(f['text']))).not.toContain('B: on its way.');
    // Nor did any frame of A's reach B's socket.
    const framesOfB = JSON.stringify(onB.frames);
    expect(framesOfB).not.toContain('A: ');
    expect(framesOfB).not.toContain(visitors.a!.conversationId);
  });

  it.skipIf(skipBrowser)(
    "B's widget, embedded with data-site-key, reaches B's group and shows B's agent's reply",
    async () => {
      const context = await browser!.newContext({ viewport: { width: 1100, height: 760 } });
      try {
        const page = await context.newPage();
        await page.goto(site.url);
        const w = widget(page);
        await w.input.waitFor({ state: 'visible', timeout: 20_000 });
        await send(page, 'B: hello from the widget');
        const key = `topicdesk:${new URL(gateway(0)).origin}`;
        const stored = await page.waitForFunction(
          (k) => JSON.parse(localStorage.getItem(k) ?? 'null') as { ticket?: string } | null,
          key,
          { timeout: 20_000, polling: 100 },
        );
        const { ticket } = (await stored.jsonValue()) as { ticket: string };
        const threadId = await topicIn(cluster.sandbox, groupB, ticket);
        await cluster.sandbox.state.waitFor(() =>
          relayedLines(cluster.sandbox, groupB, threadId).some(
            (l) => l.text === 'B: hello from the widget' && l.botId === BOT_B,
          ),
        );
        expect(relayedLines(cluster.sandbox, GROUP_ID).map((l) => l.text)).not.toContain(
          'B: hello from the widget',
        );
        cluster.sandbox.state.injectMessage({
          chatId: groupB,
          messageThreadId: threadId,
          text: 'B: hello, widget visitor.',
          from: AGENT_B,
        });
        await expect
          .poll(() => w.texts('agent').allTextContents(), { timeout: 15_000 })
          .toContain('B: hello, widget visitor.');
      } finally {
        await context.close();
      }
    },
  );

  it("B's service token finds nothing of A on the admin API (404), and A's nothing of B", async () => {
    const a = visitors.a!;
    const b = visitors.b!;
    const admin = (i: number, token: string, method: string, path: string, body?: unknown) =>
      fetch(`${gateway(i)}${path}`, {
        method,
        headers: {
          ...bearer(token),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    for (const [token, other] of [
      [secretsB.serviceToken, a.conversationId],
      [SERVICE_TOKEN_A, b.conversationId],
    ] as const) {
      for (const i of [0, 1]) {
        expect((await admin(i, token, 'GET', `/v1/admin/conversations/${other}`)).status).toBe(404);
        expect(
          (await admin(i, token, 'GET', `/v1/admin/conversations/${other}/export`)).status,
        ).toBe(404);
      }
    }
    // Erasing A's conversation with B's token is refused, and A's conversation is intact.
    const erase = await admin(
      0,
      secretsB.serviceToken,
      'POST',
      `/v1/admin/conversations/${a.conversationId}/erase`,
      {
        topic: 'keep',
      },
    );
    expect(erase.status).toBe(404);
    const intact = await history(0, a.conversationId, a.token);
    expect(intact.status).toBe(200);
    expect(intact.text).toContain('A: where is my order?');

    // Each token lists its own tenant's conversations only.
    const listed = async (token: string) => {
      const response = await admin(1, token, 'GET', '/v1/admin/conversations?limit=100');
      expect(response.status).toBe(200);
      return ((await response.json()) as { items: Array<{ id: string }> }).items.map((c) => c.id);
    };
    const ofB = await listed(secretsB.serviceToken);
    expect(ofB).toContain(b.conversationId);
    expect(ofB).not.toContain(a.conversationId);
    const ofA = await listed(SERVICE_TOKEN_A);
    expect(ofA).toContain(a.conversationId);
    expect(ofA).not.toContain(b.conversationId);

    // Usage answers the caller's tenant.
    const usage = await admin(0, secretsB.serviceToken, 'GET', '/v1/admin/usage');
    expect(usage.status).toBe(200);
    expect(await usage.json()).toMatchObject({ tenantId: B });
  });

  it("B's valid conversation tokens open nothing of A: REST history and the WebSocket", async () => {
    const a = visitors.a!;
    const b = visitors.b!;
    // Control: B's token reads B's conversation.
    expect((await history(1, b.conversationId, b.token)).status).toBe(200);
    // B's own token against A's conversation id.
    const crossed = await history(1, a.conversationId, b.token);
    expect([401, 403, 404]).toContain(crossed.status);
    expect(crossed.text).not.toContain('A: where is my order?');
    // A token B's operator can sign (B's JWT secret) naming A's conversation: B's tenant
    // claimed, or A's (the default) claimed with B's key.
    const forgedAsB = await mint(secretsB.jwtSecret, B, a.conversationId);
    const forgedAsA = await mint(secretsB.jwtSecret, 'default', a.conversationId);
    for (const token of [forgedAsB, forgedAsA]) {
      for (const i of [0, 1]) {
        const answer = await history(i, a.conversationId, token);
        expect([401, 403, 404]).toContain(answer.status);
        expect(answer.text).not.toContain('A: where is my order?');
      }
      // The WebSocket: refused at the upgrade, or closed before a frame of A's.
      const opened = await VisitorClient.connect(gateway(0), token).catch(
        (error: unknown) => error,
      );
      if (opened instanceof VisitorClient) {
        clients.push(opened);
        await opened.waitUntil(() => opened.closeCode !== undefined || undefined, 5_000);
        expect(opened.of('message')).toHaveLength(0);
        expect(JSON.stringify(opened.frames)).not.toContain(a.conversationId);
      } else {
        expect(String(opened)).toMatch(/upgrade refused: 40[134]/);
      }
    }
  });

  it("the sandbox shows B's bot never called into A's group, nor A's bot into B's", () => {
    const calls = cluster.sandbox.state.calls();
    const into = (botId: number, chatId: number) =>
      calls.filter((c) => c.botId === botId && Number(c.params['chat_id']) === chatId);
    // Not vacuous: B's bot did work, in its own group.
    expect(into(BOT_B, groupB).length).toBeGreaterThan(0);
    expect(into(BOT_B, GROUP_ID)).toEqual([]);
    expect(into(DEFAULT_BOT_ID, groupB)).toEqual([]);
    expect(
      cluster.sandbox.state.messages({ chatId: GROUP_ID }).filter((m) => m.from?.id === BOT_B),
    ).toEqual([]);
  });

  it("the bridge's metrics label each bot's Telegram calls with its own tenant", async () => {
    const samples = await scrape(cluster.bridge.url);
    const calls = (labels: Record<string, string>) =>
      total(samples, 'topicdesk_telegram_calls_total', labels) ?? 0;
    expect(calls({ bot: String(BOT_B), tenant: B })).toBeGreaterThan(0);
    expect(calls({ bot: String(DEFAULT_BOT_ID), tenant: 'default' })).toBeGreaterThan(0);
    expect(calls({ bot: String(BOT_B), tenant: 'default' })).toBe(0);
    expect(calls({ bot: String(DEFAULT_BOT_ID), tenant: B })).toBe(0);
  });

  it("rotating B's bot token (platform PATCH) loses no message", { timeout: 180_000 }, async () => {
    const b = visitors.b!;
    const topic = visitors.topicB!;
    const client = await connect(0, b.token);
    const oldToken = secretsB.botToken;
    const newToken = tenantBotToken(1, 1);
    await say(client, 'rot-1', 'B: rot-1');
    await say(client, 'rot-2', 'B: rot-2');
    const changedAt = Date.now();
    const changed = await platform.patch(B, { secrets: { botToken: newToken } });
    expect(changed.secrets['botToken']?.fingerprint).not.toBe(
      tenantB.secrets['botToken']?.fingerprint,
    );
    await say(client, 'rot-3', 'B: rot-3');
    await say(client, 'rot-4', 'B: rot-4');
    // The bridge takes the new token without a restart and tells Telegram B's webhook again.
    await cluster.sandbox.state.waitFor(
      () => watch.usesOf(newToken, changedAt).some((u) => u.method === 'setWebhook'),
      20_000,
    );
    // BotFather revokes the old one: from now on it answers 401.
    watch.revoke(oldToken);
    const revokedAt = Date.now();
    await say(client, 'rot-5', 'B: rot-5');
    await say(client, 'rot-6', 'B: rot-6');
    const want = [1, 2, 3, 4, 5, 6].map((n) => `B: rot-${n}`);
    await cluster.sandbox.state.waitFor(() => {
      const lines = relayedLines(cluster.sandbox, groupB, topic).map((l) => l.text);
      return want.every((text) => lines.includes(text));
    }, 30_000);
    const lines = relayedLines(cluster.sandbox, groupB, topic).map((l) => l.text);
    expect(lines.filter((t) => t.startsWith('B: rot-'))).toEqual(want);
    expect(watch.usesOf(oldToken, revokedAt + 2_000)).toEqual([]);
    // Agents' replies still reach the visitor, through the new token's webhook.
    cluster.sandbox.state.injectMessage({
      chatId: groupB,
      messageThreadId: topic,
      text: 'B: after the new token.',
      from: AGENT_B,
    });
    await client.waitFor((f) => f.type === 'message' && f['text'] === 'B: after the new token.');
    secretsB.botToken = newToken;
  });

  it(
    'rotating the key-encryption key (restart with the new and previous KEK, rewrap, then the new alone) loses no message',
    { timeout: 420_000 },
    async () => {
      const a = visitors.a!;
      const b = visitors.b!;
      const sent = { a: [] as string[], b: [] as string[] };
      const both = async (i: number, step: string) => {
        const onA = await connect(i, a.token);
        const onB = await connect(i, b.token);
        await say(onA, `kek-a-${step}`, `A: kek ${step}`);
        await say(onB, `kek-b-${step}`, `B: kek ${step}`);
        sent.a.push(`A: kek ${step}`);
        sent.b.push(`B: kek ${step}`);
        await Promise.all([onA.close(), onB.close()]);
      };
      const rotating = { TENANT_KEK: KEK_2, TENANT_KEKS_PREVIOUS: KEK_1 };

      await both(0, '1');
      // Rolling restart onto the new KEK, the old one still unwrapping; a replica always up.
      await restart(cluster.gateways[1]!, rotating);
      await both(1, '2');
      await restart(cluster.gateways[0]!, rotating);
      await cluster.bridge.stop();
      // The bridge is down: the gateways ack anyway, the messages wait in the outbox.
      await both(0, '3');
      await restart(cluster.bridge, rotating);
      for (const scheduler of cluster.schedulers) await restart(scheduler, rotating);
      await both(1, '4');

      const rewrap = await platform.call<{ kekId: string; rewrapped: string[]; failed: unknown[] }>(
        'POST',
        '/v1/platform/kek/rewrap',
      );
      expect(rewrap.status).toBe(200);
      // Reading a tenant on the new KEK rewraps it lazily, so B may be done already.
      expect(rewrap.body).toMatchObject({ kekId: 'k2', failed: [] });
      expect(rewrap.body.rewrapped.filter((id) => id !== B)).toEqual([]);
      expect((await platform.get(B)).kekId).toBe('k2');
      const again = await platform.call('POST', '/v1/platform/kek/rewrap');
      expect(again.body).toMatchObject({ kekId: 'k2', rewrapped: [], failed: [] });

      // The previous KEK removed: B's secrets still open (its bot, its JWT secret).
      const settled = { TENANT_KEK: KEK_2, TENANT_KEKS_PREVIOUS: undefined };
      await restart(cluster.gateways[0]!, settled);
      await restart(cluster.gateways[1]!, settled);
      await restart(cluster.bridge, settled);
      for (const scheduler of cluster.schedulers) await restart(scheduler, settled);
      await both(0, '5');
      expect((await history(1, b.conversationId, b.token)).status).toBe(200);

      // Every text, in its own tenant's topic, in order (what shows there, merged sends split).
      const shown = (chatId: number, topic: number) =>
        relayedLines(cluster.sandbox, chatId, topic)
          .map((l) => l.text)
          .filter((t) => t.includes(': kek '));
      try {
        await expect
          .poll(() => shown(GROUP_ID, visitors.topicA!), { timeout: 60_000 })
          .toEqual(sent.a);
        await expect
          .poll(() => shown(groupB, visitors.topicB!), { timeout: 60_000 })
          .toEqual(sent.b);
      } catch (error) {
        // What Telegram was asked, and what each conversation stored (with its delivery state).
        for (const call of cluster.sandbox.state.calls())
          if (JSON.stringify(call.params).includes(': kek '))
            console.log(
              'kek call:',
              call.botId,
              call.method,
              call.status,
              JSON.stringify(call.params),
            );
        console.log('A stored:', (await history(0, a.conversationId, a.token)).text);
        console.log('B stored:', (await history(0, b.conversationId, b.token)).text);
        throw error;
      }
      const onB = await connect(1, b.token);
      cluster.sandbox.state.injectMessage({
        chatId: groupB,
        messageThreadId: visitors.topicB,
        text: 'B: after the new KEK.',
        from: AGENT_B,
      });
      await onB.waitFor((f) => f.type === 'message' && f['text'] === 'B: after the new KEK.');
    },
  );

  it("every log line about B's conversations, group or bot carries tenant B; none of B's names A's", () => {
    const a = visitors.a!;
    const b = visitors.b!;
    const lines = [...cluster.gateways, ...cluster.bridges, ...cluster.schedulers]
      .flatMap((service) => service.output.split('\n'))
      .filter((line) => line.startsWith('{'))
      .flatMap((line) => {
        try {
          return [{ raw: line, tenantId: (JSON.parse(line) as { tenantId?: unknown }).tenantId }];
        } catch {
          return [];
        }
      });
    const aboutB = lines.filter(
      (l) =>
        l.raw.includes(b.conversationId) ||
        l.raw.includes(String(groupB)) ||
        l.raw.includes(`"botId":"${BOT_B}"`) ||
        l.raw.includes(`"botId":${BOT_B}`),
    );
    // Not vacuous: B's topic, its bot served, its webhook registered were logged.
    expect(aboutB.length).toBeGreaterThan(0);
    expect(aboutB.filter((l) => l.tenantId !== B).map((l) => l.raw)).toEqual([]);
    const aboutA = lines.filter(
      (l) => l.raw.includes(a.conversationId) || l.raw.includes(String(GROUP_ID)),
    );
    expect(aboutA.filter((l) => l.tenantId === B).map((l) => l.raw)).toEqual([]);
  });
});
