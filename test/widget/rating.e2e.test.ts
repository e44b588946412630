// CSAT from the widget (issue 14): when the agents close the conversation, the widget asks for a
// rating (1–5 stars, an optional comment) once; a reload asks again only if it was not rated
// (the server knows); the rating is posted to the topic as text and counts in the report's CSAT
// score. Desktop, phone in the dark (rated after a reload), phone in Arabic (RTL), each with
// axe-core; keyboard only on the desktop.
import type { Browser, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { axeViolations, screenshot, storedTicket, skipBrowser, widget } from '../support/browser';
import { browserSuite } from '../support/browser-suite';
import { agentSays, botTexts, topicOf } from '../support/cluster';

const SERVICE_TOKEN = 'rating-e2e-service-token';
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const phone = { isMobile: true, hasTouch: true } as const;

const suite = browserSuite({ gatewayEnv: { SERVICE_TOKEN } });

async function open(options: Parameters<Browser['newContext']>[0] = {}): Promise<Page> {
  const p = await (await suite.context(options)).newPage();
  await p.goto(`${suite.gateway}/demo`);
  return p;
}

function prompt(p: Page) {
  const el = widget(p).root.locator('form.rating');
  return {
    el,
    stars: el.locator('input[type=radio]'),
    comment: el.locator('textarea'),
    submit: el.locator('button[type=submit]'),
    error: el.locator('.error:not([hidden])'),
    thanks: widget(p).root.locator('.closed .thanks'),
  };
}

/** The focused element inside the widget: its accessible label text, name or tag. */
const focused = (p: Page) =>
  p.evaluate(() => {
    const inner = document.activeElement?.shadowRoot?.activeElement;
    if (!inner) return 'outside';
    return inner.closest('label')?.textContent ?? inner.getAttribute('name') ?? inner.tagName;
  });

const ticketOf = (p: Page) => storedTicket(p, suite.gateway);

const stored = (p: Page) =>
  p.evaluate((k) => localStorage.getItem(k), `topicdesk:${suite.gateway}`);

/** A conversation the agents answered and closed; the topic's thread id. */
async function closedConversation(p: Page, text: string): Promise<number> {
  const w = widget(p);
  await w.launcher.click();
  // On a touch screen Enter is a new line: the button sends.
  await w.input.fill(text);
  await w.sendButton.click();
  const threadId = await topicOf(suite.cluster.sandbox, await ticketOf(p));
  agentSays(suite.cluster.sandbox, threadId, 'Happy to help. Closing this one now.');
  agentSays(suite.cluster.sandbox, threadId, '/close');
  await expect.poll(() => w.closed.isVisible(), { timeout: 20_000 }).toBe(true);
  await expect.poll(() => prompt(p).el.isVisible(), { timeout: 10_000 }).toBe(true);
  return threadId;
}

const ratingPosts = (threadId: number) =>
  botTexts(suite.cluster.sandbox, threadId).filter((t) => t.includes('rated this conversation'));

describe.skipIf(skipBrowser)('the rating prompt (CSAT)', () => {
  it('on a desktop, keyboard only: asks once after the close, names every star, and posts the rating to the topic', async () => {
    const p = await open({ viewport: DESKTOP, colorScheme: 'light' });
    const w = widget(p);
    const r = prompt(p);
    const threadId = await closedConversation(p, 'How do I reset my password?');
    expect(
      await w.root.getByRole('group', { name: 'How would you rate this conversation?' }).count(),
    ).toBe(1);
    expect(
      await r.stars.evaluateAll((inputs) => inputs.map((i) => i.closest('label')?.textContent)),
    ).toEqual([
      '★1 of 5: Very poor',
      '★2 of 5: Poor',
      '★3 of 5: Okay',
      '★4 of 5: Good',
      '★5 of 5: Excellent',
    ]);
    expect(await w.root.getByLabel('Anything to add? (optional)').count()).toBe(1);
    // Kept for a later visit until it is rated.
    expect(await stored(p)).not.toBeNull();
    expect(await axeViolations(p)).toEqual([]);
    await screenshot(p, 'widget-rating-desktop-1280x800');

    // No star chosen: said next to the stars and aloud, focus on the first star.
    await r.submit.focus();
    await p.keyboard.press('Enter');
    await expect
      .poll(() => r.error.allTextContents())
      .toEqual(['Please choose from 1 to 5 stars.']);
    expect(await w.live.textContent()).toBe('Please choose from 1 to 5 stars.');
    expect(await focused(p)).toBe('★1 of 5: Very poor');
    expect(await axeViolations(p)).toEqual([]);

    // Arrow keys move through the stars (a radio group), Tab to the comment and the button.
    for (let i = 0; i < 3; i++) await p.keyboard.press('ArrowRight');
    expect(await focused(p)).toBe('★4 of 5: Good');
    await expect.poll(() => r.error.count()).toBe(0);
    expect(await w.root.locator('.stars label.on').count()).toBe(4);
    await screenshot(p, 'widget-rating-chosen-desktop');
    await p.keyboard.press('Tab');
    await p.keyboard.type('Quick <b>and</b> kind');
    await p.keyboard.press('Tab');
    await p.keyboard.press('Enter');
    await expect.poll(() => r.thanks.textContent()).toBe('Thank you for your rating!');
    expect(await w.live.textContent()).toBe('Thank you for your rating!');
    expect(await r.el.count()).toBe(0);
    expect(await stored(p)).toBeNull();
    await screenshot(p, 'widget-rating-thanks-desktop');

    // The agents read it in the topic, as text.
    await expect
      .poll(() => ratingPosts(threadId), { timeout: 20_000 })
      .toEqual(['★★★★☆ The visitor rated this conversation 4/5.\nComment: Quick <b>and</b> kind']);

    // Once: after a reload there is nothing left to rate.
    await p.reload();
    await w.launcher.click();
    await expect.poll(() => w.input.isVisible()).toBe(true);
    expect(await r.el.count()).toBe(0);
  });

  it('on a phone in the dark: a reload before rating asks again (the server knows it was not rated)', async () => {
    const p = await open({ viewport: PHONE, ...phone, colorScheme: 'dark' });
    const w = widget(p);
    const r = prompt(p);
    const threadId = await closedConversation(p, 'My parcel has not arrived');
    await p.reload();
    await w.launcher.click();
    await expect.poll(() => r.el.isVisible(), { timeout: 10_000 }).toBe(true);
    expect(await w.closed.isVisible()).toBe(true);
    expect(await w.panel.boundingBox()).toMatchObject({ x: 0, y: 0, ...PHONE });
    // 16 px: iOS does not zoom into the field.
    expect(await r.comment.evaluate((el) => getComputedStyle(el).fontSize)).toBe('16px');
    expect(await axeViolations(p)).toEqual([]);
    await screenshot(p, 'widget-rating-phone-390x844-dark');
    await w.root.locator('.stars label').nth(1).click();
    await r.submit.click();
    await expect.poll(() => r.thanks.isVisible()).toBe(true);
    expect(await axeViolations(p)).toEqual([]);
    await screenshot(p, 'widget-rating-thanks-phone-390x844-dark');
    await expect
      .poll(() => ratingPosts(threadId), { timeout: 20_000 })
      .toEqual(['★★☆☆☆ The visitor rated this conversation 2/5.']);
  });

  it('in Arabic: the question, stars and button in Arabic, right to left, no axe violations', async () => {
    const p = await open({ viewport: PHONE, ...phone });
    const w = widget(p);
    const r = prompt(p);
    await p.getByRole('button', { name: 'AR' }).click();
    await closedConversation(p, 'مرحبا، لدي سؤال');
    expect(await w.root.locator('.root').getAttribute('dir')).toBe('rtl');
    expect(await r.el.locator('legend').textContent()).toBe('كيف تقيّم هذه المحادثة؟');
    expect(await r.submit.textContent()).toBe('أرسل التقييم');
    // Right to left: the first star is on the right.
    const [first, last] = await Promise.all([
      w.root.locator('.stars label').first().boundingBox(),
      w.root.locator('.stars label').last().boundingBox(),
    ]);
    expect(first!.x).toBeGreaterThan(last!.x);
    expect(await axeViolations(p)).toEqual([]);
    await screenshot(p, 'widget-rating-arabic-390x844');
    await w.root.locator('.stars label').nth(4).click();
    await r.submit.click();
    await expect.poll(() => r.thanks.textContent()).toBe('شكرًا لتقييمك!');
    await p.setViewportSize(DESKTOP);
    await screenshot(p, 'widget-rating-arabic-thanks-desktop');
  });

  it('shows the widget ratings in the report with the right CSAT score', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const report = async (accept = 'application/json') => {
      const response = await fetch(
        `${suite.gateway}/v1/admin/reports?from=${today}&to=${today}&groupBy=day`,
        { headers: { authorization: `Bearer ${SERVICE_TOKEN}`, accept } },
      );
      expect(response.status).toBe(200);
      return accept === 'text/csv' ? response.text() : (response.json() as Promise<unknown>);
    };
    // Rated 4, 2 and 5: two of three are 4–5; every survey shown was answered.
    const json = (await report()) as { total: { csat: unknown; conversations: number } };
    expect(json.total.conversations).toBe(3);
    expect(json.total.csat).toEqual({
      surveys: 3,
      ratings: 3,
      positive: 2,
      score: 0.6667,
      responseRate: 1,
    });
    // The CSV's total row, read by its header's column names (columns are added at the end).
    const [header, ...rows] = ((await report('text/csv')) as string)
      .trimEnd()
      .split('\r\n')
      .map((line) => line.split(','));
    const total = Object.fromEntries(header!.map((name, i) => [name, rows.at(-1)![i]]));
    expect(total).toMatchObject({
      surveys: '3',
      ratings: '3',
      positive_ratings: '2',
      csat_score: '0.6667',
      response_rate: '1',
    });
    expect(rows.at(-1)![0]).toBe('total');
  });
});
