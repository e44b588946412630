import { createHash } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { decodeJwt, errors, jwtVerify, SignJWT } from 'jose';
import {
  DEFAULT_TENANT_ID,
  TENANT_ID_PATTERN,
  type Conversation,
  type ConversationService,
} from '@topicdesk/core';
import type { IssuedToken } from '@topicdesk/protocol';
import { ErrorCode, GatewayError } from './errors';

/** What a conversation token grants, as issued. */
export interface TokenGrant {
  conversationId: string;
  tenantId: string;
  /**
   * The conversation's token generation the token was issued for: a refresh moves the
   * conversation on, which retires every token of an older generation (0 for tokens issued
   * before generations existed, and for a new conversation).
   */
  generation: number;
}

export interface ConversationClaims extends TokenGrant {
  /** When the token expires, in ms since the epoch: an open socket is closed then. */
  expiresAt: number;
}

const ISSUER = 'topicdesk';
const AUDIENCE = 'topicdesk:conversation';

/**
 * How long the token a refresh replaced may be refreshed again, getting the current generation
 * (never a newer one): two tabs refreshing at the same moment, or a refresh whose answer was lost
 * on the way, would otherwise lose the conversation.
 */
export const REPLACED_TOKEN_REFRESH_WINDOW_MS = 60_000;

/**
 * A tenant's token secret: the `jwtSecret` of its bundle (undefined when the bundle has none, or
 * there is no such tenant). The default tenant's is the environment's, never asked for here.
 */
export type TenantTokenSecret = (tenantId: string) => Promise<string | undefined>;

/**
 * Short-lived HS256 tokens that grant access to one conversation only, each signed with the
 * secret of the conversation's tenant: a token of one tenant is worthless to another even if one
 * secret leaked. The default tenant signs with CONVERSATION_JWT_SECRET.
 */
export class ConversationTokens {
  readonly #defaultKey: Uint8Array;

  constructor(
    defaultSecret: string,
    private readonly ttlMs: number,
    private readonly refreshGraceMs: number,
    private readonly bindIp: boolean,
    /**
     * Checks the token's tenant may be served (throws TENANT_INACTIVE for a suspended or
     * deleted one); every verified token passes through it, REST and WebSocket alike.
     */
    private readonly tenantServed?: (tenantId: string) => Promise<void>,
    /** The other tenants' secrets; without it, only the default tenant has tokens. */
    private readonly tenantSecret?: TenantTokenSecret,
  ) {
    this.#defaultKey = new TextEncoder().encode(defaultSecret);
  }

  /** The tenant's signing key, or undefined when it has no secret (not configured). */
  async #keyOf(tenantId: string): Promise<Uint8Array | undefined> {
    if (tenantId === DEFAULT_TENANT_ID) return this.#defaultKey;
    const secret = await this.tenantSecret?.(tenantId);
    return secret ? new TextEncoder().encode(secret) : undefined;
  }

  /** Whether tokens of the tenant can be signed (the default tenant's always can). */
  async canIssue(tenantId: string): Promise<boolean> {
    return (await this.#keyOf(tenantId)) !== undefined;
  }

  /**
   * Throws TENANT_NOT_CONFIGURED when the grant's tenant has no `jwtSecret` in its bundle: no
   * token is signed with another tenant's (or the environment's) secret.
   */
  async issue(grant: TokenGrant, ip: string | undefined): Promise<IssuedToken> {
    const key = await this.#keyOf(grant.tenantId);
    if (!key)
      throw new GatewayError(
        ErrorCode.TENANT_NOT_CONFIGURED,
        'this site has no conversation secret yet (its jwtSecret)',
      );
    const expires = new Date(Date.now() + this.ttlMs);
    const jwt = new SignJWT({
      tid: grant.tenantId,
      gen: grant.generation,
      ...(this.bindIp && ip ? { iph: ipHash(ip) } : {}),
    })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(grant.conversationId)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(Math.floor(expires.getTime() / 1000));
    return {
      token: await jwt.sign(key),
      expiresAt: new Date(Math.floor(expires.getTime() / 1000) * 1000).toISOString(),
    };
  }

  /**
   * Verifies a token's signature, audience and expiry (a token without `exp` is refused: it
   * would never expire); with `allowExpired`, one expired less than the refresh grace ago
   * passes. Whether its generation is still current is the caller's check, against the row.
   */
  async verify(
    token: string | undefined,
    ip: string | undefined,
    options: { allowExpired?: boolean } = {},
  ): Promise<ConversationClaims> {
    const claims = await this.#claims(token, ip, options);
    await this.tenantServed?.(claims.tenantId);
    return claims;
  }

  async #claims(
    token: string | undefined,
    ip: string | undefined,
    options: { allowExpired?: boolean },
  ): Promise<ConversationClaims> {
    if (!token) throw new GatewayError(ErrorCode.TOKEN_MISSING, 'a conversation token is required');
    // The tenant named by the unverified token picks the key; a token claiming another tenant
    // than the one that signed it fails the signature check with that tenant's key. (A failure to
    // read the tenant is no verdict on the token: it propagates, as 503.)
    const key = await this.#keyOf(unverifiedTenant(token));
    if (!key) throw new GatewayError(ErrorCode.TOKEN_INVALID, 'the token is not valid');
    try {
      const { payload } = await jwtVerify(token, key, {
        algorithms: ['HS256'],
        issuer: ISSUER,
        audience: AUDIENCE,
        requiredClaims: ['exp'],
        clockTolerance: options.allowExpired ? Math.floor(this.refreshGraceMs / 1000) : 0,
      });
      const generation = payload['gen'] ?? 0;
      if (
        typeof payload.sub !== 'string' ||
        typeof payload['tid'] !== 'string' ||
        typeof payload.exp !== 'number' ||
        typeof generation !== 'number' ||
        !Number.isSafeInteger(generation) ||
        generation < 0
      ) {
        throw new GatewayError(ErrorCode.TOKEN_INVALID, 'the token names no conversation');
      }
      if (this.bindIp && payload['iph'] !== undefined && (!ip || payload['iph'] !== ipHash(ip))) {
        throw new GatewayError(
          ErrorCode.TOKEN_INVALID,
          'the token belongs to another network address',
        );
      }
      return {
        conversationId: payload.sub,
        tenantId: payload['tid'],
        generation,
        expiresAt: payload.exp * 1000,
      };
    } catch (error) {
      if (error instanceof GatewayError) throw error;
      if (error instanceof errors.JWTExpired)
        throw new GatewayError(ErrorCode.TOKEN_EXPIRED, 'the token has expired');
      if (error instanceof errors.JWTClaimValidationFailed && error.claim === 'exp')
        throw new GatewayError(ErrorCode.TOKEN_INVALID, 'the token has no expiry');
      throw new GatewayError(ErrorCode.TOKEN_INVALID, 'the token is not valid');
    }
  }
}

