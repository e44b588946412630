import Fastify from 'fastify';
import { Bot } from 'grammy';
import { afterEach, describe, expect, it } from 'vitest';
import { sandboxPlugin, SandboxState } from '../src/index';
import { TOKEN } from './fixtures';

const apps: Array<{ close(): Promise<unknown> }> = [];

afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

describe('sandboxPlugin under a prefix', () => {
  it('serves the Bot API, the control API and the page below the prefix only', async () => {
    const state = new SandboxState({ supergroupId: -1009999 });
    const app = Fastify();
    apps.push({ close: () => app.close().then(() => state.close()) });
    app.get('/health', () => ({ status: 'ok' }));
    await app.register(sandboxPlugin, { prefix: '/telegram-sandbox', state });
    const address = await app.listen({ host: '127.0.0.1', port: 0 });

    const bot = new Bot(TOKEN, { client: { apiRoot: `${address}/telegram-sandbox` } });
    const topic = await bot.api.createForumTopic(-1009999, 'Prefixed');
    expect(topic.name).toBe('Prefixed');
    expect(state.topics(-1009999)).toHaveLength(1);

    const summary = (await (await fetch(`${address}/telegram-sandbox/sandbox/state`)).json()) as {
      supergroupId: number;
    };
    expect(summary.supergroupId).toBe(-1009999);

    const bare = await fetch(`${address}/telegram-sandbox`, { redirect: 'manual' });
    expect(bare.status).toBe(302);
    expect(bare.headers.get('location')).toBe('/telegram-sandbox/');
    const page = await fetch(`${address}/telegram-sandbox/`);
    expect(await page.text()).toContain('<title>Telegram sandbox');

    // The host app keeps its own routes and its own 404s.
    expect(await (await fetch(`${address}/health`)).json()).toEqual({ status: 'ok' });
    const outside = await fetch(`${address}/nothing-here`);
    expect(outside.status).toBe(404);
    expect(await outside.json()).not.toHaveProperty('ok');
    const inside = await fetch(`${address}/telegram-sandbox/nothing-here`);
    expect(await inside.json()).toEqual({ ok: false, error_code: 404, description: 'Not Found' });
  });

  it("checks Host and Origin on the sandbox's routes only, answering to the hosts it is given", async () => {
    const state = new SandboxState();
    const app = Fastify();
    apps.push({ close: () => app.close().then(() => state.close()) });
    app.get('/health', () => ({ status: 'ok' }));
    await app.register(sandboxPlugin, {
      prefix: '/telegram-sandbox',
      state,
      allowedHosts: ['192.0.2.10'],
    });
    const get = (url: string, headers: Record<string, string>) =>
      app.inject({ method: 'GET', url, headers });

    expect(
      (await get('/telegram-sandbox/sandbox/state', { host: '192.0.2.10:3000' })).statusCode,
    ).toBe(200);
    expect(
      (await get('/telegram-sandbox/sandbox/state', { host: 'evil.example:3000' })).statusCode,
    ).toBe(403);
    expect(
      (await get(`/telegram-sandbox/bot${TOKEN}/getMe`, { host: 'evil.example:3000' })).statusCode,
    ).toBe(403);
    expect(
      (
        await get(`/telegram-sandbox/bot${TOKEN}/getMe`, {
          host: '127.0.0.1:3000',
          origin: 'https://evil.example',
        })
      ).statusCode,
    ).toBe(403);
    // The host app's own routes are the host app's business.
    expect((await get('/health', { host: 'evil.example:3000' })).statusCode).toBe(200);
  });
});
