// The sandbox's agent page as someone trying the product sees it (issue 18, item 9): who is who
// (the bot writes for the visitor; your own messages on the right), the pinned header as a bar,
// reply-to (for /delete), unread counts and previews sorted by activity, a hint in General,
// axe-core's rules, and a phone layout — with a visitor writing from the widget in another tab.
import type { Browser, Locator, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { axeViolations, screenshot, send, skipBrowser, widget } from '../support/browser';
import { browserSuite } from '../support/browser-suite';
import { GROUP_ID, topicOf } from '../support/cluster';

const suite = browserSuite();

async function page(options: Parameters<Browser['newContext']>[0] = {}): Promise<Page> {
  return (await suite.context(options)).newPage();
}

/** A visitor writes `text` from the widget; returns the conversation's ticket. */
async function visitorWrites(text: string): Promise<{ visitor: Page; ticket: string }> {
  const visitor = await page();
  await visitor.goto(`${suite.gateway}/demo`);
  await widget(visitor).launcher.click();
  await send(visitor, text);
  const key = `topicdesk:${suite.gateway}`;
  await expect.poll(() => visitor.evaluate((k) => localStorage.getItem(k), key)).toBeTruthy();
  const { ticket } = await visitor.evaluate(
    (k) => JSON.parse(localStorage.getItem(k)!) as { ticket: string },
    key,
  );
  return { visitor, ticket };
}

/** How far a message sits from the log's left and right edges; Infinity while it is being replaced. */
function sideGaps(item: Locator): Promise<{ left: number; right: number }> {
  return item
    .evaluate(
      (node) => {
        const own = node.getBoundingClientRect();
        const log = node.closest('#messages')!.getBoundingClientRect();
        return { left: own.left - log.left, right: log.right - own.right };
      },
      undefined,
      { timeout: 1_000 },
    )
    .catch(() => ({ left: Infinity, right: Infinity }));
}

/** The bridge's setMessageReaction calls on the message with this text. */
function reactionCalls(text: string) {
  const { state } = suite.cluster.sandbox;
  const id = state.messages({ chatId: GROUP_ID }).find((m) => m.text === text)?.messageId;
  return state.calls({ method: 'setMessageReaction' }).filter((c) => c.params['message_id'] === id);
}

/**
 * The pinned bar, measured in one evaluation: whether its text is cut (lines left out), and
 * whether the text's last character lies inside the bar (its last line shown whole, not
 * clipped by the bar's edge).
 */
function pinnedBar(p: Page): Promise<{ cut: boolean; lastLineShown: boolean; text: string }> {
  return p.evaluate(() => {
    const bar = document.getElementById('pinned')!;
    const text = document.getElementById('pinned-text')!;
    const node = text.lastChild;
    const box = bar.getBoundingClientRect();
    let lastLineShown = false;
    if (node?.nodeType === Node.TEXT_NODE && node.textContent) {
      const range = document.createRange();
      const end = node.textContent.trimEnd().length;
      range.setStart(node, Math.max(0, end - 1));
      range.setEnd(node, end);
      const last = range.getBoundingClientRect();
      lastLineShown = last.height > 0 && last.top >= box.top && last.bottom <= box.bottom + 0.5;
    }
    return {
      cut: text.scrollHeight > text.clientHeight + 1 || bar.scrollHeight > bar.clientHeight + 1,
      lastLineShown,
      text: text.textContent ?? '',
    };
  });
}

/** The pinned header opens whole with "Show all" and folds back with "Show less". */
async function pinnedOpensWhole(p: Page, ticket: string, shot: string): Promise<void> {
  await expect.poll(() => p.locator('#pinned').isVisible(), { timeout: 15_000 }).toBe(true);
  // Folded: the first lines, cut at a line, with the way to the rest.
  const folded = await pinnedBar(p);
  expect(folded.text).toContain(ticket);
  expect(folded.cut).toBe(true);
  const more = p.locator('#pinned-more');
  expect(await more.textContent()).toBe('Show all');
  expect(await more.getAttribute('aria-expanded')).toBe('false');
  await more.click();
  await expect.poll(() => more.getAttribute('aria-expanded')).toBe('true');
  // Open: every line, the header's last one included, within the bar.
  await expect.poll(() => pinnedBar(p)).toMatchObject({ cut: false, lastLineShown: true });
  expect(await more.textContent()).toBe('Show less');
  expect(await axeViolations(p)).toEqual([]);
  await screenshot(p, shot);
  await more.click();
  await expect.poll(() => pinnedBar(p).then((bar) => bar.cut)).toBe(true);
}

const topicButton = (p: Page, ticket: string) =>
  p.locator('nav button').filter({ hasText: ticket });

describe.skipIf(skipBrowser)('the agent page', () => {
  it('shows who is who, the pinned header, unread counts and previews; replies with reply-to; no axe violations', async () => {
    const agentPage = await page();
    await agentPage.goto(`${suite.cluster.sandbox.url}/`);
    // A first-time user in General learns what to do.
    await expect.poll(() => agentPage.locator('#hint').textContent()).toMatch(/topic on the left/);
    expect(await axeViolations(agentPage)).toEqual([]);

    const first = await visitorWrites('First visitor here');
    const { visitor, ticket } = await visitorWrites('Where is my order #1042?');
    await topicOf(suite.cluster.sandbox, first.ticket);
    await topicOf(suite.cluster.sandbox, ticket);
    // Once the first text is in Telegram, the next is a message of its own (not merged into it).
    await expect
      .poll(() => widget(visitor).rows.first().getAttribute('data-state'), { timeout: 15_000 })
      .toBe('delivered');
    await send(visitor, 'Any news?');
    // Sorted by activity: the latest conversation first after General, with its last line and
    // how many messages wait.
    await expect
      .poll(() => agentPage.locator('nav .name').allTextContents(), { timeout: 15_000 })
      .toEqual(['General', expect.stringContaining(ticket), expect.stringContaining(first.ticket)]);
    const entry = topicButton(agentPage, ticket);
    await expect
      .poll(() => entry.locator('.preview').textContent(), { timeout: 15_000 })
      .toBe('Visitor (via bot): Any news?');
    expect(Number(await entry.locator('.unread').textContent())).toBeGreaterThanOrEqual(1);
    await screenshot(agentPage, 'agent-page-desktop-1280x800');

    await entry.click();
    expect(await entry.locator('.unread').count()).toBe(0);
    // The header the bridge pinned is a bar at the top of the topic.
    await expect
      .poll(() => agentPage.locator('#pinned').isVisible(), { timeout: 15_000 })
      .toBe(true);
    expect(await agentPage.locator('#pinned-text').textContent()).toContain(ticket);
    await pinnedOpensWhole(agentPage, ticket, 'agent-page-pinned-desktop-1280x800');
    expect(
      await agentPage
        .locator('#messages li:not(.service)')
        .filter({ hasText: ticket })
        .locator('.author')
        .textContent(),
    ).toBe('Topic header (bot)');
    const asked = agentPage.locator('#messages li').filter({ hasText: 'Any news?' });
    expect(await asked.locator('.author').textContent()).toBe('Visitor (via bot)');
    // The page re-renders the log as the bridge edits and pins, so each measurement is taken in
    // one evaluation of whichever node is current.
    await expect.poll(() => sideGaps(asked).then((gap) => gap.left)).toBeLessThan(40);

    // The agent answers: their own message is on the right, signed "You", and reaches the visitor.
    await agentPage.locator('#reply textarea').fill('Hi, checking it now.');
    await agentPage.locator('#reply textarea').press('Enter');
    const own = agentPage.locator('#messages li.own').filter({ hasText: 'Hi, checking it now.' });
    await expect.poll(() => own.count()).toBe(1);
    expect(await own.locator('.author').textContent()).toBe('You');
    await expect.poll(() => sideGaps(own).then((gap) => gap.right)).toBeLessThan(40);
    await expect
      .poll(() => widget(visitor).texts('agent').allTextContents(), { timeout: 15_000 })
      .toEqual(['Hi, checking it now.']);

    // Reply-to: /delete as a reply retracts that message from the visitor.
    await own.getByRole('button', { name: 'Reply' }).click();
    expect(await agentPage.locator('#replying').textContent()).toContain('Replying to You');
    await agentPage.locator('#reply textarea').fill('/delete');
    await agentPage.getByRole('button', { name: 'Send' }).click();
    const sent = suite.cluster.sandbox.state
      .messages({ chatId: GROUP_ID })
      .find((m) => m.text === '/delete');
    expect(sent?.replyToMessageId).toBe(
      suite.cluster.sandbox.state
        .messages({ chatId: GROUP_ID })
        .find((m) => m.text === 'Hi, checking it now.')?.messageId,
    );
    await expect
      .poll(() => widget(visitor).root.locator('.log li.agent em.text').count(), {
        timeout: 15_000,
      })
      .toBe(1);
    expect(await axeViolations(agentPage)).toEqual([]);
    await screenshot(agentPage, 'agent-page-topic-desktop-1280x800');
  });

  // Issue 18, item 8: once the visitor has seen an agent's reply (panel open, page visible, the
  // reply in view), the agents see 👀 under it in the topic; not before.
  it('shows 👀 under a reply once the visitor has seen it; no axe violations', async () => {
    const { visitor, ticket } = await visitorWrites('Did my parcel ship?');
    await topicOf(suite.cluster.sandbox, ticket);
    const agentPage = await page();
    await agentPage.goto(`${suite.cluster.sandbox.url}/`);
    await topicButton(agentPage, ticket).click();
    // The visitor closes the panel; the reply comes while it is closed.
    await widget(visitor).closeButton.click();
    await agentPage.locator('#reply textarea').fill('Yes, it left our warehouse today.');
    await agentPage.locator('#reply textarea').press('Enter');
    await expect.poll(() => widget(visitor).badge.textContent(), { timeout: 15_000 }).toBe('1');
    const reply = agentPage
      .locator('#messages li.own')
      .filter({ hasText: 'Yes, it left our warehouse today.' });
    const seen = reply.locator('.reaction');
    // Unseen: nothing under the reply while the panel stays closed.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(await seen.count()).toBe(0);
    expect(reactionCalls('Yes, it left our warehouse today.')).toEqual([]);

    // The visitor opens the panel and sees the reply: the agents see it was read.
    await widget(visitor).launcher.click();
    await expect
      .poll(() => widget(visitor).texts('agent').allTextContents())
      .toEqual(['Yes, it left our warehouse today.']);
    await expect.poll(() => seen.textContent(), { timeout: 15_000 }).toBe('👀');
    expect(await seen.getAttribute('aria-label')).toBe('Reaction 👀');
    expect(reactionCalls('Yes, it left our warehouse today.')).toHaveLength(1);
    expect(await axeViolations(agentPage)).toEqual([]);
    await screenshot(agentPage, 'agent-page-seen-desktop-1280x800');

    const phone = await page({
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
    });
    await phone.goto(`${suite.cluster.sandbox.url}/`);
    await topicButton(phone, ticket).click();
    const onPhone = phone
      .locator('#messages li')
      .filter({ hasText: 'Yes, it left our warehouse today.' })
      .locator('.reaction');
    await expect.poll(() => onPhone.textContent(), { timeout: 15_000 }).toBe('👀');
    expect(await axeViolations(phone)).toEqual([]);
    await screenshot(phone, 'agent-page-seen-phone-390x844');
  });

  it('on a phone: the topic list, then one topic full width with a way back; no axe violations', async () => {
    const { ticket } = await visitorWrites('Hello from a phone test');
    await topicOf(suite.cluster.sandbox, ticket);
    const phone = await page({
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
    });
    await phone.goto(`${suite.cluster.sandbox.url}/`);
    const entry = topicButton(phone, ticket);
    await expect.poll(() => entry.isVisible(), { timeout: 15_000 }).toBe(true);
    expect(await phone.locator('#messages').isVisible()).toBe(false);
    expect(await axeViolations(phone)).toEqual([]);
    await screenshot(phone, 'agent-page-phone-390x844-topics');
    await entry.click();
    await expect.poll(() => phone.locator('#messages').isVisible()).toBe(true);
    expect(await phone.locator('nav').isVisible()).toBe(false);
    expect((await phone.locator('#messages').boundingBox())!.width).toBe(390);
    await pinnedOpensWhole(phone, ticket, 'agent-page-pinned-phone-390x844');
    expect(await axeViolations(phone)).toEqual([]);
    await screenshot(phone, 'agent-page-phone-390x844-topic');
    await phone.setViewportSize({ width: 844, height: 390 });
    await screenshot(phone, 'agent-page-phone-844x390-topic');
    await phone.setViewportSize({ width: 390, height: 844 });
    await phone.getByRole('button', { name: 'Back to the topics' }).click();
    await expect.poll(() => phone.locator('nav').isVisible()).toBe(true);
    expect(await phone.locator('#messages').isVisible()).toBe(false);
  });
});
