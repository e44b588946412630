import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { readEventStream } from '@topicdesk/testkit';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin, ALICE } from '../support/agents';
import { axeViolations, launchBrowser, screenshotDir, skipBrowser } from '../support/browser';
import { consoleLink } from '../support/console';
import {
  agentSays,
  BOT_TOKEN,
  GROUP_ID,
  startCluster,
  topicOf,
  type Cluster,
} from '../support/cluster';

// The console's live overview across replicas: the stream is open on gateway A, the visitor
// starts a conversation through gateway B and an agent claims it in Telegram (the bridge's
// process). Each change is told on the tenant's activity channel (Redis), so A's stream shows
// both without a reload. The Telegram bots come from both bridge replicas' statuses: a 429 to
// the sender bot shows it paused until Telegram's retry_after, live, and in the page.

const SERVICE_TOKEN = 'service-token-for-the-overview-suite-0123';
const CONSOLE_URL = 'http://console.example.test/console';

interface OverviewEvent {
  open: number;
  waiting: number;
  assigned: number;
}

interface BotsEvent {
  telegram?: {
    available: boolean;
    replicas: number;
    bots: Array<{ id: string; role: string; state: string; pausedUntil: string | null }>;
  };
}

let cluster: Cluster;

beforeAll(async () => {
  cluster = await startCluster({
    gateways: 2,
    bridges: 2,
    senderBots: 1,
    gatewayEnv: { SERVICE_TOKEN },
    bridgeEnv: { CONSOLE_URL },
  });
}, 180_000);

afterAll(async () => {
  await cluster?.stop();
});

const botIdOf = (token: string) => token.split(':')[0]!;

/** Sends as `token` straight to the sandbox, as another program using that bot would. */
async function sendAs(token: string, text: string) {
  const response = await fetch(`${cluster.sandbox.url}/bot${token}/sendMessage`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ chat_id: GROUP_ID, text }),
  });
  expect(response.status).toBe(200);
}

