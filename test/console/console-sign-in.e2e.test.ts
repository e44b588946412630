import { signInitData } from '@topicdesk/telegram-sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, ALICE, BOB } from '../support/agents';
import { launchBrowser, skipBrowser } from '../support/browser';
import { BOT_TOKEN, startCluster, type Cluster } from '../support/cluster';
import { consoleLink } from '../support/console';

// Console sign-in end to end: an agent sends /console to the bot in a private chat, the bridge
// answers with a one-time link, the browser (fetch here) opens it, and the session it gets
// calls the admin API with its cookie and CSRF token. The bot's links name a public URL the
// test cannot know before the cluster starts; the link's path and token are followed on the
// gateway itself. The console's URL is https, as Telegram needs for the Mini App button.

const SERVICE_TOKEN = 'service-token-for-the-console-suite-01234';
const CONSOLE_URL = 'https://console.example.test/console';

let cluster: Cluster;
let gatewayUrl: string;

beforeAll(async () => {
  cluster = await startCluster({
    gateways: 1,
    bridges: 1,
    gatewayEnv: { SERVICE_TOKEN },
    bridgeEnv: { CONSOLE_URL, CONSOLE_LINK_TTL: '5m' },
  });
  gatewayUrl = cluster.gateways[0]!.url;
  const saved = await admin(gatewayUrl, SERVICE_TOKEN, 'PUT', `/v1/admin/agents/${ALICE.id}`, {
    displayName: 'Alice M.',
    role: 'supervisor',
  });
  expect(saved.status).toBe(200);
}, 180_000);

afterAll(async () => {
  await cluster?.stop();
});

function privateWrite(user: typeof ALICE, text: string) {
  return cluster.sandbox.state.injectMessage({ chatId: user.id, text, from: user });
}

function botMessages(user: typeof ALICE) {
  return cluster.sandbox.state.messages({ chatId: user.id, fromBot: true });
}

describe('console sign-in through the bot', () => {
  it('hands an agent a one-time link whose session calls the admin API with cookie and CSRF token', async () => {
    privateWrite(ALICE, '/console');
    const answer = await cluster.sandbox.state.waitFor(
      () => botMessages(ALICE).find((m) => m.text?.includes('/sign-in?t=')),
      20_000,
    );
    // Previews off: Telegram's preview fetcher must not be what opens the link.
    expect(answer.message.link_preview_options).toMatchObject({ is_disabled: true });
    const link = new URL(/https?:\/\/\S+/.exec(answer.text ?? '')![0]);
    expect(`${link.origin}${link.pathname}`).toBe(`${CONSOLE_URL}/sign-in`);
    const token = link.searchParams.get('t')!;

    // Opening it shows a page; only its POST signs in.
    const page = await fetch(`${gatewayUrl}/console/sign-in?t=${token}`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('method="post"');

    const signIn = await fetch(`${gatewayUrl}/console/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: gatewayUrl },
      body: JSON.stringify({ token }),
    });
    expect(signIn.status).toBe(200);
    const setCookie = signIn.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/^topicdesk_session=[A-Za-z0-9_-]{43};/);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    // Plain http here (no CONSOLE_URL on the gateway): not Secure, so no __Host- prefix either.
    expect(setCookie).not.toMatch(/Secure/);
    const cookie = setCookie.split(';')[0]!;
    const { csrfToken } = (await signIn.json()) as { csrfToken: string };

    const session = await fetch(`${gatewayUrl}/v1/console/session`, { headers: { cookie } });
    expect(await session.json()).toMatchObject({
      session: { role: 'supervisor', agent: { telegramUserId: ALICE.id, displayName: 'Alice M.' } },
      csrfToken,
    });
    const change = (headers: Record<string, string>) =>
      fetch(`${gatewayUrl}/v1/admin/templates`, {
        method: 'PUT',
        headers: { cookie, 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ key: 'console.e2e', text: 'Set from the console' }),
      });
    const refused = await change({ origin: gatewayUrl });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ error: { code: 'CSRF_FAILED' } });
    const changed = await change({ origin: gatewayUrl, 'x-csrf-token': csrfToken });
    expect(changed.status).toBe(200);
    // A supervisor may change templates, not agents.
    const agents = await fetch(`${gatewayUrl}/v1/admin/agents/${BOB.id}`, {
      method: 'PUT',
      headers: {
        cookie,
        'content-type': 'application/json',
        origin: gatewayUrl,
        'x-csrf-token': csrfToken,
      },
      body: JSON.stringify({ displayName: 'Bob' }),
    });
    expect(agents.status).toBe(403);
    expect(await agents.json()).toMatchObject({ error: { code: 'FORBIDDEN_ROLE' } });

    // The link worked once.
    const replay = await fetch(`${gatewayUrl}/console/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token }),
    });
    expect(replay.status).toBe(409);
    expect(await replay.json()).toMatchObject({ error: { code: 'SIGN_IN_LINK_USED' } });

    const audit = await admin(gatewayUrl, SERVICE_TOKEN, 'GET', '/v1/admin/audit?limit=50');
    const actions = (audit.body as { entries: Array<{ action: string }> }).entries.map(
      (e) => e.action,
    );
    expect(actions).toEqual(
      expect.arrayContaining([
        'console.link_issued',
        'console.sign_in',
        'template.update',
        'access.denied',
        'console.sign_in_refused',
      ]),
    );
  });

  it('answers /console from someone who is not an agent like any unknown command, with no link', async () => {
    const before = botMessages(BOB).length;
    privateWrite(BOB, '/console');
    privateWrite(BOB, '/nosuchcommand');
    const answers = await cluster.sandbox.state.waitFor(() => {
      const list = botMessages(BOB).slice(before);
      return list.length >= 2 ? list : undefined;
    }, 20_000);
    expect(answers.some((m) => m.text?.includes('sign-in'))).toBe(false);
    expect(answers[0]?.text).toBe(answers[1]?.text);
  });
});

