import { request } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSandbox, type RunningSandbox } from '../src/index';
import { AGENT, startHarness, TOKEN, VISITOR, type Harness } from './fixtures';

// Issue 12, item 9: pages in the operator's browser must not drive or read the sandbox,
// while bots and tests (no Origin, a loopback Host) keep working as with Telegram.

interface Answer {
  status: number;
  body: Record<string, unknown> | unknown[] | string;
}

/** A raw HTTP request, so that Host, Origin and Sec-Fetch-* are exactly what a browser would send. */
function send(
  base: string,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  const url = new URL(`${base}/${path}`);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: options.method ?? 'GET', headers: options.headers ?? {} },
      (res) => {
        let raw = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (raw += chunk));
        res.on('end', () => {
          const json = (res.headers['content-type'] ?? '').includes('json');
          resolve({
            status: res.statusCode ?? 0,
            body: json ? (JSON.parse(raw) as Answer['body']) : raw,
          });
        });
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

let h: Harness;
let port: string;
let thread: number;

beforeEach(async () => {
  h = await startHarness();
  port = new URL(h.sandbox.url).port;
  ({ message_thread_id: thread } = await h.bot.api.createForumTopic(h.group, 'Visitor #1'));
  h.sandbox.state.injectMessage({ chatId: VISITOR.id, text: 'my secret order', from: VISITOR });
});

afterEach(async () => {
  await h.sandbox.close();
});

const EVIL = 'https://evil.example';

describe('Host (DNS rebinding)', () => {
  it("refuses a foreign Host on the messages API with 403 and shows no visitor's text", async () => {
    const rebound = await send(h.sandbox.url, `sandbox/messages?chatId=${VISITOR.id}`, {
      headers: { host: `evil.example:${port}` },
    });
    expect(rebound.status).toBe(403);
    expect(rebound.body).toEqual({
      ok: false,
      code: 'HOST_NOT_ALLOWED',
      error_code: 403,
      description: 'Forbidden: Host is not a loopback name or a configured host of the sandbox',
    });
    expect(JSON.stringify(rebound.body)).not.toContain('my secret order');
    const loopback = await send(h.sandbox.url, `sandbox/messages?chatId=${VISITOR.id}`, {
      headers: { host: `localhost:${port}` },
    });
    expect(loopback.status).toBe(200);
    expect(JSON.stringify(loopback.body)).toContain('my secret order');
  });

  it('refuses a foreign Host on the Bot API and the agent page', async () => {
    const updates = await send(h.sandbox.url, `bot${TOKEN}/getUpdates`, {
      headers: { host: `evil.example:${port}` },
    });
    expect(updates).toEqual({
      status: 403,
      body: {
        ok: false,
        error_code: 403,
        description: 'Forbidden: Host is not a loopback name or a configured host of the sandbox',
      },
    });
    const page = await send(h.sandbox.url, '', { headers: { host: `evil.example:${port}` } });
    expect(page.status).toBe(403);
    // The refused getUpdates confirmed nothing and was not logged as a bot's call.
    expect(h.sandbox.state.calls({ method: 'getUpdates' })).toEqual([]);
  });

  it('answers to a host it was told to serve, and listens on loopback unless told otherwise', async () => {
    expect(new URL(h.sandbox.url).hostname).toBe('127.0.0.1');
    const told: RunningSandbox = await startSandbox({ allowedHosts: ['sandbox.internal'] });
    try {
      const named = await send(told.url, 'sandbox/state', {
        headers: { host: `sandbox.internal:${new URL(told.url).port}` },
      });
      expect(named.status).toBe(200);
      const other = await send(told.url, 'sandbox/state', {
        headers: { host: `sandbox.evil:${new URL(told.url).port}` },
      });
      expect(other.status).toBe(403);
    } finally {
      await told.close();
    }
  });
});

