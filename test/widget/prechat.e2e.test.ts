// The pre-chat form (issue 18, item 8): a site asks for a name and an e-mail address before the
// first message, the gateway takes the address because its operator enabled it
// (PRECHAT_FIELDS=email; the demo page then asks for it), and agents read it in the topic's
// header. Desktop, phone upright in the dark, phone sideways and Arabic, each with axe-core.
import type { Browser, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  axeViolations,
  screenshot,
  storedTicket,
  send,
  skipBrowser,
  widget,
} from '../support/browser';
import { browserSuite } from '../support/browser-suite';
import { header } from '../support/agents';
import { topicOf } from '../support/cluster';

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const PHONE_SIDEWAYS = { width: 844, height: 390 };
const phone = { isMobile: true, hasTouch: true } as const;

const suite = browserSuite({ gatewayEnv: { PRECHAT_FIELDS: 'email', TRUST_PROXY: 'true' } });
let address = 10;

async function open(options: Parameters<Browser['newContext']>[0] = {}): Promise<Page> {
  const ctx = await suite.context({
    ...options,
    extraHTTPHeaders: { 'x-forwarded-for': `203.0.113.${address++}` },
  });
  const p = await ctx.newPage();
  await p.goto(`${suite.gateway}/demo`);
  return p;
}

function form(p: Page) {
  const root = widget(p).root;
  const el = root.locator('form.prechat');
  return {
    el,
    name: el.locator('input[name=name]'),
    email: el.locator('input[name=email]'),
    start: el.locator('button[type=submit]'),
    errors: el.locator('.error:not([hidden])'),
  };
}

/** The widget's focused element's `name` (inputs) or tag, or where focus is outside it. */
const focused = (p: Page) =>
  p.evaluate(() => {
    const inner = document.activeElement?.shadowRoot?.activeElement;
    return inner ? (inner.getAttribute('name') ?? inner.tagName) : 'outside';
  });

const ticketOf = (p: Page) => storedTicket(p, suite.gateway);

/** Whether the element is inside the panel's box (nothing cut off on a short screen). */
const insidePanel = (p: Page, selector: string) =>
  widget(p).panel.evaluate((panel, sel) => {
    const el = panel.querySelector(sel);
    if (!el) return false;
    const a = panel.getBoundingClientRect();
    const b = el.getBoundingClientRect();
    return b.top >= a.top && b.bottom <= a.bottom + 1 && b.height > 0;
  }, selector);