/** ALICE asks the bot for the console and taps its Mini App button: what Telegram opens. */
async function openMiniApp(): Promise<{ url: string; initData: string }> {
  const { answer } = await consoleLink(cluster.sandbox, ALICE);
  return cluster.sandbox.state.openMiniApp({
    chatId: ALICE.id,
    messageId: answer.messageId,
    from: { ...ALICE, is_bot: false },
  });
}

function miniAppSignIn(initData: string) {
  return fetch(`${gatewayUrl}/console/sign-in/mini-app`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: gatewayUrl },
    body: JSON.stringify({ initData }),
  });
}

/** initData signed with the bot's token as Telegram signs it, for a user of the test's choice. */
function signedFor(user: typeof ALICE, authDate = Math.floor(Date.now() / 1000)) {
  return signInitData(BOT_TOKEN, {
    user: JSON.stringify({ ...user, is_bot: false }),
    chat_type: 'private',
    auth_date: String(authDate),
  });
}

describe('console sign-in as a Telegram Mini App', () => {
  it("opens a session with the initData of the bot's button, once", async () => {
    const opened = await openMiniApp();
    expect(opened.url).toBe(`${CONSOLE_URL}/`);
    const signIn = await miniAppSignIn(opened.initData);
    expect(signIn.status).toBe(200);
    const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0]!;
    expect(cookie).toMatch(/^topicdesk_session=/);
    const session = await fetch(`${gatewayUrl}/v1/console/session`, { headers: { cookie } });
    expect(await session.json()).toMatchObject({
      session: { role: 'supervisor', agent: { telegramUserId: ALICE.id } },
    });

    const replay = await miniAppSignIn(opened.initData);
    expect(replay.status).toBe(409);
    expect(await replay.json()).toMatchObject({ error: { code: 'MINI_APP_DATA_USED' } });
  });

  it('refuses forged, stale and foreign data, a non-agent, and a post from another origin', async () => {
    const { initData } = await openMiniApp();
    // Another user's id with ALICE's signature.
    const forged = new URLSearchParams(initData);
    forged.set('user', JSON.stringify({ ...BOB, is_bot: false }));
    const refusals = [
      [await miniAppSignIn(forged.toString()), 400, 'MINI_APP_DATA_INVALID'],
      [
        await miniAppSignIn(signedFor(ALICE, Math.floor(Date.now() / 1000) - 600)),
        410,
        'MINI_APP_DATA_EXPIRED',
      ],
      [
        await miniAppSignIn(
          signInitData('200000002:another-bot', {
            user: JSON.stringify(ALICE),
            auth_date: String(Math.floor(Date.now() / 1000)),
          }),
        ),
        400,
        'MINI_APP_DATA_INVALID',
      ],
      [await miniAppSignIn(signedFor(BOB)), 403, 'MINI_APP_NOT_AGENT'],
      [await miniAppSignIn('hash=zz'), 400, 'MINI_APP_DATA_INVALID'],
    ] as const;
    for (const [response, status, code] of refusals) {
      expect(response.status, code).toBe(status);
      expect(await response.json()).toMatchObject({ error: { code } });
    }
    const elsewhere = await fetch(`${gatewayUrl}/console/sign-in/mini-app`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'https://evil.example' },
      body: JSON.stringify({ initData }),
    });
    expect(elsewhere.status).toBe(403);
    expect(await elsewhere.json()).toMatchObject({ error: { code: 'CSRF_FAILED' } });
    // The refused attempts spent nothing: the genuine data still signs in.
    expect((await miniAppSignIn(initData)).status).toBe(200);
  });
});

