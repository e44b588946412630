// The widget's behaviour on a page: path gating and SPA routes, locales and right-to-left,
// keyboard-only use, the closed state, the visitor's name, token expiry, the script's caching,
// and screenshots in light, dark and narrow layouts. Tokens here live 6 s, so every test also
// runs through token refreshes.
import { createServer, type Server } from 'node:http';
import { gzipSync } from 'node:zlib';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@topicdesk/testkit';
import { SIZE_BUDGET_BYTES } from '@topicdesk/widget/build';
import { launchBrowser, screenshot, send, skipBrowser, widget } from '../support/browser';
import { header } from '../support/agents';
import { agentSays, startCluster, topicOf, type Cluster } from '../support/cluster';

const TOKEN_TTL_MS = 6000;

let cluster: Cluster;
let browser: Browser;
let gateway: string;
let site: { server: Server; url: string };
const contexts: BrowserContext[] = [];

async function context(options: Parameters<Browser['newContext']>[0] = {}) {
  const created = await browser.newContext({ viewport: { width: 1100, height: 760 }, ...options });
  contexts.push(created);
  return created;
}

async function page(ctx: BrowserContext): Promise<Page> {
  const p = await ctx.newPage();
  const errors: string[] = [];
  p.on('pageerror', (error) => errors.push(error.message));
  (p as Page & { errors: string[] }).errors = errors;
  return p;
}

const storageKey = () => `topicdesk:${gateway}`;

async function credential(
  p: Page,
): Promise<{ conversationId: string; ticket: string; token: string }> {
  await expect.poll(() => p.evaluate((k) => localStorage.getItem(k), storageKey())).toBeTruthy();
  return p.evaluate(
    (k) =>
      JSON.parse(localStorage.getItem(k)!) as {
        conversationId: string;
        ticket: string;
        token: string;
      },
    storageKey(),
  );
}

async function visitorStates(p: Page) {
  return widget(p).rows.evaluateAll((rows) =>
    rows
      .filter((r) => r.getAttribute('data-kind') === 'visitor')
      .map((r) => [r.querySelector('.text')?.textContent, r.getAttribute('data-seq') !== null]),
  );
}

async function waitAcked(p: Page, text: string) {
  await expect
    .poll(async () => (await visitorStates(p)).some(([t, acked]) => t === text && acked), {
      timeout: 20_000,
    })
    .toBe(true);
}

/** Whether the launcher is shown on the page right now. */
const launcherShown = (p: Page) => widget(p).launcher.isVisible();

beforeAll(async () => {
  cluster = await startCluster({
    gateways: 1,
    gatewayEnv: { TOKEN_TTL: `${TOKEN_TTL_MS}ms` },
    bridgeEnv: { TELEGRAM_LIMIT_GROUP_PER_MINUTE: '1000', TELEGRAM_LIMIT_CHAT_PER_SECOND: '50' },
  });
  gateway = cluster.gateways[0]!.url;
  if (!skipBrowser) browser = await launchBrowser();
  // Another website: any path serves a page with the classic script (init from the test), and
  // /esm one that imports the ES module build.
  const port = await freePort();
  const server = createServer((request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    const esm = request.url === '/esm';
    // /auto starts the widget itself and logs what it hears: a test that evaluates nothing in the
    // page (Playwright's evaluate counts as a user gesture) sees it as a visitor would.
    const auto =
      request.url === '/auto'
        ? `<script>SupportChat.init({});` +
          `SupportChat.on('message', (m) => console.log('td:message ' + m.text));` +
          `SupportChat.on('connection', (s) => console.log('td:connection ' + s));</script>`
        : '';
    response.end(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Site</title></head><body>` +
        `<h1>Site</h1><a id="somewhere" href="#">link</a>` +
        (esm
          ? `<script type="module">import { SupportChat } from '${gateway}/widget.mjs';` +
            `SupportChat.init({ origin: '${gateway}' }); window.__esm = true;</script>`
          : `<script src="${gateway}/widget.js"></script>${auto}`) +
        `</body></html>`,
    );
  });
  await new Promise<void>((resolve) => server.listen(port, 'localhost', () => resolve()));
  site = { server, url: `http://localhost:${port}` };
}, 180_000);

afterEach(async () => {
  await Promise.allSettled(contexts.splice(0).map((c) => c.close()));
});

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => site?.server.close(resolve));
  await cluster?.stop();
});