/** The `tid` claim of a token not verified yet (TOKEN_INVALID when it has none). */
function unverifiedTenant(token: string): string {
  let claimed: unknown;
  try {
    claimed = decodeJwt(token)['tid'];
  } catch {
    throw new GatewayError(ErrorCode.TOKEN_INVALID, 'the token is not valid');
  }
  if (typeof claimed !== 'string')
    throw new GatewayError(ErrorCode.TOKEN_INVALID, 'the token names no conversation');
  // Only what a tenant id can be is looked up (platform.routes.ts gives ids this form).
  if (!TENANT_ID_PATTERN.test(claimed))
    throw new GatewayError(ErrorCode.TOKEN_INVALID, 'the token is not valid');
  return claimed;
}

function ipHash(ip: string): string {
  return createHash('sha256').update(ip).digest('base64url').slice(0, 16);
}

/** The token of `Authorization: Bearer …`. */
export function bearerToken(authorization: string | undefined): string | undefined {
  const match = authorization ? /^Bearer\s+(\S+)$/i.exec(authorization) : null;
  return match?.[1];
}

/**
 * The WebSocket's token: from `Authorization: Bearer …`, else from `?token=` (a browser cannot
 * set headers on a WebSocket). REST routes take the header only (`restToken`).
 */
export function tokenFrom(authorization: string | undefined, query: unknown): string | undefined {
  const bearer = bearerToken(authorization);
  if (bearer) return bearer;
  if (
    query &&
    typeof query === 'object' &&
    'token' in query &&
    typeof query.token === 'string' &&
    query.token
  )
    return query.token;
  return undefined;
}

/**
 * A REST request's token, from the header only. A token in the URL ends up in access logs,
 * proxies and browser histories; refused outright rather than ignored, so a client that sends
 * it learns why instead of reading TOKEN_MISSING.
 */
export function restToken(authorization: string | undefined, query: unknown): string | undefined {
  if (query && typeof query === 'object' && 'token' in query) {
    throw new GatewayError(
      ErrorCode.INVALID_REQUEST,
      'send the token in Authorization: Bearer; ?token= is for GET /v1/ws only',
    );
  }
  return bearerToken(authorization);
}

/** A conversation's row and the claims of the token that grants it. */
export interface AuthorizedConversation {
  claims: ConversationClaims;
  conversation: Conversation;
}

/** The token of an erased conversation is refused for good (its data is gone). */
function assertNotErased(conversation: Conversation): void {
  if (conversation.erased_at)
    throw new GatewayError(
      ErrorCode.CONVERSATION_ERASED,
      "the data of this conversation was erased at the visitor's request",
    );
}

/**
 * Throws CONVERSATION_ERASED for an erased conversation, TOKEN_RETIRED unless the token is of
 * the conversation's current generation.
 */
export function assertCurrentToken(claims: ConversationClaims, conversation: Conversation): void {
  assertNotErased(conversation);
  if (claims.generation !== conversation.token_generation) {
    throw new GatewayError(
      ErrorCode.TOKEN_RETIRED,
      'a refresh replaced this token; use the newer one',
    );
  }
}

/**
 * The conversation `id` a REST request's token grants: the token is in the header, valid, for
 * this conversation (else FORBIDDEN), the conversation exists (else NOT_FOUND), and, unless
 * `refresh` (whose generation check is the rotation itself), of its current generation.
 */
export async function authorizeConversation(
  tokens: ConversationTokens,
  conversations: ConversationService,
  request: {
    headers: { authorization?: string | undefined };
    query: unknown;
    ip: string;
    log: FastifyBaseLogger;
  },
  id: string,
  options: { refresh?: boolean } = {},
): Promise<AuthorizedConversation> {
  const claims = await tokens.verify(
    restToken(request.headers.authorization, request.query),
    request.ip,
    { allowExpired: options.refresh === true },
  );
  if (claims.conversationId !== id) {
    throw new GatewayError(ErrorCode.FORBIDDEN, 'the token is for another conversation');
  }
  // From here on, what the request logs names the token's tenant.
  request.log = request.log.child({ tenantId: claims.tenantId });
  const conversation = await conversations.find(claims.tenantId, id);
  if (!conversation) throw new GatewayError(ErrorCode.NOT_FOUND, 'no such conversation');
  assertNotErased(conversation);
  if (options.refresh !== true) assertCurrentToken(claims, conversation);
  return { claims, conversation };
}