describe('cross-site requests', () => {
  it('refuses a cross-site text/plain POST to reset, and resets nothing', async () => {
    const reset = await send(h.sandbox.url, 'sandbox/reset', {
      method: 'POST',
      headers: {
        origin: EVIL,
        'sec-fetch-site': 'cross-site',
        'content-type': 'text/plain;charset=UTF-8',
      },
      body: '{}',
    });
    expect(reset.status).toBe(403);
    expect(reset.body).toMatchObject({ code: 'ORIGIN_NOT_ALLOWED', error_code: 403 });
    expect(h.sandbox.state.topics()).toHaveLength(1);
  });

  it('refuses a cross-site form-encoded sendMessage, and a cross-site GET with no Origin (an <img>)', async () => {
    const form = new URLSearchParams({
      chat_id: String(h.group),
      message_thread_id: String(thread),
      text: 'posted by a web page',
    });
    const posted = await send(h.sandbox.url, `bot${TOKEN}/sendMessage`, {
      method: 'POST',
      headers: {
        origin: EVIL,
        'sec-fetch-site': 'cross-site',
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: form.toString(),
    });
    expect(posted).toEqual({
      status: 403,
      body: { ok: false, error_code: 403, description: 'Forbidden: cross-site request' },
    });
    const image = await send(h.sandbox.url, `bot${TOKEN}/sendMessage?${form.toString()}`, {
      headers: { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors' },
    });
    expect(image.status).toBe(403);
    const nullOrigin = await send(h.sandbox.url, `bot${TOKEN}/sendMessage`, {
      method: 'POST',
      headers: { origin: 'null', 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
    expect(nullOrigin.status).toBe(403);
    expect(
      h.sandbox.state.messages({ threadId: thread, fromBot: true }).map((m) => m.text),
    ).toEqual([null]);
  });

  it('still takes form-encoded, query string and JSON calls from clients that are not browsers', async () => {
    const form = await send(h.sandbox.url, `bot${TOKEN}/sendMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        chat_id: String(h.group),
        message_thread_id: String(thread),
        text: 'form',
      }).toString(),
    });
    const query = await send(
      h.sandbox.url,
      `bot${TOKEN}/sendMessage?chat_id=${h.group}&message_thread_id=${thread}&text=query`,
    );
    const json = await send(h.sandbox.url, `bot${TOKEN}/sendMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ chat_id: h.group, message_thread_id: thread, text: 'json' }),
    });
    expect([form.status, query.status, json.status]).toEqual([200, 200, 200]);
    expect(
      h.sandbox.state.messages({ threadId: thread, fromBot: true }).map((m) => m.text),
    ).toEqual([null, 'form', 'query', 'json']);
  });

  it("lets the agent page's own requests through, and a page on another loopback port", async () => {
    for (const origin of [h.sandbox.url, `http://localhost:5173`]) {
      const written = await send(h.sandbox.url, 'sandbox/messages', {
        method: 'POST',
        headers: {
          origin,
          'sec-fetch-site': origin === h.sandbox.url ? 'same-origin' : 'same-site',
          'content-type': 'application/json',
        },
        body: JSON.stringify({
          chatId: h.group,
          text: `from ${origin}`,
          from: AGENT,
          messageThreadId: thread,
        }),
      });
      expect(written.status).toBe(200);
    }
  });

  it('opens the agent page from a link on another site (a navigation)', async () => {
    const page = await send(h.sandbox.url, '', {
      headers: { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate' },
    });
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>Telegram sandbox');
  });
});

describe('JSON only on the control API', () => {
  it('answers 415 to a control POST that is form-encoded, text/plain or untyped, and changes nothing', async () => {
    const body = JSON.stringify({ chatId: h.group, text: 'sneaky', from: AGENT });
    const untyped: Record<string, string> = {};
    for (const headers of [
      { 'content-type': 'text/plain' },
      { 'content-type': 'application/x-www-form-urlencoded' },
      untyped,
    ]) {
      const answer = await send(h.sandbox.url, 'sandbox/messages', {
        method: 'POST',
        headers,
        body,
      });
      expect(answer).toEqual({
        status: 415,
        body: {
          ok: false,
          code: 'UNSUPPORTED_MEDIA_TYPE',
          error_code: 415,
          description: 'Unsupported Media Type: the control API takes application/json',
        },
      });
    }
    const reset = await send(h.sandbox.url, 'sandbox/reset', { method: 'POST' });
    expect(reset.status).toBe(415);
    expect(h.sandbox.state.messages({ threadId: 1 })).toEqual([]);
    expect(h.sandbox.state.topics()).toHaveLength(1);
    const json = await send(h.sandbox.url, 'sandbox/reset', {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });
    expect(json.status).toBe(200);
  });
});
