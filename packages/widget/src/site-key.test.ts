import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError, startRequest, VisitorApi } from './api';

// A gateway of many sites (issue 16): the snippet's site key goes with the conversation's start,
// and the site's plan refusals come back as codes the widget knows.

beforeEach(() => {
  vi.stubGlobal('location', { origin: 'https://shop.example', pathname: '/cart' });
  vi.stubGlobal('document', { title: 'Cart' });
});
afterEach(() => {
  vi.unstubAllGlobals();
});

describe('the start of a conversation of a site', () => {
  it('carries the site key when the snippet has one, and none otherwise', () => {
    expect(startRequest('en', { name: 'Ann' }, { siteKey: 'pk_abc123' })).toEqual({
      siteKey: 'pk_abc123',
      name: 'Ann',
      locale: 'en',
      page: { url: 'https://shop.example/cart', title: 'Cart' },
    });
    expect(JSON.stringify(startRequest('en', {}, {}))).not.toContain('siteKey');
  });

  it("posts it to the gateway, and reads a refusal of the site's plan as its code", async () => {
    const sent: unknown[] = [];
    vi.stubGlobal(
      'fetch',
      vi.fn(async (_url: string, init: { body: string }) => {
        sent.push(JSON.parse(init.body));
        return new Response(
          JSON.stringify({
            error: {
              code: 'TENANT_QUOTA_EXCEEDED',
              message: "this site's plan allows 2 (conversationsPerDay); try again later",
              details: { limit: 'conversationsPerDay', max: 2, retryAfterMs: 60_000 },
            },
          }),
          { status: 429, headers: { 'content-type': 'application/json' } },
        );
      }),
    );
    const api = new VisitorApi('https://support.example');
    const refused = await api
      .start(startRequest('en', {}, { siteKey: 'pk_abc123' }))
      .catch((e: unknown) => e);
    expect(sent).toEqual([expect.objectContaining({ siteKey: 'pk_abc123' })]);
    expect(refused).toBeInstanceOf(ApiError);
    expect(refused).toMatchObject({ code: 'TENANT_QUOTA_EXCEEDED', status: 429 });
  });
});
