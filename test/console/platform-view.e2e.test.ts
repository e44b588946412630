import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  axeViolations,
  consolePageChecked,
  launchBrowser,
  screenshotDir,
  skipBrowser,
} from '../support/browser';
import { startCluster, type Cluster } from '../support/cluster';

// The console's platform view in a real Chromium: the operator signs in with PLATFORM_TOKEN (the
// page keeps no token: an httpOnly cookie stands for it), creates a tenant, suspends and resumes
// it, sets its limits and origins and a write-only secret; every platform page at desktop,
// phone, dark and right-to-left sizes, checked by axe and saved as screenshots
// (test-results/screenshots/platform).

const PLATFORM_TOKEN = 'platform-token-for-the-console-platform-suite-0123';

let cluster: Cluster;
let browser: Browser;
let a: string;

const platform = async (method: string, path: string, body?: unknown) => {
  const response = await fetch(`${a}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${PLATFORM_TOKEN}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

beforeAll(async () => {
  cluster = await startCluster({
    gateways: 1,
    bridges: 1,
    gatewayEnv: { PLATFORM_TOKEN, TENANT_KEK: `k1:${randomBytes(32).toString('base64')}` },
  });
  a = cluster.gateways[0]!.url;
  // A second site with its bot and groups set, so the list and a detail page show some.
  const shop = await platform('POST', '/v1/platform/tenants', {
    id: 'shop-example',
    name: 'Shop Example',
    plan: 'pro',
    limits: { conversationsPerDay: 500, concurrentSockets: 200 },
    allowedOrigins: ['https://shop.example'],
    secrets: {
      botToken: '7100001:AAbbCCddEEffGGhhIIjjKKllMMnnOOppQQ',
      supportGroups: ['-1001234567890', '-1001234567891'],
    },
  });
  expect(shop.status).toBe(201);
  if (!skipBrowser) browser = await launchBrowser();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await cluster?.stop();
});

async function signIn(page: Page): Promise<void> {
  await page.goto(`${a}/console/platform`);
  await page.getByLabel('Platform token').fill(PLATFORM_TOKEN);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Tenants', level: 1 }).waitFor();
}

describe.skipIf(skipBrowser)('console platform view', () => {
  it('signs in with the platform token, keeping no token in the page, and manages a tenant', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    try {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));

      await page.goto(`${a}/console/platform`);
      await page.getByLabel('Platform token').fill('not-the-token');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByText('TOKEN_INVALID').waitFor();
      await signIn(page);
      // The token is in no storage a script can read, nor is the session cookie.
      const readable = await page.evaluate(() => ({
        cookie: document.cookie,
        local: JSON.stringify({ ...localStorage }),
        session: JSON.stringify({ ...sessionStorage }),
      }));
      expect(JSON.stringify(readable)).not.toContain(PLATFORM_TOKEN);
      expect(readable.cookie).not.toContain('topicdesk_platform');
      await page.getByRole('link', { name: 'Shop Example' }).waitFor();

      await page.getByRole('button', { name: 'New tenant' }).click();
      await page.getByLabel('Name').fill('Blog Example');
      await page.getByLabel('Id').fill('blog-example');
      await page.getByRole('button', { name: 'Create' }).click();
      await page.getByRole('heading', { name: 'Blog Example', level: 1 }).waitFor();
      expect(page.url()).toBe(`${a}/console/platform/tenants/blog-example`);

      // Usage where the gateway reports it; else the panel says so.
      await page
        .getByRole('region', { name: 'Usage' })
        .getByText(/Conversations today|does not report usage yet/)
        .first()
        .waitFor();
      await page.getByRole('button', { name: 'Suspend' }).click();
      await page.getByText('Suspended: nothing of this site is served now.').waitFor();
      expect((await platform('GET', '/v1/platform/tenants/blog-example')).body).toMatchObject({
        status: 'suspended',
      });
      await page.getByRole('button', { name: 'Resume' }).click();
      await page.getByText('Resumed.').waitFor();

      await page.getByLabel('Conversations a day').fill('120');
      await page
        .getByLabel('Allowed origins')
        .fill('https://blog.example, https://www.blog.example');
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      await page.getByText('Saved.').waitFor();
      expect((await platform('GET', '/v1/platform/tenants/blog-example')).body).toMatchObject({
        limits: { conversationsPerDay: 120 },
        allowedOrigins: ['https://blog.example', 'https://www.blog.example'],
      });

      const serviceToken = page.getByLabel(/^Admin API token/);
      await page
        .locator('.secret')
        .filter({ has: serviceToken })
        .getByRole('button', { name: 'Generate' })
        .click();
      const generated = await serviceToken.inputValue();
      expect(generated).toMatch(/^[A-Za-z0-9_-]{43}$/);
      await page.getByRole('button', { name: 'Save secrets' }).click();
      await page.getByText('Secrets saved.').waitFor();
      await page.getByLabel(/^Admin API token — set · /).waitFor();
      expect(await page.content()).not.toContain(generated);
      // The generated token is the site's admin token now.
      const agents = await fetch(`${a}/v1/admin/agents`, {
        headers: { authorization: `Bearer ${generated}` },
      });
      expect(agents.status).toBe(200);

      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByLabel('Platform token').waitFor();
      expect(errors).toEqual([]);
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

  it('passes axe on every platform page, at desktop, phone, dark and right-to-left, with screenshots', async () => {
    const dir = join(screenshotDir, 'platform');
    mkdirSync(dir, { recursive: true });
    const problems: string[] = [];
    for (const [variant, options] of Object.entries(VARIANTS)) {
      const context = await browser.newContext(options);
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto(`${a}/console/platform`);
      await page.getByLabel('Platform token').waitFor();
      if (variant === 'rtl') await page.evaluate(() => (document.documentElement.dir = 'rtl'));
      await page.screenshot({ path: join(dir, `sign-in-${variant}.png`), fullPage: true });
      for (const v of await axeViolations(page, { minImpact: 'serious' }))
        problems.push(`sign-in (${variant}) ${v}`);
      await signIn(page);
      for (const [name, path] of [
        ['tenants', '/platform'],
        ['tenant', '/platform/tenants/shop-example'],
      ] as const) {
        const shot = join(dir, `${name}-${variant}.png`);
        for (const v of await consolePageChecked(page, `${a}/console${path}`, variant, shot))
          problems.push(`${name} (${variant}) ${v}`);
      }
      expect(errors).toEqual([]);
      await context.close();
    }
    expect(problems).toEqual([]);
  }, 300_000);
});