describe('the console overview: Telegram bots', () => {
  it('shows both bots from both bridges, then the sender paused by a 429 until T, live', async () => {
    const [a, b] = cluster.gateways.map((g) => g.url) as [string, string];
    const [main, sender] = [botIdOf(BOT_TOKEN), botIdOf(cluster.senderTokens[0]!)];
    const stream = await fetch(`${a}/v1/console/overview/stream`, {
      headers: { authorization: `Bearer ${SERVICE_TOKEN}` },
    });
    const events = readEventStream(stream.body!);
    try {
      // Each bridge signals its status on start, so the stream shows them without a change.
      const shown = await events.until<BotsEvent>(
        'overview',
        (o) => o.telegram?.replicas === 2 && o.telegram.bots.length === 2,
      );
      expect(shown.telegram?.bots).toMatchObject([
        { id: main, role: 'main', state: 'ok', pausedUntil: null },
        { id: sender, role: 'sender', state: 'ok', pausedUntil: null },
      ]);

      // Telegram's group limit, small, and the sender bot's share used elsewhere: its next
      // call into the group is answered 429 with retry_after (up to the minute's window).
      const perMinute = 8;
      cluster.sandbox.state.setLimits({
        enabled: true,
        perGroupPerMinute: perMinute,
        groupWindowMs: 60_000,
        perChatPerSecond: 1000,
        chatBurst: 1000,
        globalPerSecond: 1000,
      });
      for (let i = 0; i < perMinute; i++) await sendAs(cluster.senderTokens[0]!, `elsewhere ${i}`);
      const began = Date.now();
      // A new conversation: its topic and header go out, the main bot first, then the sender.
      const started = await fetch(`${b}/v1/conversations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Petra Paused' }),
      });
      expect(started.status).toBe(201);
      const paused = await events.until<BotsEvent>(
        'overview',
        (o) => o.telegram?.bots.find((bot) => bot.id === sender)?.state === 'paused',
      );
      const refused = cluster.sandbox.state.calls().filter((call) => call.status === 429);
      expect(refused.length).toBeGreaterThan(0);
      expect(refused.every((call) => String(call.botId) === sender)).toBe(true);
      const until = Date.parse(
        paused.telegram!.bots.find((bot) => bot.id === sender)!.pausedUntil!,
      );
      expect(until).toBeGreaterThan(Date.now());
      expect(until).toBeLessThanOrEqual(began + 60_000 + 2000);
      expect(paused.telegram?.bots.find((bot) => bot.id === main)?.state).toBe('ok');
    } finally {
      cluster.sandbox.state.setLimits({ enabled: false });
      await events.cancel();
    }
  }, 90_000);

  it.skipIf(skipBrowser)(
    'shows the paused bot in the page, at desktop, phone and dark, without axe violations',
    async () => {
      const a = cluster.gateways[0]!.url;
      const saved = await admin(a, SERVICE_TOKEN, 'PUT', `/v1/admin/agents/${ALICE.id}`, {
        displayName: 'Alice M.',
        role: 'admin',
      });
      expect(saved.status).toBe(200);
      const browser: Browser = await launchBrowser();
      const dir = join(screenshotDir, 'console');
      mkdirSync(dir, { recursive: true });
      try {
        const variants = {
          desktop: { viewport: { width: 1280, height: 800 } },
          phone: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true },
          dark: { viewport: { width: 1280, height: 800 }, colorScheme: 'dark' as const },
        } as const;
        const problems: string[] = [];
        for (const [variant, options] of Object.entries(variants)) {
          const context = await browser.newContext(options);
          const page = await context.newPage();
          const { token } = await consoleLink(cluster.sandbox, ALICE);
          await page.goto(`${a}/console/sign-in?t=${token}`);
          await Promise.all([page.waitForURL(`${a}/console/`), page.click('button')]);
          const bots = page.getByRole('table').filter({ hasText: 'Sent this window' });
          const pausedRow = bots.locator('tr.paused');
          await pausedRow.waitFor({ timeout: 15_000 });
          expect(await pausedRow.textContent()).toMatch(/sender.*Paused until \d/);
          expect(await bots.locator('tbody tr').count()).toBe(2);
          await page.waitForTimeout(150);
          await page.screenshot({
            path: join(dir, `overview-bots-${variant}.png`),
            fullPage: true,
          });
          for (const v of await axeViolations(page, { minImpact: 'serious' }))
            problems.push(`${variant} ${v}`);
          await context.close();
        }
        expect(problems).toEqual([]);
      } finally {
        await browser.close();
      }
    },
    120_000,
  );
});

describe('the console overview, live across gateway replicas', () => {
  it('shows on replica A a conversation started through replica B, then its claim in Telegram', async () => {
    const [a, b] = cluster.gateways.map((g) => g.url) as [string, string];
    const stream = await fetch(`${a}/v1/console/overview/stream`, {
      headers: { authorization: `Bearer ${SERVICE_TOKEN}` },
    });
    expect(stream.status).toBe(200);
    const events = readEventStream(stream.body!);
    const first = (await events.next('overview')) as OverviewEvent;

    const started = await fetch(`${b}/v1/conversations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Olive Overview' }),
    });
    expect(started.status).toBe(201);
    const { conversationId, ticket } = (await started.json()) as {
      conversationId: string;
      ticket: string;
    };
    const shown = await events.until<OverviewEvent>(
      'overview',
      (o) => o.open === first.open + 1 && o.waiting === first.waiting + 1,
    );
    expect(shown.assigned).toBe(first.assigned);

    // A's list has it too, newest first.
    const listed = await admin(a, SERVICE_TOKEN, 'GET', '/v1/admin/conversations?limit=1');
    expect(listed.body).toMatchObject({ items: [{ id: conversationId, ticket, status: 'open' }] });

    // The claim is made by the bridge's process: A's stream hears it as well.
    agentSays(cluster.sandbox, await topicOf(cluster.sandbox, ticket), '/claim');
    const claimed = await events.until<OverviewEvent>(
      'overview',
      (o) => o.assigned === first.assigned + 1,
    );
    expect(claimed.waiting).toBe(first.waiting);
    await events.cancel();
    await events.closed;
  }, 60_000);
});
