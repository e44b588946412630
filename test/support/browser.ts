import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { repoRoot } from '@topicdesk/testkit';
import { chromium, type Browser, type Frame, type Locator, type Page } from 'playwright-core';

/** Debian's Chromium (`.ci/run` installs it); CHROMIUM_PATH points elsewhere. */
export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/**
 * Whether to skip the browser suites: only outside CI, and saying why. In CI a missing
 * Chromium is a failure (launchBrowser throws), never a silent skip.
 */
export const skipBrowser = ((): boolean => {
  if (existsSync(CHROMIUM_PATH) || process.env['CI']) return false;
  console.warn(
    `skipping browser tests: no Chromium at ${CHROMIUM_PATH} (apt-get install -y chromium, or set CHROMIUM_PATH)`,
  );
  return true;
})();

/** A headless Chromium; every test makes its own context (fresh storage, cookies, cache). */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium is missing at ${CHROMIUM_PATH}: apt-get install -y chromium (.ci/run does it)`,
    );
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: ARGS, headless: true });
}

/** test-results/screenshots, or SCREENSHOT_DIR (to look at one run's images elsewhere). */
export const screenshotDir =
  process.env['SCREENSHOT_DIR'] ?? join(repoRoot, 'test-results', 'screenshots');

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(screenshotDir, { recursive: true });
  const path = join(screenshotDir, `${name}.png`);
  await page.screenshot({ path });
  return path;
}

/** The widget's parts; Playwright's CSS locators pierce the open shadow root. */
export function widget(page: Page | Frame) {
  const root = page.locator('topicdesk-chat');
  return {
    root,
    launcher: root.locator('.launcher'),
    panel: root.locator('.panel'),
    input: root.locator('.composer textarea'),
    sendButton: root.locator('button.send'),
    closeButton: root.locator('.head button.close'),
    log: root.locator('.log'),
    rows: root.locator('.log li.row:not(.greeting)'),
    banner: root.locator('.banner'),
    notice: root.locator('.notice'),
    closed: root.locator('.closed'),
    badge: root.locator('.badge'),
    live: root.locator('[aria-live=polite]'),
    /** Bubbles' texts by kind, in order. */
    texts: (kind: 'visitor' | 'agent' | 'system'): Locator =>
      root.locator(`.log li.row.${kind}:not(.greeting) .bubble .text`),
  };
}

/** The ticket of the conversation the widget stored for `gateway` (waits until there is one). */
export async function storedTicket(
  page: Page,
  gateway: string,
  timeoutMs = 20_000,
): Promise<string> {
  const ticket = await page.waitForFunction(
    (key) =>
      (JSON.parse(localStorage.getItem(key) ?? 'null') as { ticket?: string } | null)?.ticket,
    `topicdesk:${gateway}`,
    { timeout: timeoutMs, polling: 100 },
  );
  return (await ticket.jsonValue()) as string;
}

/** Sends a message the way a visitor does: type, Enter. */
export async function send(page: Page, text: string): Promise<void> {
  const w = widget(page);
  await w.input.fill(text);
  await w.input.press('Enter');
}

const axeSource = readFileSync(
  createRequire(import.meta.url).resolve('axe-core/axe.min.js'),
  'utf8',
);

/** axe-core's impact levels, least first. */
const IMPACTS = ['minor', 'moderate', 'serious', 'critical'] as const;

/**
 * axe-core's violations on the page (open shadow roots included), as `rule: targets` lines so a
 * failing expectation says what and where; `minImpact` leaves out the lesser ones. Evaluated
 * through the debugging protocol, so a page's Content-Security-Policy does not stop it.
 */
export async function axeViolations(
  page: Page,
  options: { minImpact?: (typeof IMPACTS)[number] } = {},
): Promise<string[]> {
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: {
          run(
            context: Document,
            options: object,
          ): Promise<{
            violations: Array<{
              id: string;
              impact: string | null;
              nodes: Array<{ target: unknown }>;
            }>;
          }>;
        };
      }
    ).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      targets: v.nodes.map((n) => JSON.stringify(n.target)),
    }));
  });
  const least = IMPACTS.indexOf(options.minImpact ?? 'minor');
  return violations
    .filter((v) => IMPACTS.indexOf((v.impact ?? 'minor') as (typeof IMPACTS)[number]) >= least)
    .map((v) => `${v.id}: ${v.targets.join(' ')}`);
}

/**
 * A console page as the screenshot pass sees it: opened at `url`, its data loaded, turned
 * right-to-left for the `rtl` variant, saved to `screenshot`; answers its serious axe violations.
 */
export async function consolePageChecked(
  page: Page,
  url: string,
  variant: string,
  screenshot: string,
): Promise<string[]> {
  await page.goto(url);
  await page.locator('#page-title').waitFor();
  await page.waitForFunction(() => document.querySelector('[aria-busy=true]') === null);
  if (variant === 'rtl') await page.evaluate(() => (document.documentElement.dir = 'rtl'));
  await page.waitForTimeout(150);
  await page.screenshot({ path: screenshot, fullPage: true });
  return axeViolations(page, { minImpact: 'serious' });
}
