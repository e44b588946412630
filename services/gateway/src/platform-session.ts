import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { consoleOrigin, CSRF_HEADER, secureCookies } from './admin-access';
import { instant, shape } from './answer-components';
import { ErrorCode, GatewayError } from './errors';
import { parse } from './validation';

/**
 * The console's platform view signs in with PLATFORM_TOKEN once and then holds an httpOnly
 * cookie, never the token: a script in the page (an XSS) can neither read the cookie nor the
 * token, and the cookie is sent to the platform API only (Path=/v1/platform, SameSite=Strict).
 * The cookie is stateless: its expiry and an HMAC keyed by the token, so it needs no table, and
 * changing PLATFORM_TOKEN ends every platform session at once. Changes also need the CSRF token
 * (an HMAC of the cookie) and the console's Origin, as the console's own sessions do.
 */
export const PLATFORM_COOKIE = 'topicdesk_platform';
export const PLATFORM_COOKIE_PATH = '/v1/platform';
/** A platform session lasts this long; signing in again starts a new one. */
export const PLATFORM_SESSION_MS = 3_600_000;

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function same(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** The key of the cookie's HMAC: derived from the token (the token itself is never the key). */
const keyOf = (platformToken: string) =>
  createHash('sha256').update(`topicdesk platform session\n${platformToken}`).digest();

const mac = (platformToken: string, text: string) =>
  createHmac('sha256', keyOf(platformToken)).update(text).digest('base64url');

/** A cookie value valid until `expiresAt`: `<ms>.<hmac>`. */
export function platformCookie(platformToken: string, expiresAt: number): string {
  return `${expiresAt}.${mac(platformToken, `session:${expiresAt}`)}`;
}

/** The expiry of a valid, unexpired cookie; undefined otherwise. */
export function platformCookieExpiry(
  platformToken: string,
  value: string,
  now = Date.now(),
): number | undefined {
  const match = /^(\d{13,16})\.([A-Za-z0-9_-]{43})$/.exec(value);
  if (!match) return undefined;
  const expiresAt = Number(match[1]);
  if (!same(value, platformCookie(platformToken, expiresAt))) return undefined;
  return expiresAt > now ? expiresAt : undefined;
}

/** The CSRF token of a platform cookie (sent back as X-CSRF-Token with every change). */
export function platformCsrf(platformToken: string, cookieValue: string): string {
  return mac(platformToken, `csrf:${cookieValue}`);
}

/**
 * The platform API's check of a request without a bearer token: a valid platform cookie and, on
 * a change, the console's Origin and the cookie's CSRF token. Returns the cookie's expiry.
 */
export function checkPlatformCookie(
  request: FastifyRequest,
  platformToken: string,
  consoleUrl: string | undefined,
): number {
  const value = request.cookies[PLATFORM_COOKIE];
  if (value === undefined)
    throw new GatewayError(ErrorCode.TOKEN_MISSING, 'the platform token is required');
  const expiresAt = platformCookieExpiry(platformToken, value);
  if (expiresAt === undefined)
    throw new GatewayError(
      ErrorCode.SESSION_INVALID,
      'the platform session ended; sign in with the platform token again',
    );
  if (!SAFE_METHODS.has(request.method)) {
    if (request.headers.origin !== consoleOrigin(request, consoleUrl))
      throw new GatewayError(ErrorCode.CSRF_FAILED, 'changes come from the console only');
    const token = request.headers[CSRF_HEADER];
    if (typeof token !== 'string' || !same(token, platformCsrf(platformToken, value)))
      throw new GatewayError(
        ErrorCode.CSRF_FAILED,
        'send the X-CSRF-Token of GET /v1/platform/session',
      );
  }
  return expiresAt;
}

export const platformSessionAnswer = shape(
  'PlatformSession',
  z.strictObject({
    /** When the session ends (null: a bearer token, not a session). */
    expiresAt: instant.nullable(),
    /** For X-CSRF-Token on changes (null: a bearer token needs none). */
    csrfToken: z.string().nullable(),
  }),
);
const signedOutAnswer = z.strictObject({ signedOut: z.literal(true) });

/** The platform session as GET /v1/platform/session answers it. */
export function platformSessionView(request: FastifyRequest, platformToken: string) {
  const value = request.cookies[PLATFORM_COOKIE];
  const expiresAt = value === undefined ? undefined : platformCookieExpiry(platformToken, value);
  return value === undefined || expiresAt === undefined
    ? { expiresAt: null, csrfToken: null }
    : {
        expiresAt: new Date(expiresAt).toISOString(),
        csrfToken: platformCsrf(platformToken, value),
      };
}

const signInBody = z.strictObject({ token: z.string().min(1).max(512) });

export interface PlatformSignInOptions {
  platformToken: string | undefined;
  consoleUrl: string | undefined;
  onRefused?: (code: string) => void;
}

/** Sign-in and sign-out of the console's platform view (outside the platform API's token check). */
export const platformSignInRoutes: FastifyPluginAsync<PlatformSignInOptions> = async (
  app,
  options,
) => {
  const { platformToken, consoleUrl } = options;
  const cookieOptions = (request: FastifyRequest) => {
    const secure = secureCookies(request, consoleUrl);
    return { httpOnly: true, secure, sameSite: 'strict' as const, path: PLATFORM_COOKIE_PATH };
  };
  const fromConsole = (request: FastifyRequest) => {
    const origin = request.headers.origin;
    if (origin !== undefined && origin !== consoleOrigin(request, consoleUrl))
      throw new GatewayError(ErrorCode.CSRF_FAILED, 'sign in from the console itself');
  };

  app.post(
    '/console/sign-in/platform',
    {
      config: {
        doc: {
          summary: "Opens the console's platform view: the platform token for a session cookie",
          description:
            'The cookie (httpOnly, Path=/v1/platform, SameSite=Strict, one hour) stands for the token at the platform API; changes also need the answer’s csrfToken as X-CSRF-Token. PLATFORM_DISABLED, TOKEN_INVALID.',
          tag: 'platform',
          auth: 'none',
          body: signInBody,
          responses: { 200: 'the session: its end and csrfToken' },
          answers: { 200: platformSessionAnswer },
        },
      },
    },
    async (request, reply) => {
      try {
        fromConsole(request);
        if (!platformToken)
          throw new GatewayError(
            ErrorCode.PLATFORM_DISABLED,
            'PLATFORM_TOKEN is not set: this deployment has no platform API',
          );
        const { token } = parse(signInBody, request.body ?? {});
        if (!same(token, platformToken))
          throw new GatewayError(ErrorCode.TOKEN_INVALID, 'wrong platform token');
        const expiresAt = Date.now() + PLATFORM_SESSION_MS;
        const value = platformCookie(platformToken, expiresAt);
        void reply
          .setCookie(PLATFORM_COOKIE, value, {
            ...cookieOptions(request),
            maxAge: Math.floor(PLATFORM_SESSION_MS / 1000),
          })
          .header('cache-control', 'no-store');
        return {
          expiresAt: new Date(expiresAt).toISOString(),
          csrfToken: platformCsrf(platformToken, value),
        };
      } catch (error) {
        if (error instanceof GatewayError) options.onRefused?.(error.code);
        throw error;
      }
    },
  );

  app.post(
    '/console/sign-out/platform',
    {
      config: {
        doc: {
          summary: "Ends the console's platform view in this browser (clears its cookie)",
          tag: 'platform',
          auth: 'none',
          answers: { 200: signedOutAnswer },
        },
      },
    },
    async (request, reply: FastifyReply) => {
      fromConsole(request);
      void reply.clearCookie(PLATFORM_COOKIE, cookieOptions(request));
      return { signedOut: true as const };
    },
  );
};
