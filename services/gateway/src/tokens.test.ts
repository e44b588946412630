import { SignJWT } from 'jose';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ErrorCode, GatewayError } from './errors';
import type { FastifyBaseLogger } from 'fastify';
import type { ConversationService } from '@topicdesk/core';
import { authorizeConversation, ConversationTokens, restToken, tokenFrom } from './tokens';

const SECRET = 'a-conversation-secret-of-32-chars!!';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const claims = {
  conversationId: '9b2f3c1e-4a5d-4e6f-8a7b-1c2d3e4f5a6b',
  tenantId: 'default',
  generation: 3,
};
const T0 = new Date('2025-03-01T12:00:00.000Z');

async function refusal(promise: Promise<unknown>): Promise<GatewayError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
  throw new Error('expected a GatewayError');
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(T0);
});
afterEach(() => {
  vi.useRealTimers();
});

describe('ConversationTokens', () => {
  const tokens = new ConversationTokens(SECRET, HOUR, 7 * DAY, false);

  it('verifies the token it issued and gives back the claims', async () => {
    const issued = await tokens.issue(claims, '203.0.113.7');
    await expect(tokens.verify(issued.token, '198.51.100.1')).resolves.toMatchObject(claims);
  });

  it('gives back the generation and the expiry (ms) it was issued with', async () => {
    const issued = await tokens.issue(claims, undefined);
    await expect(tokens.verify(issued.token, undefined)).resolves.toEqual({
      ...claims,
      expiresAt: T0.getTime() + HOUR,
    });
  });

  it('refuses a token of the right secret without exp with TOKEN_INVALID (it would never expire)', async () => {
    const key = new TextEncoder().encode(SECRET);
    const eternal = await new SignJWT({ tid: 'default', gen: 0 })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(claims.conversationId)
      .setIssuer('topicdesk')
      .setAudience('topicdesk:conversation')
      .setIssuedAt()
      .sign(key);
    const error = await refusal(tokens.verify(eternal, undefined));
    expect(error.code).toBe(ErrorCode.TOKEN_INVALID);
    expect(error.message).toBe('the token has no expiry');
    const refresh = await refusal(tokens.verify(eternal, undefined, { allowExpired: true }));
    expect(refresh.code).toBe(ErrorCode.TOKEN_INVALID);
  });

  it('reads a token without gen (issued before generations) as generation 0, and refuses a bad gen', async () => {
    const key = new TextEncoder().encode(SECRET);
    const sign = (payload: Record<string, unknown>) =>
      new SignJWT(payload)
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(claims.conversationId)
        .setIssuer('topicdesk')
        .setAudience('topicdesk:conversation')
        .setExpirationTime('1h')
        .sign(key);
    await expect(tokens.verify(await sign({ tid: 'default' }), undefined)).resolves.toMatchObject({
      generation: 0,
    });
    for (const gen of [-1, 1.5, '2']) {
      const error = await refusal(tokens.verify(await sign({ tid: 'default', gen }), undefined));
      expect(error.code, String(gen)).toBe(ErrorCode.TOKEN_INVALID);
    }
  });

  it('says when the token expires, to the second, in ISO 8601', async () => {
    vi.setSystemTime(new Date(T0.getTime() + 999));
    const issued = await tokens.issue(claims, undefined);
    expect(issued.expiresAt).toBe('2025-03-01T13:00:00.000Z');
  });

  it('refuses an expired token with TOKEN_EXPIRED (401)', async () => {
    const issued = await tokens.issue(claims, undefined);
    vi.setSystemTime(new Date(T0.getTime() + HOUR + 1000));
    const error = await refusal(tokens.verify(issued.token, undefined));
    expect(error.code).toBe(ErrorCode.TOKEN_EXPIRED);
    expect(error.statusCode).toBe(401);
  });

  it('accepts a token expired within the refresh grace when allowExpired is set', async () => {
    const issued = await tokens.issue(claims, undefined);
    vi.setSystemTime(new Date(T0.getTime() + HOUR + 6 * DAY));
    await expect(
      tokens.verify(issued.token, undefined, { allowExpired: true }),
    ).resolves.toMatchObject(claims);
  });

  it('refuses a token expired longer than the refresh grace ago, even with allowExpired', async () => {
    const issued = await tokens.issue(claims, undefined);
    vi.setSystemTime(new Date(T0.getTime() + HOUR + 7 * DAY + 1000));
    const error = await refusal(tokens.verify(issued.token, undefined, { allowExpired: true }));
    expect(error.code).toBe(ErrorCode.TOKEN_EXPIRED);
  });

  it('refuses a token signed with another secret with TOKEN_INVALID', async () => {
    const other = new ConversationTokens('another-secret-that-is-32-chars-long', HOUR, DAY, false);
    const issued = await other.issue(claims, undefined);
    const error = await refusal(tokens.verify(issued.token, undefined));
    expect(error.code).toBe(ErrorCode.TOKEN_INVALID);
    expect(error.statusCode).toBe(401);
  });

  describe("each tenant's own secret", () => {
    const secrets: Record<string, string> = {
      acme: 'acme-conversation-secret-of-32-chars!',
      shop: 'shop-conversation-secret-of-32-chars!',
    };
    const tenants = new ConversationTokens(
      SECRET,
      HOUR,
      DAY,
      false,
      undefined,
      async (tenantId) => secrets[tenantId],
    );

    it("signs with the tenant's secret and verifies with it; the default tenant keeps the env secret", async () => {
      const acme = { ...claims, tenantId: 'acme' };
      const issued = await tenants.issue(acme, undefined);
      await expect(tenants.verify(issued.token, undefined)).resolves.toMatchObject(acme);
      const plain = await tenants.issue(claims, undefined);
      await expect(tokens.verify(plain.token, undefined)).resolves.toMatchObject(claims);
      // The env secret does not verify the tenant's token (it is not signed with it).
      expect((await refusal(tokens.verify(issued.token, undefined))).code).toBe(
        ErrorCode.TOKEN_INVALID,
      );
    });

    it('refuses a token that names another tenant than the one whose secret signed it', async () => {
      const key = new TextEncoder().encode(secrets['acme']);
      const claimingShop = await new SignJWT({ tid: 'shop', gen: 0 })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(claims.conversationId)
        .setIssuer('topicdesk')
        .setAudience('topicdesk:conversation')
        .setExpirationTime('1h')
        .sign(key);
      expect((await refusal(tenants.verify(claimingShop, undefined))).code).toBe(
        ErrorCode.TOKEN_INVALID,
      );
    });

    it('issues nothing for a tenant without a secret (TENANT_NOT_CONFIGURED), verifies nothing of it', async () => {
      const bare = { ...claims, tenantId: 'bare' };
      expect(await tenants.canIssue('bare')).toBe(false);
      const error = await refusal(tenants.issue(bare, undefined));
      expect(error.code).toBe(ErrorCode.TENANT_NOT_CONFIGURED);
      expect(error.statusCode).toBe(503);
      // Not even a token signed with the env secret: no fallback.
      const envSigned = await new SignJWT({ tid: 'bare', gen: 0 })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(claims.conversationId)
        .setIssuer('topicdesk')
        .setAudience('topicdesk:conversation')
        .setExpirationTime('1h')
        .sign(new TextEncoder().encode(SECRET));
      expect((await refusal(tenants.verify(envSigned, undefined))).code).toBe(
        ErrorCode.TOKEN_INVALID,
      );
    });

    it('looks up no tenant for a token whose tenant claim is not a tenant id', async () => {
      const asked: string[] = [];
      const watched = new ConversationTokens(SECRET, HOUR, DAY, false, undefined, (tenantId) => {
        asked.push(tenantId);
        return Promise.resolve(undefined);
      });
      for (const tid of ['x'.repeat(500), 'Upper', '../default', '']) {
        const forged = await new SignJWT({ tid, gen: 0 })
          .setProtectedHeader({ alg: 'HS256' })
          .setSubject(claims.conversationId)
          .setExpirationTime('1h')
          .sign(new TextEncoder().encode(SECRET));
        expect((await refusal(watched.verify(forged, undefined))).code).toBe(
          ErrorCode.TOKEN_INVALID,
        );
      }
      expect(asked).toEqual([]);
    });
  });

  it('refuses something that is not a JWT with TOKEN_INVALID', async () => {
    const error = await refusal(tokens.verify('not-a-token', undefined));
    expect(error.code).toBe(ErrorCode.TOKEN_INVALID);
  });

  it('refuses a JWT of the right secret meant for another audience', async () => {
    const key = new TextEncoder().encode(SECRET);
    const foreign = await new SignJWT({ tid: 'default' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(claims.conversationId)
      .setIssuer('topicdesk')
      .setAudience('topicdesk:admin')
      .setExpirationTime('1h')
      .sign(key);
    const error = await refusal(tokens.verify(foreign, undefined));
    expect(error.code).toBe(ErrorCode.TOKEN_INVALID);
  });

  it('refuses a JWT that names no tenant', async () => {
    const key = new TextEncoder().encode(SECRET);
    const tenantless = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(claims.conversationId)
      .setIssuer('topicdesk')
      .setAudience('topicdesk:conversation')
      .setExpirationTime('1h')
      .sign(key);
    const error = await refusal(tokens.verify(tenantless, undefined));
    expect(error.code).toBe(ErrorCode.TOKEN_INVALID);
  });

  it.each([undefined, ''])('refuses a missing token (%j) with TOKEN_MISSING', async (token) => {
    const error = await refusal(tokens.verify(token, undefined));
    expect(error.code).toBe(ErrorCode.TOKEN_MISSING);
    expect(error.statusCode).toBe(401);
  });

  describe('with IP binding on', () => {
    const bound = new ConversationTokens(SECRET, HOUR, DAY, true);

    it('accepts the token from the address it was issued to', async () => {
      const issued = await bound.issue(claims, '203.0.113.7');
      await expect(bound.verify(issued.token, '203.0.113.7')).resolves.toMatchObject(claims);
    });

    it('refuses the token from another address with TOKEN_INVALID', async () => {
      const issued = await bound.issue(claims, '203.0.113.7');
      const error = await refusal(bound.verify(issued.token, '198.51.100.1'));
      expect(error.code).toBe(ErrorCode.TOKEN_INVALID);
    });

    it('refuses the token when the request has no address', async () => {
      const issued = await bound.issue(claims, '203.0.113.7');
      const error = await refusal(bound.verify(issued.token, undefined));
      expect(error.code).toBe(ErrorCode.TOKEN_INVALID);
    });

    it('accepts a token issued while binding was off (it carries no address)', async () => {
      const issued = await tokens.issue(claims, '203.0.113.7');
      await expect(bound.verify(issued.token, '198.51.100.1')).resolves.toMatchObject(claims);
    });
  });

  describe('with IP binding off', () => {
    it('accepts the token from any address', async () => {
      const issued = await tokens.issue(claims, '203.0.113.7');
      await expect(tokens.verify(issued.token, '2001:db8::1')).resolves.toMatchObject(claims);
      await expect(tokens.verify(issued.token, undefined)).resolves.toMatchObject(claims);
    });

    it('ignores the address a token was bound to elsewhere', async () => {
      const bound = new ConversationTokens(SECRET, HOUR, DAY, true);
      const issued = await bound.issue(claims, '203.0.113.7');
      await expect(tokens.verify(issued.token, '198.51.100.1')).resolves.toMatchObject(claims);
    });
  });
});

describe('tokenFrom', () => {
  it('reads the token from Authorization: Bearer', () => {
    expect(tokenFrom('Bearer abc.def.ghi', {})).toBe('abc.def.ghi');
  });

  it('reads the scheme case-insensitively', () => {
    expect(tokenFrom('bearer abc', undefined)).toBe('abc');
  });

  it('prefers the header over ?token=', () => {
    expect(tokenFrom('Bearer from-header', { token: 'from-query' })).toBe('from-header');
  });

  it('falls back to ?token= when there is no header', () => {
    expect(tokenFrom(undefined, { token: 'from-query' })).toBe('from-query');
  });

  it('falls back to ?token= when the header is not a Bearer token', () => {
    expect(tokenFrom('Basic dXNlcjpwYXNz', { token: 'from-query' })).toBe('from-query');
    expect(tokenFrom('Bearer', { token: 'from-query' })).toBe('from-query');
  });

  it('finds nothing in an empty, repeated or missing query token', () => {
    expect(tokenFrom(undefined, { token: '' })).toBeUndefined();
    expect(tokenFrom(undefined, { token: ['a', 'b'] })).toBeUndefined();
    expect(tokenFrom(undefined, {})).toBeUndefined();
    expect(tokenFrom(undefined, undefined)).toBeUndefined();
    expect(tokenFrom(undefined, 'token=abc')).toBeUndefined();
  });
});

describe('restToken', () => {
  it('reads the token from Authorization: Bearer', () => {
    expect(restToken('Bearer abc.def.ghi', {})).toBe('abc.def.ghi');
    expect(restToken(undefined, {})).toBeUndefined();
  });

  it('refuses ?token= on REST with INVALID_REQUEST that says where the token goes, with or without a header', () => {
    for (const [header, query] of [
      [undefined, { token: 'from-query' }],
      ['Bearer from-header', { token: 'from-query' }],
      [undefined, { token: '' }],
    ] as const) {
      let thrown: unknown;
      try {
        restToken(header, query);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(GatewayError);
      expect((thrown as GatewayError).code).toBe(ErrorCode.INVALID_REQUEST);
      expect((thrown as GatewayError).message).toContain('Authorization: Bearer');
    }
  });
});

describe('authorizeConversation', () => {
  it("makes the request's logger name the token's tenant once the token is verified", async () => {
    const tokens = new ConversationTokens(SECRET, HOUR, 7 * DAY, false, undefined, (tenantId) =>
      Promise.resolve(tenantId === 'acme' ? 'acme-secret-of-at-least-thirty-two-chars' : undefined),
    );
    const issued = await tokens.issue({ ...claims, tenantId: 'acme' }, undefined);
    const bindings: unknown[] = [];
    const child = { child: () => child } as unknown as FastifyBaseLogger;
    const log = {
      child: (b: unknown) => (bindings.push(b), child),
    } as unknown as FastifyBaseLogger;
    const request = {
      headers: { authorization: `Bearer ${issued.token}` },
      query: {},
      ip: '203.0.113.7',
      log,
    };
    const conversations = {
      find: (tenantId: string, id: string) =>
        Promise.resolve({ id, tenant_id: tenantId, token_generation: 3, erased_at: null }),
    } as unknown as ConversationService;
    const { conversation } = await authorizeConversation(
      tokens,
      conversations,
      request,
      claims.conversationId,
    );
    expect(conversation).toMatchObject({ tenant_id: 'acme' });
    expect(bindings).toEqual([{ tenantId: 'acme' }]);
    expect(request.log).toBe(child);
  });
});