describe.skipIf(skipBrowser)('the widget on a page', () => {
  it('shows itself only where the path rules allow, following SPA navigation with observeRoute', async () => {
    const p = await page(await context());
    await p.goto(`${site.url}/shop/item-1`);
    await p.evaluate(() => {
      window.SupportChat.init({
        includePaths: ['/shop/*', /^\/help$/],
        excludePaths: ['/shop/checkout'],
        observeRoute: true,
      });
    });
    await expect.poll(() => launcherShown(p)).toBe(true);
    const go = async (path: string) => p.evaluate((to) => history.pushState(null, '', to), path);
    await go('/shop/checkout');
    await expect.poll(() => launcherShown(p)).toBe(false);
    await go('/about');
    await expect.poll(() => launcherShown(p)).toBe(false);
    await go('/help');
    await expect.poll(() => launcherShown(p)).toBe(true);
    await p.evaluate(() => history.replaceState(null, '', '/shop/checkout'));
    await expect.poll(() => launcherShown(p)).toBe(false);
    await p.goBack(); // popstate back to /about
    await expect.poll(() => p.evaluate(() => location.pathname)).toBe('/about');
    await expect.poll(() => launcherShown(p)).toBe(false);
    await p.goBack(); // /shop/checkout … then /shop/item-1
    await p.goBack();
    await expect.poll(() => p.evaluate(() => location.pathname)).toBe('/shop/item-1');
    await expect.poll(() => launcherShown(p)).toBe(true);

    // Without observeRoute the widget looks again only when asked to.
    await p.evaluate(() => {
      window.SupportChat.destroy();
      window.SupportChat.init({ excludePaths: [/^\/private/] });
    });
    await expect.poll(() => launcherShown(p)).toBe(true);
    await p.evaluate(() => history.pushState(null, '', '/private/area'));
    await p.waitForTimeout(200);
    expect(await launcherShown(p)).toBe(true);
    await p.evaluate(() => window.SupportChat.recheck());
    await expect.poll(() => launcherShown(p)).toBe(false);
    // A theme is custom properties, here per scheme; position moves the launcher.
    await p.evaluate(() => {
      window.SupportChat.destroy();
      window.SupportChat.init({
        position: 'left',
        theme: { light: { '--td-accent': '#0a6640' }, dark: { '--td-accent': '#35a06d' } },
      });
    });
    const launcher = await widget(p).launcher.evaluate((el) => ({
      background: getComputedStyle(el).backgroundColor,
      left: el.getBoundingClientRect().left,
    }));
    expect(launcher).toEqual({ background: 'rgb(10, 102, 64)', left: 20 });
    // destroy() leaves nothing behind, and history is the page's own again.
    await p.evaluate(() => window.SupportChat.destroy());
    expect(await p.locator('topicdesk-chat').count()).toBe(0);
    expect((p as Page & { errors: string[] }).errors).toEqual([]);
  });

  it('hides on the demo checkout route, and setLocale switches strings and direction', async () => {
    // Wide enough that the open panel leaves the demo's language buttons uncovered.
    const p = await page(await context({ viewport: { width: 1600, height: 900 } }));
    await p.goto(`${gateway}/demo`);
    const w = widget(p);
    await w.launcher.click();
    await expect.poll(() => w.input.getAttribute('placeholder')).toBe('Write a message…');
    await p.getByRole('button', { name: 'DE' }).click();
    await expect.poll(() => w.input.getAttribute('placeholder')).toBe('Nachricht schreiben…');
    expect(await w.root.locator('.head h2').textContent()).toBe('Kundendienst');
    expect(await w.launcher.getAttribute('aria-label')).toBe('Chat schließen');
    expect(await w.root.locator('.root').getAttribute('dir')).toBe('ltr');
    await p.getByRole('button', { name: 'AR' }).click();
    await expect.poll(() => w.input.getAttribute('placeholder')).toBe('اكتب رسالة…');
    expect(await w.root.locator('.root').getAttribute('dir')).toBe('rtl');
    expect(await w.root.locator('.root').getAttribute('lang')).toBe('ar');
    // Mirrored: the panel's text starts on the right.
    expect(await w.input.evaluate((el) => getComputedStyle(el).direction)).toBe('rtl');
    await screenshot(p, 'widget-rtl');
    await p.getByRole('button', { name: 'EN' }).click();
    await expect.poll(() => w.input.getAttribute('placeholder')).toBe('Write a message…');

    await p.getByRole('link', { name: 'Checkout' }).click();
    await expect.poll(() => launcherShown(p)).toBe(false);
    await p.getByRole('link', { name: 'Shop' }).click();
    await expect.poll(() => launcherShown(p)).toBe(true);
  });

  it('is usable with the keyboard alone, from opening to sending to closing', async () => {
    const p = await page(await context());
    await p.goto(`${gateway}/demo`);
    const focused = () =>
      p.evaluate(() => {
        const host = document.activeElement;
        if (host?.tagName !== 'TOPICDESK-CHAT') return host?.tagName ?? null;
        const inner = host.shadowRoot?.activeElement;
        return inner ? `${inner.tagName}.${inner.className}` : 'TOPICDESK-CHAT';
      });
    for (let i = 0; i < 30 && (await focused()) !== 'BUTTON.launcher'; i++)
      await p.keyboard.press('Tab');
    expect(await focused()).toBe('BUTTON.launcher');
    await p.keyboard.press('Enter');
    // Focus goes into the composer when the panel opens.
    await expect.poll(focused).toBe('TEXTAREA.');
    expect(await widget(p).launcher.getAttribute('aria-expanded')).toBe('true');
    await p.keyboard.type('Typed without a mouse');
    await p.keyboard.press('Enter');
    await waitAcked(p, 'Typed without a mouse');
    // Shift+Enter is a new line, not a send.
    await p.keyboard.type('line one');
    await p.keyboard.press('Shift+Enter');
    await p.keyboard.type('line two');
    expect(await widget(p).input.inputValue()).toBe('line one\nline two');
    await p.keyboard.press('Enter');
    await waitAcked(p, 'line one\nline two');

    // The name can be changed from the keyboard too.
    await p.keyboard.press('Shift+Tab'); // "Attach files", before the message box
    expect(await focused()).toBe('BUTTON.icon attach');
    await p.keyboard.press('Shift+Tab'); // the conversation log (scrollable, focusable)
    await p.keyboard.press('Shift+Tab'); // "Change your name"
    expect(await focused()).toBe('BUTTON.link');
    await p.keyboard.press('Enter');
    await p.keyboard.type('Dana');
    await p.keyboard.press('Enter');
    const { conversationId, token } = await credential(p);
    await expect
      .poll(async () => {
        const fresh = await credential(p);
        const res = await fetch(`${gateway}/v1/conversations/${conversationId}`, {
          headers: { authorization: `Bearer ${fresh.token || token}` },
        });
        return ((await res.json()) as { name?: string }).name;
      })
      .toBe('Dana');
    expect(await widget(p).root.locator('.who b').textContent()).toBe('Dana');

    await p.keyboard.press('Escape');
    await expect.poll(() => widget(p).panel.isVisible()).toBe(false);
    expect(await focused()).toBe('BUTTON.launcher');
    expect(await widget(p).launcher.getAttribute('aria-expanded')).toBe('false');
  });

  it('shows the closed state, and starts a new conversation from it', async () => {
    const p = await page(await context());
    await p.goto(`${gateway}/demo`);
    const w = widget(p);
    await w.launcher.click();
    await send(p, 'Please close this one');
    await waitAcked(p, 'Please close this one');
    const first = await credential(p);
    const threadId = await topicOf(cluster.sandbox, first.ticket);
    agentSays(cluster.sandbox, threadId, 'Done, closing it.');
    agentSays(cluster.sandbox, threadId, '/close');
    await expect.poll(() => w.closed.isVisible(), { timeout: 20_000 }).toBe(true);
    expect(await w.input.isVisible()).toBe(false);
    // A closed conversation is kept for a later visit only while its rating is asked for
    // (test/widget/rating.e2e.test.ts); a new conversation replaces it.
    await expect.poll(() => w.root.locator('form.rating').isVisible()).toBe(true);

    await w.closed.getByRole('button', { name: 'Start a new conversation' }).click();
    await expect.poll(() => w.input.isVisible()).toBe(true);
    // The finished conversation stays above the new one, ended by a line with its ticket.
    expect(await w.texts('system').allTextContents()).toContain(
      `Conversation ${first.ticket} ended`,
    );
    await send(p, 'A new question');
    await waitAcked(p, 'A new question');
    const second = await credential(p);
    expect(second.ticket).not.toBe(first.ticket);
  });

  it('signals typing (throttled), and rings, vibrates and reports events for a reply while closed', async () => {
    const ctx = await context();
    await ctx.addInitScript(() => {
      const w = window as unknown as { __beeps: number; __vibrations: number; __events: string[] };
      w.__beeps = 0;
      w.__vibrations = 0;
      w.__events = [];
      // Count beeps where they start; the widget's sound is a short oscillator tone.
      const start = Object.getOwnPropertyDescriptor(AudioScheduledSourceNode.prototype, 'start')!
        .value as (when?: number) => void;
      AudioScheduledSourceNode.prototype.start = function (
        this: AudioScheduledSourceNode,
        when?: number,
      ) {
        w.__beeps++;
        Reflect.apply(start, this, [when]);
      };
      navigator.vibrate = () => {
        w.__vibrations++;
        return true;
      };
    });
    const p = await page(ctx);
    const typingFrames: number[] = [];
    p.on('websocket', (ws) =>
      ws.on('framesent', (frame) => {
        if (String(frame.payload).includes('"typing"')) typingFrames.push(Date.now());
      }),
    );
    await p.goto(`${site.url}/support`);
    await p.evaluate(() => {
      const w = window as unknown as { __events: string[] };
      for (const name of ['open', 'close', 'conversation', 'sent', 'message', 'unread'] as const)
        window.SupportChat.on(name, () => w.__events.push(name));
      window.SupportChat.init({ soundDefaultOn: true, vibrationDefaultOn: true });
    });
    const w = widget(p);
    await w.launcher.click();
    expect(await w.root.locator('.head button[aria-pressed]').getAttribute('aria-pressed')).toBe(
      'true',
    );
    await send(p, 'I will type more');
    await waitAcked(p, 'I will type more');
    const { ticket } = await credential(p);
    const threadId = await topicOf(cluster.sandbox, ticket);

    const typingFrom = Date.now();
    await w.input.pressSequentially('typing for a while…', { delay: 60 });
    const typedFor = Date.now() - typingFrom;
    await expect
      .poll(
        () =>
          cluster.sandbox.state
            .calls({ method: 'sendChatAction' })
            .filter((c) => Number(c.params['message_thread_id']) === threadId).length,
        { timeout: 10_000 },
      )
      .toBeGreaterThanOrEqual(1);
    // A keystroke every 60 ms, but at most one typing frame per 3 s.
    expect(typingFrames.length).toBeGreaterThanOrEqual(1);
    expect(typingFrames.length).toBeLessThanOrEqual(1 + Math.floor(typedFor / 3000));
    for (let i = 1; i < typingFrames.length; i++)
      expect(typingFrames[i]! - typingFrames[i - 1]!).toBeGreaterThanOrEqual(2900);

    await w.closeButton.click();
    agentSays(cluster.sandbox, threadId, 'A reply while the chat is closed');
    await expect.poll(() => w.badge.textContent(), { timeout: 15_000 }).toBe('1');
    const seen = await p.evaluate(() => {
      const { __beeps, __vibrations, __events } = window as unknown as {
        __beeps: number;
        __vibrations: number;
        __events: string[];
      };
      return { __beeps, __vibrations, __events };
    });
    expect(seen.__beeps).toBeGreaterThanOrEqual(1);
    expect(seen.__vibrations).toBe(1);
    // In order of first occurrence ("message" fires for the joined note and the reply).
    expect([...new Set(seen.__events)]).toEqual([
      'open',
      'conversation',
      'sent',
      'close',
      'message',
      'unread',
    ]);
  });

  it('counts unread replies in the page title while the chat is out of sight, keeps the site’s own title under it, and restores it exactly', async () => {
    const p = await page(await context());
    await p.goto(`${site.url}/title`);
    await p.evaluate(() => window.SupportChat.init({}));
    const w = widget(p);
    await w.launcher.click();
    await send(p, 'Counting in the title');
    await waitAcked(p, 'Counting in the title');
    const threadId = await topicOf(cluster.sandbox, (await credential(p)).ticket);
    const title = () => p.evaluate(() => document.title);
    const agentCount = async (n: number) =>
      expect.poll(() => widget(p).texts('agent').count(), { timeout: 15_000 }).toBe(n);
    // The page hidden (another tab) or shown again, as the browser says it.
    const setHidden = (hidden: boolean) =>
      p.evaluate((h) => {
        Object.defineProperty(document, 'visibilityState', {
          configurable: true,
          get: () => (h ? 'hidden' : 'visible'),
        });
        document.dispatchEvent(new Event('visibilitychange'));
      }, hidden);

    // Seen as it comes: the panel is open on a visible page.
    agentSays(cluster.sandbox, threadId, 'Seen right away');
    await agentCount(1);
    expect(await title()).toBe('Site');

    await w.closeButton.click();
    agentSays(cluster.sandbox, threadId, 'While closed');
    await expect.poll(title, { timeout: 15_000 }).toBe('(1) Site');
    // The site changes its own title meanwhile: the count stays in front of the new one.
    await p.evaluate(() => (document.title = 'Cart · Site'));
    await expect.poll(title).toBe('(1) Cart · Site');
    agentSays(cluster.sandbox, threadId, '/close');
    await expect
      .poll(() => w.texts('system').allTextContents(), { timeout: 15_000 })
      .toContainEqual(expect.stringContaining('This conversation was closed.'));
    const afterClose = Number(/^\((\d)\)/.exec(await title())![1]);
    // The closing note counts as well as the agent's reply.
    expect(afterClose).toBeGreaterThanOrEqual(2);
    await w.launcher.click();
    await expect.poll(title).toBe('Cart · Site');

    // Open but on a hidden page: counted until the page shows again.
    await w.closed.getByRole('button', { name: 'Start a new conversation' }).click();
    await send(p, 'Second conversation');
    await waitAcked(p, 'Second conversation');
    const { ticket } = await credential(p);
    const second = await topicOf(cluster.sandbox, ticket);
    // The welcome (a banner) is in: what follows is what comes while the page is hidden.
    await expect.poll(() => w.notice.textContent(), { timeout: 15_000 }).toContain(ticket);
    await setHidden(true);
    agentSays(cluster.sandbox, second, 'While the tab is hidden');
    // The reply, and the note that the agent joined this conversation.
    await expect.poll(title, { timeout: 15_000 }).toBe('(2) Cart · Site');
    await setHidden(false);
    await expect.poll(title).toBe('Cart · Site');

    // destroy() takes the count away too.
    await w.closeButton.click();
    agentSays(cluster.sandbox, second, 'Before the widget goes');
    await expect.poll(title, { timeout: 15_000 }).toBe('(1) Cart · Site');
    await p.evaluate(() => window.SupportChat.destroy());
    expect(await title()).toBe('Cart · Site');
    expect((p as Page & { errors: string[] }).errors).toEqual([]);
  });

  it('has sound on by default, switchable, and makes no AudioContext before a gesture: a reply on a page just opened is silent until the visitor touches it', async () => {
    const ctx = await context();
    await ctx.addInitScript(() => {
      const w = window as unknown as { __contexts: boolean[]; __beeps: number };
      w.__contexts = [];
      w.__beeps = 0;
      const Original = window.AudioContext;
      // Each AudioContext made, and whether the page had a gesture by then.
      window.AudioContext = class extends Original {
        constructor(options?: AudioContextOptions) {
          super(options);
          w.__contexts.push(navigator.userActivation.hasBeenActive);
        }
      };
      const start = Object.getOwnPropertyDescriptor(AudioScheduledSourceNode.prototype, 'start')!
        .value as (when?: number) => void;
      AudioScheduledSourceNode.prototype.start = function (
        this: AudioScheduledSourceNode,
        when?: number,
      ) {
        w.__beeps++;
        Reflect.apply(start, this, [when]);
      };
    });
    const first = await page(ctx);
    await first.goto(`${site.url}/sound`);
    await first.evaluate(() => window.SupportChat.init({}));
    await widget(first).launcher.click();
    expect(
      await widget(first).root.locator('.head button[aria-pressed]').getAttribute('aria-pressed'),
    ).toBe('true');
    await send(first, 'Ring me');
    await waitAcked(first, 'Ring me');
    const threadId = await topicOf(cluster.sandbox, (await credential(first)).ticket);
    await first.close();

    // A new page with the conversation going, and no gesture on it yet: nothing is evaluated in
    // it until the reply is in (Playwright's evaluate and locators count as gestures).
    const p = await page(ctx);
    const logged: string[] = [];
    p.on('console', (m) => {
      if (m.type() === 'warning' || m.type() === 'error') logged.push(m.text());
    });
    const heard = (text: string) =>
      p.waitForEvent('console', {
        predicate: (m) => m.text() === `td:message ${text}`,
        timeout: 15_000,
      });
    const audio = () =>
      p.evaluate(() => {
        const w = window as unknown as { __contexts: boolean[]; __beeps: number };
        return { contexts: w.__contexts, beeps: w.__beeps };
      });
    const soundButton = widget(p).root.locator('.head button[aria-pressed]');
    const connected = p.waitForEvent('console', {
      predicate: (m) => m.text() === 'td:connection open',
      timeout: 15_000,
    });
    await p.goto(`${site.url}/auto`);
    await connected;
    const before = heard('Before any gesture');
    agentSays(cluster.sandbox, threadId, 'Before any gesture');
    await before;
    expect(await audio()).toEqual({ contexts: [], beeps: 0 });

    // A click anywhere on the page: the next reply rings.
    await p.locator('h1').click();
    const after = heard('After a gesture');
    agentSays(cluster.sandbox, threadId, 'After a gesture');
    await after;
    await expect.poll(async () => (await audio()).beeps).toBe(1);
    expect((await audio()).contexts).toEqual([true]);
    expect(logged.filter((t) => /AudioContext|autoplay/i.test(t))).toEqual([]);

    // The site may start with it off; the visitor switches it either way.
    await p.evaluate(() => window.SupportChat.init({ soundDefaultOn: false }));
    await widget(p).launcher.click();
    expect(await soundButton.getAttribute('aria-pressed')).toBe('false');
    await soundButton.click();
    expect(await soundButton.getAttribute('aria-pressed')).toBe('true');
    await soundButton.click();
    expect(await soundButton.getAttribute('aria-pressed')).toBe('false');
    expect((p as Page & { errors: string[] }).errors).toEqual([]);
  });

  it('starts the conversation without the pre-chat e-mail where the gateway takes none, warning in the console, and keeps the name and the message', async () => {
    const p = await page(await context());
    const warnings: string[] = [];
    p.on('console', (m) => {
      if (m.type() === 'warning') warnings.push(m.text());
    });
    await p.goto(`${site.url}/prechat`);
    await p.evaluate(() =>
      window.SupportChat.init({ preChat: { name: 'required', email: 'optional' } }),
    );
    const w = widget(p);
    await w.launcher.click();
    const form = w.root.locator('form.prechat');
    await form.getByRole('button', { name: 'Start the chat' }).click();
    await expect
      .poll(() => form.locator('.error:not([hidden])').allTextContents())
      .toEqual(['Please enter your name.']);
    await w.root.getByLabel('Your name').fill('Grace');
    await w.root.getByLabel('Your e-mail address (optional)').fill('grace@example.com');
    await form.getByRole('button', { name: 'Start the chat' }).click();
    await send(p, 'Please keep my message');
    await waitAcked(p, 'Please keep my message');
    expect(warnings).toEqual([expect.stringMatching(/without the e-mail address.*PRECHAT_FIELDS/)]);
    const threadId = await topicOf(cluster.sandbox, (await credential(p)).ticket);
    const head = await cluster.sandbox.state.waitFor(
      () => header(cluster.sandbox, threadId),
      15_000,
    );
    expect(String(head.text)).toContain('Visitor: Grace');
    expect(String(head.text)).not.toContain('grace@example.com');
  });

  it('keeps the conversation across token expiry: refreshed on reload and while connected', async () => {
    const ctx = await context();
    const p = await page(ctx);
    await p.goto(`${gateway}/demo`);
    await widget(p).launcher.click();
    await send(p, 'before the token expires');
    await waitAcked(p, 'before the token expires');
    const before = await credential(p);
    await p.close();

    // Longer than the token's life, with no page open to refresh it.
    await new Promise((r) => setTimeout(r, TOKEN_TTL_MS + 1500));
    const again = await page(ctx);
    await again.goto(`${gateway}/demo`);
    await widget(again).launcher.click();
    await expect
      .poll(() => widget(again).texts('visitor').allTextContents(), { timeout: 15_000 })
      .toEqual(['before the token expires']);
    const after = await credential(again);
    expect(after.conversationId).toBe(before.conversationId);
    expect(after.token).not.toBe(before.token);

    // The page stays open past another expiry: the widget refreshes ahead of time and keeps going.
    await again.waitForTimeout(TOKEN_TTL_MS + 1000);
    await send(again, 'after two token lifetimes');
    await waitAcked(again, 'after two token lifetimes');
    const threadId = await topicOf(cluster.sandbox, before.ticket);
    agentSays(cluster.sandbox, threadId, 'still here');
    await expect
      .poll(() => widget(again).texts('agent').allTextContents(), { timeout: 15_000 })
      .toEqual(['still here']);
    expect((again as Page & { errors: string[] }).errors).toEqual([]);
  });

  it('serves the script with versioned immutable URLs, a short-lived plain URL, CORS, and within budget', async () => {
    const plain = await fetch(`${gateway}/widget.js`);
    expect(plain.status).toBe(200);
    expect(plain.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(plain.headers.get('access-control-allow-origin')).toBe('*');
    expect(plain.headers.get('cache-control')).toMatch(/max-age=300/);
    const version = plain.headers.get('etag')!.replaceAll('"', '');
    const body = Buffer.from(await plain.arrayBuffer());
    expect(gzipSync(body, { level: 9 }).length).toBeLessThanOrEqual(SIZE_BUDGET_BYTES);

    const versioned = await fetch(`${gateway}/widget.${version}.js`);
    expect(versioned.status).toBe(200);
    expect(versioned.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(versioned.headers.get('access-control-allow-origin')).toBe('*');
    expect(Buffer.from(await versioned.arrayBuffer()).equals(body)).toBe(true);
    const query = await fetch(`${gateway}/widget.js?v=${version}`);
    expect(query.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const stale = await fetch(`${gateway}/widget.js?v=000000000000`);
    expect(stale.headers.get('cache-control')).toMatch(/max-age=300/);
    expect((await fetch(`${gateway}/widget.000000000000.js`)).status).toBe(404);
    const revalidated = await fetch(`${gateway}/widget.js`, {
      headers: { 'if-none-match': `"${version}"` },
    });
    expect(revalidated.status).toBe(304);

    const esm = await fetch(`${gateway}/widget.mjs`);
    expect(esm.status).toBe(200);
    expect(esm.headers.get('access-control-allow-origin')).toBe('*');
    const demo = await fetch(`${gateway}/demo`);
    expect(demo.headers.get('content-security-policy')).toMatch(/script-src 'self' 'nonce-[^']+'/);
    const html = await demo.text();
    expect(html).toContain(`/widget.${version}.js`);
    // The demo pins the build like a careful site would (Subresource Integrity).
    expect(html).toMatch(/integrity="sha384-[A-Za-z0-9+/]+=*"/);

    // The ES module build works from another origin too.
    const p = await page(await context());
    await p.goto(`${site.url}/esm`);
    await expect
      .poll(() => p.evaluate(() => (window as unknown as { __esm?: boolean }).__esm))
      .toBe(true);
    await expect.poll(() => launcherShown(p)).toBe(true);
  });

  it("styles itself with a nonce'd <style> under the demo's CSP where constructable stylesheets are missing", async () => {
    const ctx = await context();
    await ctx.addInitScript(() => {
      delete (ShadowRoot.prototype as { adoptedStyleSheets?: unknown }).adoptedStyleSheets;
      const w = window as unknown as { __csp: string[] };
      w.__csp = [];
      document.addEventListener('securitypolicyviolation', (e) =>
        w.__csp.push(e.violatedDirective),
      );
    });
    const p = await page(ctx);
    await p.goto(`${gateway}/demo`);
    const w = widget(p);
    await w.launcher.click();
    expect(await w.root.evaluate((host) => host.shadowRoot!.querySelectorAll('style').length)).toBe(
      1,
    );
    expect(await w.launcher.evaluate((el) => getComputedStyle(el).backgroundColor)).toBe(
      'rgb(29, 91, 214)',
    );
    expect(await w.panel.evaluate((el) => getComputedStyle(el).position)).toBe('fixed');
    expect(await p.evaluate(() => (window as unknown as { __csp: string[] }).__csp)).toEqual([]);
  });

  it('looks right open, in light and dark and on a narrow screen (screenshots)', async () => {
    const light = await page(await context({ colorScheme: 'light' }));
    await light.goto(`${gateway}/demo`);
    await widget(light).launcher.click();
    await send(light, 'Hi! My order #1042 has not arrived yet. Can you check?');
    await waitAcked(light, 'Hi! My order #1042 has not arrived yet. Can you check?');
    const { ticket } = await credential(light);
    const threadId = await topicOf(cluster.sandbox, ticket);
    agentSays(
      cluster.sandbox,
      threadId,
      'Sorry about that! It left our roastery yesterday; tracking: https://track.example/1042',
    );
    await expect.poll(() => widget(light).texts('agent').count(), { timeout: 15_000 }).toBe(1);
    await send(light, 'Great, thank you!');
    await waitAcked(light, 'Great, thank you!');
    await light.waitForTimeout(300);
    await screenshot(light, 'widget-light');

    const background = (p: Page) =>
      widget(p).panel.evaluate((el) => getComputedStyle(el).backgroundColor);
    expect(await background(light)).toBe('rgb(255, 255, 255)');

    // The same conversation in other contexts: dark scheme, a phone-sized screen, then light
    // again. One holder of the token at a time, as on one device: a refresh retires the token it
    // replaced, and with tokens of 6 s each page refreshes every few seconds, so two pages
    // holding copies would soon refresh each other's token out of reach. Each page hands its
    // latest token to the next and is closed first.
    let holder = light;
    const same = async (options: Parameters<Browser['newContext']>[0]) => {
      const stored = await holder.evaluate((k) => localStorage.getItem(k)!, storageKey());
      await holder.context().close();
      const ctx = await context(options);
      await ctx.addInitScript(
        ([key, value]) => {
          if (!localStorage.getItem(key!)) localStorage.setItem(key!, value!);
        },
        [storageKey(), stored],
      );
      const p = await page(ctx);
      await p.goto(`${gateway}/demo`);
      await widget(p).launcher.click();
      await expect.poll(() => widget(p).texts('agent').count(), { timeout: 15_000 }).toBe(1);
      await p.waitForTimeout(300);
      holder = p;
      return p;
    };
    const dark = await same({ colorScheme: 'dark' });
    await screenshot(dark, 'widget-dark');
    expect(await background(dark)).toBe('rgb(23, 25, 30)');
    const narrow = await same({
      viewport: { width: 390, height: 760 },
      isMobile: true,
      hasTouch: true,
    });
    await screenshot(narrow, 'widget-narrow');
    // Full screen on a narrow screen, with the launcher out of the way.
    const box = await widget(narrow).panel.boundingBox();
    expect(box).toMatchObject({ x: 0, y: 0, width: 390, height: 760 });
    expect(await widget(narrow).launcher.isVisible()).toBe(false);
    await widget(narrow).closeButton.click();
    await expect.poll(() => widget(narrow).launcher.isVisible()).toBe(true);
    const again = await same({ colorScheme: 'light' });

    // An unread badge while the panel is closed.
    await widget(again).closeButton.click();
    agentSays(cluster.sandbox, threadId, 'One more thing: it arrives tomorrow.');
    await expect.poll(() => widget(again).badge.textContent(), { timeout: 15_000 }).toBe('1');
    expect(await widget(again).launcher.getAttribute('aria-label')).toMatch(/1 unread/);
    await screenshot(again, 'widget-unread');
    await widget(again).launcher.click();
    expect(await widget(again).badge.isVisible()).toBe(false);
  });
});
