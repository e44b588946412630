import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startGatewayUnderTest, type GatewayUnderTest } from './gateway-under-test';

describe('the daily conversation limit', () => {
  let gateway: GatewayUnderTest;

  beforeAll(async () => {
    gateway = await startGatewayUnderTest({
      namespace: 'gateway-conversation-limit-test',
      env: { LIMIT_CONVERSATIONS_PER_DAY: '2' },
    });
  });

  afterAll(async () => {
    await gateway?.close();
  });

  const start = (headers: Record<string, string> = {}) =>
    gateway.app.inject({ method: 'POST', url: '/v1/conversations', payload: {}, headers });

  it('refuses the conversation over the limit with CONVERSATION_LIMIT, the limit and when it frees', async () => {
    expect((await start()).statusCode).toBe(201);
    expect((await start()).statusCode).toBe(201);
    const refused = await start();
    expect(refused.statusCode).toBe(429);
    const body = refused.json<{
      error: { code: string; details: { limit: number; retryAfterMs: number } };
    }>();
    expect(body.error.code).toBe('CONVERSATION_LIMIT');
    expect(body.error.details.limit).toBe(2);
    expect(body.error.details.retryAfterMs).toBeGreaterThan(23 * 3_600_000);
    expect(Number(refused.headers['retry-after'])).toBe(
      Math.ceil(body.error.details.retryAfterMs / 1000),
    );
  });

  it('warns once when a request carries X-Forwarded-For and TRUST_PROXY is unset', async () => {
    const warn = vi.spyOn(gateway.logger, 'warn');
    const proxied = () => start({ 'x-forwarded-for': '203.0.113.7' });
    await proxied();
    await proxied();
    const warnings = warn.mock.calls.filter((call) =>
      JSON.stringify(call).includes('TRUST_PROXY is unset'),
    );
    expect(warnings).toHaveLength(1);
    warn.mockRestore();
  });
});
