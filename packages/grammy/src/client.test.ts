import { describe, expect, it } from 'vitest';
import { backoffMs, TopicdeskClient, TopicdeskError, TopicdeskUnavailableError } from './client.js';

const ANSWER = { outcome: 'stored', inSupport: true, answers: [], toast: '' };

/** A fetch that answers from a script, recording every request. */
function scripted(...answers: Array<Response | Error>) {
  const requests: Array<{ url: string; init: RequestInit }> = [];
  const fetch = (async (url: string, init: RequestInit) => {
    requests.push({ url, init });
    const next = answers.shift();
    if (!next) throw new Error('no more answers');
    if (next instanceof Error) throw next;
    return next;
  }) as unknown as typeof globalThis.fetch;
  return { fetch, requests };
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

const fast = { attempts: 4, baseDelayMs: 1, maxDelayMs: 2 };

describe('the Topicdesk client', () => {
  it('sends the same body with the secret until Topicdesk acknowledges it', async () => {
    const { fetch, requests } = scripted(
      new TypeError('fetch failed'),
      json(503, { error: { code: 'UNAVAILABLE', message: 'try again' } }),
      json(429, { error: { code: 'RATE_LIMITED', message: 'slow down' } }),
      json(200, ANSWER),
    );
    const client = new TopicdeskClient({
      url: 'https://support.example.com/',
      channelSecret: 'tdch_secret',
      fetch,
      retry: fast,
    });
    const input = { updateId: 41, userId: 7, messageId: 3, text: 'hello' };
    await expect(client.message(input)).resolves.toEqual(ANSWER);
    expect(requests).toHaveLength(4);
    for (const request of requests) {
      expect(request.url).toBe('https://support.example.com/v1/channels/bot/messages');
      expect(request.init.headers).toMatchObject({ authorization: 'Bearer tdch_secret' });
      expect(JSON.parse(request.init.body as string)).toEqual(input);
    }
  });

  it('gives up after its tries with TopicdeskUnavailableError', async () => {
    const { fetch, requests } = scripted(...Array.from({ length: 4 }, () => new TypeError('down')));
    const client = new TopicdeskClient({
      url: 'http://td',
      channelSecret: 's',
      fetch,
      retry: fast,
    });
    await expect(client.support({ updateId: 1, userId: 2 })).rejects.toBeInstanceOf(
      TopicdeskUnavailableError,
    );
    expect(requests).toHaveLength(4);
  });

  it('does not retry a refusal, and keeps its code', async () => {
    const { fetch, requests } = scripted(
      json(401, { error: { code: 'CHANNEL_SECRET_INVALID', message: 'no bot channel' } }),
    );
    const client = new TopicdeskClient({
      url: 'http://td',
      channelSecret: 's',
      fetch,
      retry: fast,
    });
    const failure = await client.usersInSupport().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TopicdeskError);
    expect(failure).toMatchObject({ code: 'CHANNEL_SECRET_INVALID', status: 401 });
    expect(requests).toHaveLength(1);
  });

  it('waits longer after each failure, never past the cap', () => {
    const retry = { attempts: 10, baseDelayMs: 100, maxDelayMs: 1000 };
    for (let attempt = 1; attempt <= 10; attempt++) {
      const base = Math.min(1000, 100 * 2 ** (attempt - 1));
      const wait = backoffMs(attempt, retry);
      expect(wait).toBeGreaterThanOrEqual(base / 2);
      expect(wait).toBeLessThanOrEqual(base);
    }
  });
});
