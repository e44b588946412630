import { mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createConsoleClient, expect as answer } from '@topicdesk/console/client';
import { startConversation, VisitorClient, type StartedConversation } from '@topicdesk/testkit';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, ALICE, BOB, botPosted, say } from '../support/agents';
import {
  axeViolations,
  consolePageChecked,
  launchBrowser,
  screenshotDir,
  skipBrowser,
} from '../support/browser';
import { GROUP_ID, startCluster, topicOf, type Cluster } from '../support/cluster';
import { consoleLink } from '../support/console';

// The console's pages in a real Chromium against two gateway replicas: sign-in through the
// sandbox bot's link, the overview updating live when a conversation starts on the other
// replica, a transcript, a template changed in the page and used by the next system message,
// what a viewer may not do, and every page at desktop, phone, dark and right-to-left sizes,
// checked by axe and saved as screenshots (test-results/screenshots/console).

const SERVICE_TOKEN = 'service-token-for-the-console-pages-suite-0123';
const CONSOLE_URL = 'http://console.example.test/console';

let cluster: Cluster;
let browser: Browser;
/** Replica A serves the console; visitors arrive through replica B. */
let a: string;
let b: string;

beforeAll(async () => {
  cluster = await startCluster({
    gateways: 2,
    bridges: 1,
    gatewayEnv: { SERVICE_TOKEN },
    bridgeEnv: {
      CONSOLE_URL,
      TELEGRAM_LIMIT_GROUP_PER_MINUTE: '1000',
      TELEGRAM_LIMIT_CHAT_PER_SECOND: '50',
    },
  });
  a = cluster.gateways[0]!.url;
  b = cluster.gateways[1]!.url;
  for (const [user, displayName, role] of [
    [ALICE, 'Alice M.', 'admin'],
    [BOB, 'Bob V.', 'viewer'],
  ] as const) {
    const saved = await admin(a, SERVICE_TOKEN, 'PUT', `/v1/admin/agents/${user.id}`, {
      displayName,
      role,
    });
    expect(saved.status).toBe(200);
  }
  if (!skipBrowser) browser = await launchBrowser();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await cluster?.stop();
});

/** Opens the bot's link on replica A and presses Sign in: the console's overview. */
async function signIn(context: BrowserContext, user: typeof ALICE): Promise<Page> {
  const { token } = await consoleLink(cluster.sandbox, user);
  const page = await context.newPage();
  await page.goto(`${a}/console/sign-in?t=${token}`);
  await Promise.all([page.waitForURL(`${a}/console/`), page.click('button')]);
  await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
  return page;
}

async function newContext(options: Parameters<Browser['newContext']>[0] = {}) {
  return browser.newContext({ viewport: { width: 1280, height: 800 }, ...options });
}

/** A visitor on replica B starts a conversation and writes; resolves once it has its topic. */
async function visitorWrites(text: string) {
  const conversation = await startConversation(b);
  const visitor = await VisitorClient.connect(b, conversation.token);
  visitor.sendMessage(`m-${Date.now()}`, text);
  await visitor.waitFor((f) => f.type === 'ack');
  const threadId = await topicOf(cluster.sandbox, conversation.ticket);
  return { conversation, visitor, threadId };
}

async function history(conversation: StartedConversation) {
  const response = await fetch(`${b}/v1/conversations/${conversation.conversationId}/messages`, {
    headers: { authorization: `Bearer ${conversation.token}` },
  });
  return ((await response.json()) as { messages: Array<{ kind: string; text: string }> }).messages;
}

const cardValue = (page: Page, label: string) =>
  page.locator(`[data-card="${label}"]`).textContent();

