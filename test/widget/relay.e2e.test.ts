// The widget in a real Chromium against every service as its own process: two gateway
// replicas behind a round-robin proxy, bridge, scheduler, the Telegram sandbox.
import { createServer, type Server } from 'node:http';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@topicdesk/testkit';
import { launchBrowser, send, skipBrowser, widget } from '../support/browser';
import { agentSays, botTexts, startCluster, topicOf, type Cluster } from '../support/cluster';

let cluster: Cluster;
let browser: Browser;
let base: string;
let site: { server: Server; url: string };
const contexts: BrowserContext[] = [];

interface PageProblems {
  errors: string[];
  dialogs: string[];
}

/** A page that records script errors and dialogs, and CSP violations in `window.__csp`. */
async function newPage(context: BrowserContext): Promise<Page & { problems: PageProblems }> {
  const page = (await context.newPage()) as Page & { problems: PageProblems };
  page.problems = { errors: [], dialogs: [] };
  page.on('pageerror', (error) => page.problems.errors.push(error.message));
  page.on('dialog', (dialog) => {
    page.problems.dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  await page.addInitScript(() => {
    const w = window as unknown as { __csp: string[] };
    w.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) =>
      w.__csp.push(`${e.violatedDirective} ${e.blockedURI}`),
    );
  });
  return page;
}

async function context(options: Parameters<Browser['newContext']>[0] = {}) {
  const created = await browser.newContext({ viewport: { width: 1100, height: 760 }, ...options });
  contexts.push(created);
  return created;
}

/** The demo page through the load balancer, widget opened. */
async function openDemo(ctx: BrowserContext) {
  const page = await newPage(ctx);
  await page.goto(`${base}/demo`);
  const w = widget(page);
  await w.launcher.click();
  await w.input.waitFor({ state: 'visible' });
  return page;
}

async function ticketOf(page: Page): Promise<string> {
  const key = `topicdesk:${base}`;
  return expect
    .poll(async () =>
      page.evaluate(
        (k) =>
          (JSON.parse(localStorage.getItem(k) ?? 'null') as { ticket?: string } | null)?.ticket,
        key,
      ),
    )
    .toMatch(/^SUPP-/)
    .then(() =>
      page.evaluate(
        (k) => (JSON.parse(localStorage.getItem(k)!) as { ticket: string }).ticket,
        key,
      ),
    );
}

/** Each visitor text the bot sent into the topic (merged sends split again). */
function topicLines(threadId: number): string[] {
  return botTexts(cluster.sandbox, threadId).flatMap((t) => t.split('\n\n'));
}

async function rowsOf(page: Page) {
  return widget(page).rows.evaluateAll((rows) =>
    rows.map((r) => ({
      kind: r.getAttribute('data-kind'),
      seq: r.getAttribute('data-seq'),
      state: r.getAttribute('data-state'),
      text: r.querySelector('.text')?.textContent ?? '',
    })),
  );
}

async function waitForText(page: Page, kind: 'visitor' | 'agent' | 'system', text: string) {
  await expect
    .poll(() => widget(page).texts(kind).allTextContents(), { timeout: 20_000 })
    .toContain(text);
}

/** The gateway acked (stored) the message: it has a seq and a state past "sending". */
async function waitForAck(page: Page, text: string, timeout = 20_000) {
  await expect
    .poll(
      async () => {
        const row = (await rowsOf(page)).find((r) => r.kind === 'visitor' && r.text === text);
        return row?.seq && ['sent', 'delivered', 'retrying'].includes(row.state ?? '')
          ? 'acked'
          : row?.state;
      },
      { timeout },
    )
    .toBe('acked');
}

async function waitForState(page: Page, text: string, states: string[], timeout = 20_000) {
  await expect
    .poll(
      async () => (await rowsOf(page)).find((r) => r.kind === 'visitor' && r.text === text)?.state,
      {
        timeout,
      },
    )
    .toSatisfy((state) => typeof state === 'string' && states.includes(state));
}