describe.skipIf(skipBrowser)('console sign-in in a real browser', () => {
  it('signs in inside the Mini App from the fragment Telegram opens it with, and drops it from the URL', async () => {
    const { url, initData } = await openMiniApp();
    // Telegram opens the button's URL with the data in the fragment; the console is on the
    // gateway here, at the same path.
    const local = `${gatewayUrl}${new URL(url).pathname}`;
    const browser = await launchBrowser();
    try {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(
        `${local}#tgWebAppData=${encodeURIComponent(initData)}&tgWebAppVersion=9.0&tgWebAppPlatform=android`,
      );
      await page.getByText('Alice M.').first().waitFor({ timeout: 15_000 });
      expect(page.url()).toBe(local);
      const cookies = await context.cookies(gatewayUrl);
      expect(cookies.find((c) => c.name === 'topicdesk_session')).toMatchObject({ httpOnly: true });
      await context.close();
    } finally {
      await browser.close();
    }
  }, 60_000);

  it("signs in with the page's button and changes a template from the page with its CSRF token", async () => {
    const { token } = await consoleLink(cluster.sandbox, ALICE);
    const browser = await launchBrowser();
    try {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(`${gatewayUrl}/console/sign-in?t=${token}`);
      // The browser sends its own Origin with the form (the page's Referrer-Policy keeps it).
      await Promise.all([page.waitForURL(`${gatewayUrl}/console/`), page.click('button')]);
      const cookies = await context.cookies(gatewayUrl);
      expect(cookies.find((c) => c.name === 'topicdesk_session')).toMatchObject({
        httpOnly: true,
        sameSite: 'Strict',
        path: '/',
      });
      const result = await page.evaluate(async () => {
        const session = (await (await fetch('/v1/console/session')).json()) as {
          csrfToken: string;
        };
        const change = (headers: Record<string, string>) =>
          fetch('/v1/admin/templates', {
            method: 'PUT',
            headers: { 'content-type': 'application/json', ...headers },
            body: JSON.stringify({ key: 'console.browser', text: 'From the browser' }),
          }).then(async (r) => ({ status: r.status, body: (await r.json()) as unknown }));
        return {
          without: await change({}),
          with: await change({ 'x-csrf-token': session.csrfToken }),
          cookieVisible: document.cookie.includes('topicdesk_session'),
        };
      });
      expect(result.without).toMatchObject({
        status: 403,
        body: { error: { code: 'CSRF_FAILED' } },
      });
      expect(result.with).toMatchObject({ status: 200, body: { updated: 1 } });
      expect(result.cookieVisible).toBe(false);
      await context.close();
    } finally {
      await browser.close();
    }
  }, 60_000);
});
