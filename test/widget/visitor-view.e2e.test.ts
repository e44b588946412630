// What a visitor sees on each kind of screen (issue 18): the day's conversation limit, the first
// message while the conversation starts, phones upright and sideways with the keyboard open,
// closing and starting again, Arabic, and axe-core's accessibility rules — desktop 1280×800,
// phone 390×844 and 844×390, dark, right to left. Each context has its own client address
// (X-Forwarded-For, TRUST_PROXY on), so each test has a day's conversations of its own.
import type { Browser, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { axeViolations, screenshot, send, skipBrowser, widget } from '../support/browser';
import { browserSuite } from '../support/browser-suite';
import { say } from '../support/agents';
import { AGENT, topicOf } from '../support/cluster';

const LIMIT = 2;
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const PHONE_SIDEWAYS = { width: 844, height: 390 };
const phone = { isMobile: true, hasTouch: true } as const;

const suite = browserSuite({
  gatewayEnv: { TRUST_PROXY: 'true', LIMIT_CONVERSATIONS_PER_DAY: String(LIMIT) },
});
let address = 10;

async function open(
  options: Parameters<Browser['newContext']>[0] = {},
): Promise<{ p: Page; ip: string }> {
  const ip = `203.0.113.${address++}`;
  const ctx = await suite.context({ ...options, extraHTTPHeaders: { 'x-forwarded-for': ip } });
  const p = await ctx.newPage();
  await p.goto(`${suite.gateway}/demo`);
  return { p, ip };
}

const stateOf = (p: Page, text: string) =>
  widget(p).rows.filter({ hasText: text }).first().getAttribute('data-state');

async function acked(p: Page, text: string) {
  await expect
    .poll(() => widget(p).rows.filter({ hasText: text }).first().getAttribute('data-seq'), {
      timeout: 20_000,
    })
    .not.toBeNull();
}

async function ticketOf(p: Page): Promise<string> {
  const key = `topicdesk:${suite.gateway}`;
  await expect.poll(() => p.evaluate((k) => localStorage.getItem(k), key)).toBeTruthy();
  return p.evaluate(
    (k) => (JSON.parse(localStorage.getItem(k)!) as { ticket: string }).ticket,
    key,
  );
}

const agentSays = (threadId: number, text: string) =>
  say(suite.cluster.sandbox, AGENT, text, threadId);

/** Whether the end of the row with `text` is in the conversation's visible area. */
const inView = (p: Page, text: string) =>
  widget(p).log.evaluate((log, wanted) => {
    const rows = Array.from(log.querySelectorAll('li.row')).filter((r) =>
      r.textContent?.includes(wanted),
    );
    const row = rows[rows.length - 1];
    if (!row) return false;
    const a = log.getBoundingClientRect();
    const b = row.getBoundingClientRect();
    return b.bottom > a.top && b.bottom <= a.bottom + 1;
  }, text);

/** The widget's focused element as `TAG.class`, or where focus is outside it. */
const focused = (p: Page) =>
  p.evaluate(() => {
    const host = document.activeElement;
    if (host?.tagName !== 'TOPICDESK-CHAT') return `page:${host?.tagName ?? ''}`;
    const inner = host.shadowRoot?.activeElement;
    return inner ? `${inner.tagName}.${inner.className}` : 'TOPICDESK-CHAT';
  });

describe.skipIf(skipBrowser)('the widget as a visitor sees it', () => {
  it('says when the day’s limit of new conversations is reached and when it frees, offering no Retry', async () => {
    const { p, ip } = await open();
    for (let i = 0; i < LIMIT; i++) {
      const started = await fetch(`${suite.gateway}/v1/conversations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
        body: '{}',
      });
      expect(started.status).toBe(201);
    }
    const w = widget(p);
    await w.launcher.click();
    await send(p, 'One more question');
    await expect.poll(() => stateOf(p, 'One more question')).toBe('failed');
    const row = w.rows.filter({ hasText: 'One more question' });
    const meta = await row.locator('.meta').textContent();
    expect(meta).toMatch(/as many conversations today as we allow/);
    expect(meta).toMatch(/write again from .*\d\d:\d\d/);
    expect(await row.getByRole('button', { name: 'Retry' }).count()).toBe(0);
    await screenshot(p, 'widget-daily-limit-desktop');
  });

  it('says "Sending" while the first message starts the conversation, never "Waiting for the network"', async () => {
    const { p } = await open();
    // A slow start (a busy gateway): the message waits for the conversation, online all along.
    await p.route('**/v1/conversations', async (route) => {
      await new Promise((r) => setTimeout(r, 1500));
      await route.continue();
    });
    const w = widget(p);
    await w.launcher.click();
    const seen = new Set<string>();
    await send(p, 'First words');
    for (let i = 0; i < 10; i++) {
      seen.add((await stateOf(p, 'First words')) ?? '');
      await p.waitForTimeout(100);
    }
    expect([...seen]).toEqual(['sending']);
    expect(await w.rows.first().locator('.state').textContent()).toBe('Sending…');
    await acked(p, 'First words');
  });

  it('on a desktop: a dialog that is not modal, one banner landmark, no axe violations', async () => {
    const { p } = await open({ viewport: DESKTOP, colorScheme: 'light' });
    const w = widget(p);
    await w.launcher.click();
    await send(p, 'Hi! My order #1042 has not arrived yet. Can you check?');
    await acked(p, 'Hi! My order #1042');
    const threadId = await topicOf(suite.cluster.sandbox, await ticketOf(p));
    agentSays(
      threadId,
      'Sorry about that! It left yesterday; tracking: https://track.example/1042',
    );
    await expect.poll(() => w.texts('agent').count(), { timeout: 15_000 }).toBe(1);
    expect(await w.panel.getAttribute('aria-modal')).toBeNull();
    expect(await w.root.locator('header').count()).toBe(0);
    expect(await axeViolations(p)).toEqual([]);
    await screenshot(p, 'widget-desktop-1280x800');
  });

  it('on a phone held sideways: full screen, modal, focus kept inside, Enter a new line, the newest message in sight with the keyboard open', async () => {
    const { p } = await open({ viewport: PHONE_SIDEWAYS, ...phone });
    const w = widget(p);
    await w.launcher.click();
    expect(await w.panel.boundingBox()).toMatchObject({ x: 0, y: 0, ...PHONE_SIDEWAYS });
    expect(await w.panel.getAttribute('aria-modal')).toBe('true');
    expect((await w.log.boundingBox())!.height).toBeGreaterThan(150);
    expect(await w.input.evaluate((el) => getComputedStyle(el).fontSize)).toBe('16px');

    // A touch keyboard has no Shift+Enter: Enter is a new line, the button sends.
    await w.input.fill('line one');
    await w.input.press('Enter');
    await w.input.pressSequentially('line two');
    expect(await w.input.inputValue()).toBe('line one\nline two');
    expect(await w.rows.count()).toBe(0);
    await w.sendButton.click();
    await acked(p, 'line two');
    for (let i = 1; i <= 6; i++) {
      await w.input.fill(`message ${i}`);
      await w.sendButton.click();
    }
    await acked(p, 'message 6');
    // The keyboard takes most of the height: the visual viewport shrinks, the panel follows.
    await p.setViewportSize({ width: 844, height: 220 });
    await expect.poll(async () => (await w.panel.boundingBox())?.height).toBe(220);
    await screenshot(p, 'widget-phone-844x220-keyboard');
    await expect.poll(() => inView(p, 'message 6')).toBe(true);
    await p.setViewportSize(PHONE_SIDEWAYS);
    await expect.poll(() => inView(p, 'message 6')).toBe(true);

    // Tab from Send goes round to the panel's first control, not out to the page.
    await w.sendButton.focus();
    await p.keyboard.press('Tab');
    expect(await focused(p)).toMatch(/^BUTTON\.icon/);
    await p.keyboard.press('Shift+Tab');
    expect(await focused(p)).toBe('BUTTON.send');
    expect(await axeViolations(p)).toEqual([]);
    await screenshot(p, 'widget-phone-844x390');
  });

  it('on a phone upright in the dark: full screen and modal, no axe violations', async () => {
    const { p } = await open({ viewport: PHONE, ...phone, colorScheme: 'dark' });
    const w = widget(p);
    await w.launcher.click();
    await w.input.fill('Do you ship to Lisbon?');
    await w.sendButton.click();
    await acked(p, 'Do you ship to Lisbon?');
    const threadId = await topicOf(suite.cluster.sandbox, await ticketOf(p));
    agentSays(threadId, 'We do: 2–3 days, free over €30.');
    await expect.poll(() => w.texts('agent').count(), { timeout: 15_000 }).toBe(1);
    expect(await w.panel.boundingBox()).toMatchObject({ x: 0, y: 0, ...PHONE });
    expect(await w.panel.getAttribute('aria-modal')).toBe('true');
    expect(await w.panel.evaluate((el) => getComputedStyle(el).backgroundColor)).toBe(
      'rgb(23, 25, 30)',
    );
    expect(await axeViolations(p)).toEqual([]);
    await screenshot(p, 'widget-phone-390x844-dark');
  });

  it('closing: shows the last line above the footer in words that fit, downloads the transcript, keeps it above the next conversation with the new ticket', async () => {
    const { p } = await open({ viewport: { width: 1280, height: 600 } });
    const w = widget(p);
    await w.launcher.click();
    await send(p, 'Please close this one');
    await acked(p, 'Please close this one');
    const first = await ticketOf(p);
    await expect.poll(() => w.notice.textContent()).toContain(first);
    const threadId = await topicOf(suite.cluster.sandbox, first);
    for (let i = 1; i <= 6; i++) agentSays(threadId, `Answer line ${i}`);
    await expect.poll(() => w.texts('agent').count(), { timeout: 15_000 }).toBe(6);
    agentSays(threadId, '/close');
    await expect.poll(() => w.closed.isVisible(), { timeout: 20_000 }).toBe(true);
    const closing = 'This conversation was closed.';
    await expect
      .poll(() => w.texts('system').allTextContents())
      .toContainEqual(expect.stringContaining(closing));
    await expect.poll(() => inView(p, closing)).toBe(true);
    expect(await w.texts('system').allTextContents()).not.toContainEqual(
      expect.stringMatching(/write again/i),
    );
    await screenshot(p, 'widget-closed-desktop');

    const [download] = await Promise.all([
      p.waitForEvent('download'),
      w.closed.getByRole('button', { name: 'Download this conversation' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe(`${first}.txt`);
    const text = await new Response(
      (await download.createReadStream()) as unknown as ReadableStream,
    ).text();
    expect(text).toContain(`Ticket ${first}`);
    expect(text).toContain('You:\nPlease close this one');
    expect(text).toContain('Answer line 6');

    await w.closed.getByRole('button', { name: 'Start a new conversation' }).click();
    await expect.poll(() => w.input.isVisible()).toBe(true);
    expect(await w.notice.isVisible()).toBe(false);
    // The finished conversation stays readable, closed by a line with its ticket.
    expect(await w.texts('visitor').allTextContents()).toEqual(['Please close this one']);
    expect(await w.texts('system').allTextContents()).toContainEqual(`Conversation ${first} ended`);
    await send(p, 'A new question');
    await acked(p, 'A new question');
    const second = await ticketOf(p);
    expect(second).not.toBe(first);
    await expect.poll(() => w.root.locator('.subtitle').textContent()).toBe(`Ticket ${second}`);
    await expect.poll(() => w.notice.textContent()).toContain(second);
    expect(await w.notice.textContent()).not.toContain(first);
  });

  it('in Arabic: the server’s lines in Arabic, the ticket translated, each bubble in its own direction, no axe violations', async () => {
    const { p } = await open({ viewport: PHONE, ...phone });
    const w = widget(p);
    // The page's language switch comes before the first message: the conversation is Arabic.
    await p.getByRole('button', { name: 'AR' }).click();
    await w.launcher.click();
    await w.input.fill('مرحبا، طلبي رقم 1042 لم يصل (SUPP) بعد!');
    await w.sendButton.click();
    await acked(p, 'طلبي');
    const ticket = await ticketOf(p);
    await expect.poll(() => w.notice.textContent()).toMatch(/^شكرًا/);
    expect(await w.notice.locator('span').getAttribute('dir')).toBe('auto');
    await expect.poll(() => w.root.locator('.subtitle').textContent()).toBe(`التذكرة ${ticket}`);
    const threadId = await topicOf(suite.cluster.sandbox, ticket);
    agentSays(threadId, 'Hello! Let me check order 1042.');
    await expect.poll(() => w.texts('agent').count(), { timeout: 15_000 }).toBe(1);
    await expect
      .poll(() => w.texts('system').allTextContents(), { timeout: 15_000 })
      .toContainEqual(expect.stringContaining('إلى المحادثة'));
    const directions = await w
      .texts('agent')
      .evaluateAll((els) =>
        els.map((el) => [el.getAttribute('dir'), getComputedStyle(el).direction]),
      );
    expect(directions).toEqual([['auto', 'ltr']]);
    const visitor = await w
      .texts('visitor')
      .evaluateAll((els) => els.map((el) => getComputedStyle(el).direction));
    expect(visitor).toEqual(['rtl']);
    expect(await axeViolations(p)).toEqual([]);
    await screenshot(p, 'widget-arabic-390x844');
    await p.setViewportSize(DESKTOP);
    await screenshot(p, 'widget-arabic-desktop');
  });
});
