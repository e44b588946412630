import { createHash } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import { ErrorCode, GatewayError } from './errors';

export interface ConversationClaims {
  conversationId: string;
  tenantId: string;
}

export interface IssuedToken {
  token: string;
  expiresAt: string;
}

const ISSUER = 'topicdesk';
const AUDIENCE = 'topicdesk:conversation';

/** Short-lived HS256 tokens that grant access to one conversation only. */
export class ConversationTokens {
  readonly #key: Uint8Array;

  constructor(
    secret: string,
    private readonly ttlMs: number,
    private readonly refreshGraceMs: number,
    private readonly bindIp: boolean,
  ) {
    this.#key = new TextEncoder().encode(secret);
  }

  async issue(claims: ConversationClaims, ip: string | undefined): Promise<IssuedToken> {
    const expires = new Date(Date.now() + this.ttlMs);
    const jwt = new SignJWT({
      tid: claims.tenantId,
      ...(this.bindIp && ip ? { iph: ipHash(ip) } : {}),
    })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(claims.conversationId)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(Math.floor(expires.getTime() / 1000));
    return {
      token: await jwt.sign(this.#key),
      expiresAt: new Date(Math.floor(expires.getTime() / 1000) * 1000).toISOString(),
    };
  }

  /** Verifies a token; with `allowExpired`, one expired less than the refresh grace ago passes. */
  async verify(
    token: string | undefined,
    ip: string | undefined,
    options: { allowExpired?: boolean } = {},
  ): Promise<ConversationClaims> {
    if (!token) throw new GatewayError(ErrorCode.TOKEN_MISSING, 'a conversation token is required');
    try {
      const { payload } = await jwtVerify(token, this.#key, {
        algorithms: ['HS256'],
        issuer: ISSUER,
        audience: AUDIENCE,
        clockTolerance: options.allowExpired ? Math.floor(this.refreshGraceMs / 1000) : 0,
      });
      if (typeof payload.sub !== 'string' || typeof payload['tid'] !== 'string') {
        throw new GatewayError(ErrorCode.TOKEN_INVALID, 'the token names no conversation');
      }
      if (this.bindIp && payload['iph'] !== undefined && (!ip || payload['iph'] !== ipHash(ip))) {
        throw new GatewayError(
          ErrorCode.TOKEN_INVALID,
          'the token belongs to another network address',
        );
      }
      return { conversationId: payload.sub, tenantId: payload['tid'] };
    } catch (error) {
      if (error instanceof GatewayError) throw error;
      if (error instanceof errors.JWTExpired)
        throw new GatewayError(ErrorCode.TOKEN_EXPIRED, 'the token has expired');
      throw new GatewayError(ErrorCode.TOKEN_INVALID, 'the token is not valid');
    }
  }
}

function ipHash(ip: string): string {
  return createHash('sha256').update(ip).digest('base64url').slice(0, 16);
}

/** The token from `Authorization: Bearer …`, else from `?token=`. */
export function tokenFrom(authorization: string | undefined, query: unknown): string | undefined {
  const match = authorization ? /^Bearer\s+(\S+)$/i.exec(authorization) : null;
  if (match) return match[1];
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

/** The claims of a request's token, which must be for conversation `id` (else FORBIDDEN). */
export async function claimsForConversation(
  tokens: ConversationTokens,
  request: { headers: { authorization?: string | undefined }; query: unknown; ip: string },
  id: string,
  options: { allowExpired?: boolean } = {},
): Promise<ConversationClaims> {
  const claims = await tokens.verify(
    tokenFrom(request.headers.authorization, request.query),
    request.ip,
    options,
  );
  if (claims.conversationId !== id) {
    throw new GatewayError(ErrorCode.FORBIDDEN, 'the token is for another conversation');
  }
  return claims;
}