beforeAll(async () => {
  cluster = await startCluster({
    gateways: 2,
    proxy: true,
    // The widget is under test, not the bridge's Telegram budgets (the sandbox enforces none
    // here): without this, 20 sends a minute per group would make later tests wait for budget.
    bridgeEnv: { TELEGRAM_LIMIT_GROUP_PER_MINUTE: '1000', TELEGRAM_LIMIT_CHAT_PER_SECOND: '50' },
  });
  base = cluster.proxy!.url;
  if (!skipBrowser) browser = await launchBrowser();
  // Another website (another origin) that embeds the widget with nothing but a script tag.
  const port = await freePort();
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Another shop</title></head>` +
        `<body><h1>Another shop</h1><script src="${base}/widget.js"></script>` +
        `<script>SupportChat.init({ openOnLoad: true })</script></body></html>`,
    );
  });
  await new Promise<void>((resolve) => server.listen(port, 'localhost', () => resolve()));
  site = { server, url: `http://localhost:${port}` };
}, 180_000);

// Each test's pages go away with it: sockets of one test never count in another.
afterEach(async () => {
  await Promise.allSettled(contexts.splice(0).map((c) => c.close()));
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => site?.server.close(resolve));
  await cluster?.stop();
});

describe.skipIf(skipBrowser)('the widget against the cluster', () => {
  it('sends from the demo page into the topic, shows the states, and shows the agent reply', async () => {
    const ctx = await context();
    const api: string[] = [];
    ctx.on('request', (request) => {
      if (request.url().includes('/v1/'))
        api.push(`${request.method()} ${new URL(request.url()).pathname}`);
    });
    const page = await openDemo(ctx);
    const w = widget(page);
    // Loading the page and opening the widget start nothing: the first message does.
    await page.waitForTimeout(300);
    expect(api).toEqual([]);
    await send(page, 'Hello from a real browser');
    await waitForAck(page, 'Hello from a real browser');

    const ticket = await ticketOf(page);
    const threadId = await topicOf(cluster.sandbox, ticket);
    await cluster.sandbox.state.waitFor(() =>
      topicLines(threadId).includes('Hello from a real browser'),
    );
    await waitForState(page, 'Hello from a real browser', ['delivered']);

    agentSays(cluster.sandbox, threadId, 'Hi! How can I help?');
    await waitForText(page, 'agent', 'Hi! How can I help?');
    // Agents appear by display name only ("Support" for unregistered members), with a joined note.
    expect(await w.root.locator('.log li.agent:not(.greeting) .author').allTextContents()).toEqual([
      'Support',
    ]);
    await waitForText(page, 'system', 'Support joined the conversation.');
    expect(await w.root.locator('.log').textContent()).not.toMatch(/Alice|Agentova|alice_agent/);
    // Screen readers hear the reply through the live region.
    expect(await w.live.textContent()).toContain('Hi! How can I help?');
    expect(await w.root.locator('.head h2').textContent()).toContain('Support');

    // Strict CSP and Trusted Types on the demo: nothing was blocked, nothing threw.
    expect(await page.evaluate(() => (window as unknown as { __csp: string[] }).__csp)).toEqual([]);
    expect(page.problems.errors).toEqual([]);
    // The site's heavy-handed CSS stays outside: its hotpink buttons and serif font never apply.
    const launcher = await w.launcher.evaluate((el) => {
      const style = getComputedStyle(el);
      return { background: style.backgroundColor, font: style.fontFamily };
    });
    expect(launcher.background).toBe('rgb(29, 91, 214)');
    expect(await w.input.evaluate((el) => getComputedStyle(el).fontFamily)).not.toMatch(/Georgia/);
    expect(launcher.font).not.toMatch(/Georgia/);
  });

  it('restores the history in order after a reload, and a second tab follows the conversation live', async () => {
    const ctx = await context();
    const page = await openDemo(ctx);
    await send(page, 'first from tab one');
    await waitForAck(page, 'first from tab one');
    const ticket = await ticketOf(page);
    const threadId = await topicOf(cluster.sandbox, ticket);
    agentSays(cluster.sandbox, threadId, 'agent answers');
    await waitForText(page, 'agent', 'agent answers');
    await send(page, 'second from tab one');
    await waitForAck(page, 'second from tab one');
    const before = await rowsOf(page);

    await page.reload();
    await widget(page).launcher.click();
    await expect
      .poll(async () => (await rowsOf(page)).map((r) => [r.kind, r.text]), { timeout: 15_000 })
      .toEqual(before.map((r) => [r.kind, r.text]));
    const seqs = (await rowsOf(page)).map((r) => Number(r.seq));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(await widget(page).root.locator('.subtitle').textContent()).toContain(ticket);

    // The one thing stored: this conversation's short-lived credential.
    const stored = await page.evaluate(() => ({
      local: Object.keys(localStorage),
      session: Object.keys(sessionStorage),
      cookies: document.cookie,
    }));
    expect(stored).toEqual({ local: [`topicdesk:${base}`], session: [], cookies: '' });
    const credential = await page.evaluate(
      (k) => JSON.parse(localStorage.getItem(k)!) as object,
      `topicdesk:${base}`,
    );
    expect(Object.keys(credential).sort()).toEqual([
      'conversationId',
      'expiresAt',
      'ticket',
      'token',
    ]);

    const tab2 = await openDemo(ctx);
    await expect
      .poll(async () => (await rowsOf(tab2)).map((r) => r.text), { timeout: 15_000 })
      .toEqual(before.map((r) => r.text));
    await send(page, 'third, seen in the other tab');
    await waitForText(tab2, 'visitor', 'third, seen in the other tab');
    await send(tab2, 'written in tab two');
    await waitForText(page, 'visitor', 'written in tab two');
    agentSays(cluster.sandbox, threadId, 'both tabs see this');
    await waitForText(page, 'agent', 'both tabs see this');
    await waitForText(tab2, 'agent', 'both tabs see this');
    for (const p of [page, tab2]) {
      const texts = (await rowsOf(p)).map((r) => r.text);
      expect(texts.filter((t) => t === 'written in tab two')).toHaveLength(1);
      expect(texts.filter((t) => t === 'third, seen in the other tab')).toHaveLength(1);
    }
    await cluster.sandbox.state
      .waitFor(
        () =>
          ['third, seen in the other tab', 'written in tab two'].every((t) =>
            topicLines(threadId).includes(t),
          ),
        20_000,
      )
      .catch((error: Error) => {
        throw new Error(`${error.message}; topic has ${JSON.stringify(topicLines(threadId))}`);
      });
  });

  it('shows XSS payloads from the visitor and from an agent as text, and runs none of them', async () => {
    const ctx = await context();
    const page = await newPage(ctx);
    // A site without any CSP: only the widget's own rendering stands between payload and page.
    await page.goto(site.url);
    const w = widget(page);
    await w.input.waitFor({ state: 'visible' });
    const payloads = [
      '<img src=x onerror="window.__xss=(window.__xss||0)+1;alert(1)">',
      '<script>window.__xss=(window.__xss||0)+1;alert(2)</script>',
      'javascript:window.__xss=1;alert(3)',
      '<a href="javascript:window.__xss=1">click me</a>',
      '<svg onload=alert(4)><style>*{display:none}</style>',
      `${'Supercalifragilistic'.repeat(150)}`,
    ];
    for (const payload of payloads) await send(page, payload);
    for (const payload of payloads) await waitForAck(page, payload);

    const ticket = await ticketOf(page);
    const threadId = await topicOf(cluster.sandbox, ticket);
    for (const payload of payloads) agentSays(cluster.sandbox, threadId, payload);
    agentSays(
      cluster.sandbox,
      threadId,
      'Docs: https://example.com/help?q=1. Not a link: javascript:alert(5)',
    );
    await expect
      .poll(() => w.texts('agent').allTextContents(), { timeout: 20_000 })
      .toEqual([
        ...payloads,
        'Docs: https://example.com/help?q=1. Not a link: javascript:alert(5)',
      ]);
    expect(await w.texts('visitor').allTextContents()).toEqual(payloads);

    const dom = await w.root.evaluate((host) => {
      const root = host.shadowRoot!;
      return {
        dangerous: root.querySelectorAll('img, script, iframe, object, embed, svg image, style')
          .length,
        links: Array.from(root.querySelectorAll('a')).map((a) => ({
          href: a.getAttribute('href'),
          rel: a.getAttribute('rel'),
          target: a.getAttribute('target'),
        })),
        handlers: Array.from(root.querySelectorAll('*')).filter((el) =>
          Array.from(el.attributes).some((a) => a.name.startsWith('on')),
        ).length,
      };
    });
    expect(dom.dangerous).toBe(0);
    expect(dom.handlers).toBe(0);
    expect(dom.links).toEqual([
      { href: 'https://example.com/help?q=1', rel: 'noopener noreferrer', target: '_blank' },
    ]);
    // The long word wraps inside its bubble instead of stretching the conversation.
    const overflow = await w.log.evaluate((log) => log.scrollWidth - log.clientWidth);
    expect(overflow).toBeLessThanOrEqual(1);
    await page.waitForTimeout(300);
    expect(
      await page.evaluate(() => (window as unknown as { __xss?: number }).__xss),
    ).toBeUndefined();
    expect(page.problems.dialogs).toEqual([]);
    expect(page.problems.errors).toEqual([]);
    // Agents get the visitor's text verbatim, as text.
    await cluster.sandbox.state.waitFor(
      () => payloads.every((p) => topicLines(threadId).includes(p)),
      20_000,
    );
  });

  it('moves to the other replica when its own stops or dies, losing and duplicating nothing', async () => {
    const page = await openDemo(await context());
    await send(page, 'before any failover');
    await waitForAck(page, 'before any failover');
    const threadId = await topicOf(cluster.sandbox, await ticketOf(page));
    const socketOn = () => cluster.proxy!.connections(/^GET \/v1\/ws/).map((c) => c.upstream);

    for (const how of ['stop', 'kill'] as const) {
      await expect.poll(socketOn).toHaveLength(1);
      const [replica] = socketOn();
      const gateway = cluster.gateways[replica!]!;
      await (how === 'stop' ? gateway.stop() : gateway.kill());
      // Whatever happens meanwhile arrives once the widget is back, on the other replica.
      agentSays(cluster.sandbox, threadId, `reply during ${how}`);
      await send(page, `sent right after ${how}`);
      await expect.poll(socketOn, { timeout: 20_000 }).toEqual([1 - replica!]);
      await waitForText(page, 'agent', `reply during ${how}`);
      await waitForAck(page, `sent right after ${how}`);
      await gateway.start(60_000);
    }
    await send(page, 'after both');
    await waitForAck(page, 'after both');

    const rows = await rowsOf(page);
    const expected = [
      'before any failover',
      'sent right after stop',
      'sent right after kill',
      'after both',
    ];
    expect(rows.filter((r) => r.kind === 'visitor').map((r) => r.text)).toEqual(expected);
    expect(rows.filter((r) => r.kind === 'agent').map((r) => r.text)).toEqual([
      'reply during stop',
      'reply during kill',
    ]);
    const seqs = rows.map((r) => Number(r.seq));
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    const lines = await cluster.sandbox.state.waitFor(() => {
      const all = topicLines(threadId);
      return expected.every((t) => all.includes(t)) ? all : undefined;
    }, 30_000);
    expect(lines).toEqual(expected);
  });

  it('queues messages typed offline and delivers each exactly once, in order, when back online', async () => {
    const ctx = await context();
    const page = await openDemo(ctx);
    const w = widget(page);
    await send(page, 'online before');
    await waitForAck(page, 'online before');
    const threadId = await topicOf(cluster.sandbox, await ticketOf(page));
    await cluster.sandbox.state.waitFor(() => topicLines(threadId).length === 1, 20_000);

    await ctx.setOffline(true);
    await expect.poll(() => w.banner.textContent()).toMatch(/offline/i);
    await send(page, 'typed offline one');
    await send(page, 'typed offline two');
    await page.waitForTimeout(1500);
    expect(
      (await rowsOf(page)).filter((r) => r.text.startsWith('typed offline')).map((r) => r.state),
    ).toEqual(['queued', 'queued']);
    expect(topicLines(threadId)).toEqual(['online before']);

    await ctx.setOffline(false);
    await waitForAck(page, 'typed offline one');
    await waitForAck(page, 'typed offline two');
    await expect.poll(() => w.banner.isVisible()).toBe(false);
    const expected = ['online before', 'typed offline one', 'typed offline two'];
    const lines = await cluster.sandbox.state.waitFor(() => {
      const all = topicLines(threadId);
      return all.length >= 3 ? all : undefined;
    }, 20_000);
    await page.waitForTimeout(1000);
    expect(topicLines(threadId)).toEqual(expected);
    expect(lines).toEqual(expected);
    expect((await rowsOf(page)).map((r) => r.text)).toEqual(expected);
    await waitForState(page, 'typed offline two', ['delivered']);
  });
});