describe.skipIf(skipBrowser)('the pre-chat form', () => {
  it('on a desktop: asks before the first message, says what is missing or wrong, and the e-mail reaches the topic header', async () => {
    const p = await open({ viewport: DESKTOP, colorScheme: 'light' });
    const w = widget(p);
    const f = form(p);
    await w.launcher.click();
    await expect.poll(() => f.el.isVisible()).toBe(true);
    expect(await w.input.isVisible()).toBe(false);
    expect(await focused(p)).toBe('name');
    // Labelled, with the browser's autofill hints and the e-mail keyboard.
    expect(await w.root.getByLabel('Your name (optional)').getAttribute('autocomplete')).toBe(
      'name',
    );
    const email = w.root.getByLabel('Your e-mail address');
    expect(
      await email.evaluate((el) => [
        el.getAttribute('type'),
        el.getAttribute('inputmode'),
        el.getAttribute('autocomplete'),
        el.getAttribute('aria-required'),
      ]),
    ).toEqual(['email', 'email', 'email', 'true']);
    expect(await axeViolations(p)).toEqual([]);
    await screenshot(p, 'widget-prechat-desktop-1280x800');

    // Nothing given: the required e-mail is missing, said next to it and aloud, focus on it.
    await f.start.click();
    await expect
      .poll(() => f.errors.allTextContents())
      .toEqual(['Please enter your e-mail address.']);
    expect(await f.email.getAttribute('aria-invalid')).toBe('true');
    expect(await f.name.getAttribute('aria-invalid')).toBeNull();
    expect(await focused(p)).toBe('email');
    expect(await w.live.textContent()).toBe('Please enter your e-mail address.');
    await f.email.fill('ada@example');
    await f.email.press('Enter');
    await expect
      .poll(() => f.errors.allTextContents())
      .toEqual(['Please enter an e-mail address such as name@example.com.']);
    expect(await axeViolations(p)).toEqual([]);
    await screenshot(p, 'widget-prechat-error-desktop');
    expect(await w.input.isVisible()).toBe(false);

    await f.name.fill('  Ada Lovelace ');
    await f.email.fill('ada@example.com ');
    // Fixing the value takes the error away as it is typed.
    await expect.poll(() => f.errors.count()).toBe(0);
    await f.start.click();
    await expect.poll(() => f.el.count()).toBe(0);
    expect(await w.input.isVisible()).toBe(true);
    expect(await focused(p)).toBe('TEXTAREA');
    expect(await w.root.locator('.who b').textContent()).toBe('Ada Lovelace');

    await send(p, 'Where is my order #1042?');
    const ticket = await ticketOf(p);
    const threadId = await topicOf(suite.cluster.sandbox, ticket);
    const head = await suite.cluster.sandbox.state.waitFor(
      () => header(suite.cluster.sandbox, threadId),
      15_000,
    );
    const lines = String(head.text).split('\n');
    expect(lines).toContain('Visitor: Ada Lovelace');
    expect(lines).toContain('E-mail: ada@example.com');
    expect(lines.indexOf('E-mail: ada@example.com')).toBe(
      lines.indexOf('Visitor: Ada Lovelace') + 1,
    );

    // A conversation going: no form after a reload.
    await p.reload();
    await w.launcher.click();
    await expect.poll(() => w.input.isVisible()).toBe(true);
    expect(await form(p).el.count()).toBe(0);
  });

  it('on a phone upright in the dark: the form in the composer’s place, no axe violations', async () => {
    const p = await open({ viewport: PHONE, ...phone, colorScheme: 'dark' });
    const w = widget(p);
    const f = form(p);
    await w.launcher.click();
    await expect.poll(() => f.el.isVisible()).toBe(true);
    expect(await w.panel.boundingBox()).toMatchObject({ x: 0, y: 0, ...PHONE });
    expect(await insidePanel(p, 'form.prechat button[type=submit]')).toBe(true);
    // 16 px: iOS does not zoom into the field.
    expect(await f.email.evaluate((el) => getComputedStyle(el).fontSize)).toBe('16px');
    expect(await axeViolations(p)).toEqual([]);
    await screenshot(p, 'widget-prechat-phone-390x844-dark');
  });

  it('on a phone held sideways: every field and the button in sight, focus kept inside', async () => {
    const p = await open({ viewport: PHONE_SIDEWAYS, ...phone });
    const w = widget(p);
    const f = form(p);
    await w.launcher.click();
    await expect.poll(() => f.el.isVisible()).toBe(true);
    expect(await insidePanel(p, 'form.prechat button[type=submit]')).toBe(true);
    expect(await insidePanel(p, 'form.prechat input[name=email]')).toBe(true);
    await f.start.focus();
    await p.keyboard.press('Tab');
    expect(await focused(p)).not.toBe('outside');
    expect(await axeViolations(p)).toEqual([]);
    await screenshot(p, 'widget-prechat-phone-844x390');
    await f.email.fill('sam@example.org');
    await f.start.click();
    await expect.poll(() => w.input.isVisible()).toBe(true);
  });

  it('in Arabic: labels, errors and the button in Arabic, right to left, no axe violations', async () => {
    const p = await open({ viewport: PHONE, ...phone });
    const w = widget(p);
    const f = form(p);
    await p.getByRole('button', { name: 'AR' }).click();
    await w.launcher.click();
    await expect.poll(() => f.el.isVisible()).toBe(true);
    expect(await w.root.locator('.root').getAttribute('dir')).toBe('rtl');
    expect(await f.start.textContent()).toBe('ابدأ المحادثة');
    expect(await w.root.getByLabel('بريدك الإلكتروني').getAttribute('type')).toBe('email');
    await f.start.click();
    await expect.poll(() => f.errors.allTextContents()).toEqual(['يُرجى إدخال بريدك الإلكتروني.']);
    expect(await axeViolations(p)).toEqual([]);
    await screenshot(p, 'widget-prechat-arabic-390x844');
    await p.setViewportSize(DESKTOP);
    await screenshot(p, 'widget-prechat-arabic-desktop');
  });
});