describe.skipIf(skipBrowser)('the console in a browser', () => {
  let adminContext: BrowserContext;
  let adminPage: Page;
  let ticket: string;

  beforeAll(async () => {
    adminContext = await newContext();
    adminPage = await signIn(adminContext, ALICE);
  }, 60_000);

  afterAll(async () => {
    await adminContext?.close();
  });

  it('shows a conversation started on the other replica live on the overview, then its transcript', async () => {
    const page = adminPage;
    await page.locator('.live.live').waitFor({ timeout: 15_000 });
    const before = Number(await cardValue(page, 'Open'));
    const { conversation, visitor } = await visitorWrites('Where is my parcel? (console suite)');
    await visitor.close();
    ticket = conversation.ticket;
    // No reload: the SSE stream on replica A hears of a conversation made through replica B.
    await expect
      .poll(async () => Number(await cardValue(page, 'Open')), { timeout: 15_000 })
      .toBe(before + 1);

    await page.getByRole('link', { name: 'Conversations' }).click();
    await page.getByRole('link', { name: ticket }).click();
    await page.waitForURL(`${a}/console/conversations/${ticket}`);
    await expect
      .poll(() => page.locator('.transcript .message.visitor .text').allTextContents())
      .toContain('Where is my parcel? (console suite)');
  });

  it('changes a template with a preview, and the next system message uses it', async () => {
    const page = adminPage;
    await page.getByRole('link', { name: 'Templates' }).click();
    await page.getByRole('button', { name: 'Open agent_joined', exact: true }).click();
    const text = page.locator('textarea[name=text]');
    await text.fill('{agent} is with you now (set in the console).');
    await expect
      .poll(() => page.locator('.preview .bubble').textContent())
      .toBe('Alice is with you now (set in the console).');
    mkdirSync(join(screenshotDir, 'console'), { recursive: true });
    await page.screenshot({ path: join(screenshotDir, 'console', 'template-editor-desktop.png') });
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText('Saved agent_joined.').waitFor();

    const { conversation, visitor, threadId } = await visitorWrites('Hello?');
    say(cluster.sandbox, ALICE, '/claim', threadId);
    await botPosted(cluster.sandbox, threadId, 'Claimed by');
    await expect
      .poll(async () => (await history(conversation)).map((m) => m.text), { timeout: 10_000 })
      .toContain('Alice M. is with you now (set in the console).');
    await visitor.close();

    await page.goto(`${a}/console/conversations/${conversation.ticket}`);
    await expect
      .poll(() => page.locator('.transcript .message .text').allTextContents())
      .toContain('Alice M. is with you now (set in the console).');
  });

  it('serves the typed client generated from /openapi.json with the same session', async () => {
    // The answers are typed by the document: `me` is a ConsoleSession, `saved` { updated }.
    const cookies = await adminContext.cookies(a);
    const session = cookies.find((c) => c.name === 'topicdesk_session')!;
    const base = { baseUrl: a, headers: { cookie: `${session.name}=${session.value}`, origin: a } };
    const me = await answer(createConsoleClient(base).GET('/v1/console/session'));
    expect(me.session.role).toBe('admin');
    const client = createConsoleClient({ ...base, csrfToken: () => me.csrfToken });
    const saved = await answer(
      client.PUT('/v1/admin/templates', {
        body: { key: 'reply.console', text: 'From the client' },
      }),
    );
    expect(saved).toEqual({ updated: 1 });
    // Without the CSRF token the same change is refused with its stable code.
    await expect(
      answer(
        createConsoleClient(base).PUT('/v1/admin/templates', { body: { key: 'x', text: 'y' } }),
      ),
    ).rejects.toMatchObject({ status: 403, code: 'CSRF_FAILED' });
  });

  it('runs the setup checks against the sandbox: a failing one with its fix, and the snippet', async () => {
    const page = adminPage;
    await page.getByRole('link', { name: 'Setup' }).click();
    // The bot and the group are the sandbox's and pass; ALLOWED_ORIGINS is `*` in these suites.
    const failed = page.locator('.checks li.failed', { hasText: 'origins' });
    await failed.waitFor();
    expect(await failed.locator('.fix').textContent()).toContain('set ALLOWED_ORIGINS');
    expect(await page.locator('.checks li.ok').count()).toBeGreaterThan(0);
    await page.getByLabel('Site origin').fill('https://shop.example');
    await page.getByRole('button', { name: 'Make snippet' }).click();
    const snippet = await page.getByLabel('The snippet').textContent();
    expect(snippet).toMatch(/<script src="[^"]+\/widget\.[0-9a-f]{12}\.js" integrity="sha384-/);
  });

  it('exports a conversation and erases it with a confirmation: topic deleted, token refused', async () => {
    const page = adminPage;
    const { conversation, visitor, threadId } = await visitorWrites('Please forget me.');
    await visitor.close();
    await page.goto(`${a}/console/conversations/${conversation.ticket}`);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Export JSON' }).click(),
    ]);
    const exported = JSON.parse(await readFile(await download.path(), 'utf8')) as {
      conversation: { ticket: string };
      messages: Array<{ text: string }>;
    };
    expect(exported.conversation.ticket).toBe(conversation.ticket);
    expect(exported.messages.map((m) => m.text)).toContain('Please forget me.');

    await page.getByRole('button', { name: 'Erase…' }).click();
    await page.getByLabel('Delete it').check();
    await page.getByRole('button', { name: 'Erase for good' }).click();
    await page.getByText('the topic was deleted').waitFor();
    const deleted = await cluster.sandbox.state.waitFor(
      () =>
        cluster.sandbox.state
          .calls({ method: 'deleteForumTopic' })
          .find((c) => Number(c.params['message_thread_id']) === threadId),
      15_000,
    );
    expect(deleted).toMatchObject({ status: 200 });
    expect(
      cluster.sandbox.state.topics(GROUP_ID).find((t) => t.threadId === threadId),
    ).toMatchObject({ deleted: true });
    const refused = await fetch(`${b}/v1/conversations/${conversation.conversationId}/messages`, {
      headers: { authorization: `Bearer ${conversation.token}` },
    });
    expect(refused.status).toBe(410);
    expect(await refused.json()).toMatchObject({ error: { code: 'CONVERSATION_ERASED' } });
  });

  it("disables or hides what a viewer's role may not do", async () => {
    const context = await newContext();
    try {
      const page = await signIn(context, BOB);
      expect(await page.getByRole('link', { name: 'Audit log' }).count()).toBe(0);
      await page.getByRole('link', { name: 'Templates' }).click();
      expect(await page.getByRole('button', { name: 'New template' }).isDisabled()).toBe(true);
      await page.getByRole('link', { name: 'Agents' }).click();
      expect(await page.getByRole('button', { name: 'Add agent' }).isDisabled()).toBe(true);
      await page.getByRole('table').waitFor();
      expect(await page.getByRole('button', { name: 'Edit' }).count()).toBe(0);
    } finally {
      await context.close();
    }
  });

  it('tells someone without a session how to sign in', async () => {
    const context = await newContext();
    try {
      const page = await context.newPage();
      const response = await page.goto(`${a}/console/agents`);
      expect(response?.headers()['content-security-policy']).toContain(
        'frame-ancestors https://web.telegram.org',
      );
      await page.getByText('send /console', { exact: false }).waitFor();
      expect(await axeViolations(page, { minImpact: 'serious' })).toEqual([]);
    } finally {
      await context.close();
    }
  });

  const VARIANTS = {
    desktop: { viewport: { width: 1280, height: 800 } },
    phone: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true },
    dark: { viewport: { width: 1280, height: 800 }, colorScheme: 'dark' as const },
    rtl: { viewport: { width: 1280, height: 800 } },
  } as const;

  it('passes axe on every page, at desktop, phone, dark and right-to-left, with screenshots', async () => {
    // A bot channel's segment on a group and a priority rule, so the pages show them (level 2:
    // no new conversation is routed to that group).
    const group = await admin(a, SERVICE_TOKEN, 'PUT', '/v1/admin/groups/-1009990000002', {
      title: 'VIP escalations',
      level: 2,
      segments: ['vip'],
    });
    expect(group.status).toBe(200);
    const rules = await admin(a, SERVICE_TOKEN, 'PUT', '/v1/admin/priority-rules', {
      rules: [{ pageUrlPrefix: null, locale: null, segment: 'vip', priority: 'high' }],
    });
    expect(rules.status).toBe(200);
    const pages = [
      ['overview', '/'],
      ['conversations', '/conversations'],
      ['transcript', `/conversations/${ticket}`],
      ['agents', '/agents'],
      ['groups', '/groups'],
      ['templates', '/templates'],
      ['settings', '/settings'],
      ['reports', '/reports'],
      ['audit', '/audit'],
      ['setup', '/setup'],
      ['sessions', '/sessions'],
    ] as const;
    const dir = join(screenshotDir, 'console');
    mkdirSync(dir, { recursive: true });
    const cookies = await adminContext.cookies(a);
    const problems: string[] = [];
    for (const [variant, options] of Object.entries(VARIANTS)) {
      const context = await newContext(options);
      await context.addCookies(cookies);
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      for (const [name, path] of pages) {
        const shot = join(dir, `${name}-${variant}.png`);
        for (const v of await consolePageChecked(page, `${a}/console${path}`, variant, shot))
          problems.push(`${name} (${variant}) ${v}`);
      }
      expect(errors).toEqual([]);
      await context.close();
    }
    expect(problems).toEqual([]);
  }, 300_000);

  it('draws the report charts again in the dark colours when the scheme switches, without a reload', async () => {
    const context = await newContext({ colorScheme: 'light' });
    await context.addCookies(await adminContext.cookies(a));
    try {
      const page = await context.newPage();
      await page.goto(`${a}/console/reports`);
      // The volume chart has the conversations of this suite; its legend swatch has its colour.
      const swatch = page.locator('.uplot .u-legend .u-series:nth-child(2) .u-marker').first();
      await swatch.waitFor();
      const colour = () => swatch.evaluate((el) => getComputedStyle(el).backgroundColor);
      const light = await colour();
      await page.emulateMedia({ colorScheme: 'dark' });
      await expect.poll(colour).not.toBe(light);
      // --chart-1 of the dark scheme (#4493f8), as the stylesheet says.
      expect(await colour()).toBe('rgb(68, 147, 248)');
      await page.emulateMedia({ colorScheme: 'light' });
      await expect.poll(colour).toBe(light);
    } finally {
      await context.close();
    }
  });
});
