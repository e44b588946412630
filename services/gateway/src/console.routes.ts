import { randomBytes } from 'node:crypto';
import {
  DEFAULT_TENANT_ID,
  may,
  pageInMemory,
  Permission,
  ROLE_PERMISSIONS,
  SignInRefusedError,
  type ConsoleAccess,
  type ConsoleSessionView,
} from '@topicdesk/core';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import {
  consoleOrigin,
  csrfToken,
  principalOf,
  SECURE_SESSION_COOKIE,
  secureCookies,
  SESSION_COOKIE,
  sessionSecret,
} from './admin-access';
import { ErrorCode, GatewayError } from './errors';
import { settingsPageQuery } from './pagination';
import type { BridgeMiniApp } from './setup-client';
import { parse } from './validation';
import {
  consoleSessionAnswer,
  sessionPageAnswer,
  sessionRevokedAnswer,
  signedInAnswer,
  signedOutAnswer,
} from './answers';

export interface ConsoleRoutesOptions {
  access: ConsoleAccess;
  consoleUrl: string | undefined;
  /** The session cookie's Max-Age: CONSOLE_SESSION_TTL. */
  sessionTtlMs: number;
  /** Verifies a Mini App's initData (the bridge holds the bot token that signs it). */
  miniApp: BridgeMiniApp;
  /** Counts sign-ins: `signed_in` or the refusal's code (topicdesk_console_sign_ins_total). */
  onSignIn?: (outcome: string) => void;
}

/** A sign-in link's token: 32 random bytes, base64url. */
const signInToken = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'the token of a sign-in link');
const signInQuery = z.object({ t: signInToken });
const signInBody = z.object({ token: signInToken });
const miniAppBody = z.object({
  initData: z
    .string()
    .min(1)
    .max(4096)
    .describe('the `tgWebAppData` Telegram handed the console opened as a Mini App, as is'),
});
/** The refusals a bridge may answer a Mini App check with. */
const MINI_APP_REFUSALS = new Set<string>([
  ErrorCode.MINI_APP_DATA_INVALID,
  ErrorCode.MINI_APP_DATA_EXPIRED,
]);
const sessionParams = z.object({ id: z.uuid() });
/** Beyond every Date: keys of newest-first order count down from it. */
const MAX_TIME = 8.64e15;

function sessionView(session: ConsoleSessionView, current: string | undefined) {
  return {
    id: session.id,
    agent: {
      telegramUserId: session.agent.telegramUserId,
      displayName: session.agent.displayName,
    },
    role: session.role,
    userAgent: session.userAgent,
    createdAt: session.createdAt.toISOString(),
    lastSeenAt: session.lastSeenAt.toISOString(),
    expiresAt: session.expiresAt.toISOString(),
    current: session.id === current,
  };
}

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

/**
 * A page of its own under a CSP that allows nothing but its inline style and a form posting
 * back here; never cached, never framed, and it sends no Referer (its URL carries the token).
 */
function page(reply: FastifyReply, status: number, title: string, body: string) {
  const nonce = randomBytes(16).toString('base64');
  return reply
    .status(status)
    .header(
      'content-security-policy',
      `default-src 'none'; style-src 'nonce-${nonce}'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
    )
    .header('referrer-policy', 'same-origin')
    .header('cache-control', 'no-store')
    .header('x-frame-options', 'DENY')
    .type('text/html; charset=utf-8')
    .send(
      `<!doctype html><html lang="en"><head><meta charset="utf-8">` +
        `<meta name="viewport" content="width=device-width, initial-scale=1">` +
        `<meta name="robots" content="noindex"><title>${escapeHtml(title)}</title>` +
        `<style nonce="${nonce}">body{font:16px/1.5 system-ui,sans-serif;max-width:28rem;margin:15vh auto;padding:0 1rem}button{font:inherit;padding:.6rem 1.2rem}</style>` +
        `</head><body><main><h1>${escapeHtml(title)}</h1>${body}</main></body></html>`,
    );
}

/**
 * Console sign-in and sessions. The bot's link opens `GET /console/sign-in?t=…`: a page whose
 * button POSTs the token, so a link preview or a prefetch (a GET) never consumes it. The POST
 * opens a session (cookie `httpOnly; SameSite=Strict; Path=/`, Secure over https) and sends
 * the browser on to the console; a JSON POST answers with the session and its CSRF token.
 */
export const consoleRoutes: FastifyPluginAsync<ConsoleRoutesOptions> = async (app, options) => {
  const { access, consoleUrl } = options;

  // The sign-in page's form (and nothing else here) posts urlencoded.
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 1024 },
    (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    },
  );

  app.get(
    '/console/sign-in',
    {
      config: {
        doc: {
          summary: 'The page a sign-in link opens: a button that POSTs its token',
          tag: 'console',
          auth: 'signed-link',
          query: signInQuery,
          responses: { 200: { description: 'the sign-in page', type: 'text/html' } },
        },
      },
    },
    async (request, reply) => {
      const query = signInQuery.safeParse(request.query);
      if (!query.success)
        return page(
          reply,
          400,
          'This link is not valid',
          '<p>Send <b>/console</b> to the bot for a new link.</p>',
        );
      return page(
        reply,
        200,
        'Sign in to the console',
        `<form method="post" action="sign-in"><input type="hidden" name="token" value="${escapeHtml(query.data.t)}">` +
          `<p>The link works once and for a few minutes.</p><button type="submit">Sign in</button></form>`,
      );
    },
  );

  app.post(
    '/console/sign-in',
    {
      config: {
        doc: {
          summary: 'Consumes a sign-in link and opens a session (sets the session cookie)',
          description:
            'A form post (application/x-www-form-urlencoded, from the sign-in page) is answered with 303 to the console; a JSON post with the session and its CSRF token. SIGN_IN_LINK_INVALID, SIGN_IN_LINK_EXPIRED, SIGN_IN_LINK_USED.',
          tag: 'console',
          auth: 'signed-link',
          body: signInBody,
          responses: {
            200: 'the session and its csrfToken (JSON post)',
            303: 'signed in; on to the console (form post)',
          },
          answers: { 200: signedInAnswer },
        },
      },
    },
    async (request, reply) => {
      const form = request.headers['content-type']?.startsWith('application/x-www-form-urlencoded');
      try {
        // A page elsewhere must not sign a browser into someone else's session.
        const origin = request.headers.origin;
        if (origin !== undefined && origin !== consoleOrigin(request, consoleUrl))
          throw new GatewayError(ErrorCode.CSRF_FAILED, 'sign in from the sign-in page');
        const { token } = parse(signInBody, request.body ?? {});
        const opened = await signIn(token, request);
        options.onSignIn?.('signed_in');
        const answer = openSession(request, reply, opened);
        if (form) return reply.redirect(`${consoleUrl ?? '/console'}/`, 303);
        return answer;
      } catch (error) {
        if (error instanceof GatewayError) options.onSignIn?.(error.code);
        if (!form || !(error instanceof GatewayError)) throw error;
        return page(
          reply,
          error.statusCode,
          'Not signed in',
          `<p>${escapeHtml(error.message)}.</p><p><small>${error.code}</small></p>`,
        );
      }
    },
  );

  app.post(
    '/console/sign-in/mini-app',
    {
      config: {
        doc: {
          summary: 'Opens a session for the console opened as a Telegram Mini App',
          description:
            "The console, opened from the bot's button inside Telegram, posts the initData Telegram handed it. The bridge checks its signature with the bot token and its age (CONSOLE_LINK_TTL); the data works once. MINI_APP_DATA_INVALID, MINI_APP_DATA_EXPIRED, MINI_APP_DATA_USED, MINI_APP_NOT_AGENT, MINI_APP_UNAVAILABLE.",
          tag: 'console',
          auth: 'signed-link',
          body: miniAppBody,
          responses: { 200: 'the session and its csrfToken' },
          answers: { 200: signedInAnswer },
        },
      },
    },
    async (request, reply) => {
      try {
        const origin = request.headers.origin;
        if (origin !== undefined && origin !== consoleOrigin(request, consoleUrl))
          throw new GatewayError(ErrorCode.CSRF_FAILED, 'sign in from the console itself');
        const { initData } = parse(miniAppBody, request.body ?? {});
        const verdict = await options.miniApp.verify(DEFAULT_TENANT_ID, initData);
        if (verdict.error) {
          const code = MINI_APP_REFUSALS.has(verdict.error.code)
            ? (verdict.error.code as ErrorCode)
            : ErrorCode.MINI_APP_DATA_INVALID;
          throw new GatewayError(code, verdict.error.message);
        }
        const opened = await refusalsAsErrors(() =>
          access.signInWithMiniApp(
            DEFAULT_TENANT_ID,
            {
              telegramUserId: Number(verdict.telegramUserId),
              dataHash: verdict.dataHash,
              expiresAt: new Date(Number(verdict.validUntil) * 1000),
            },
            request.headers['user-agent'],
          ),
        );
        options.onSignIn?.('signed_in');
        return openSession(request, reply, opened);
      } catch (error) {
        if (error instanceof GatewayError) options.onSignIn?.(error.code);
        throw error;
      }
    },
  );

  /** Sets the session cookie of a new session; the answer carries its CSRF token. */
  const openSession = (
    request: FastifyRequest,
    reply: FastifyReply,
    { secret, session }: { secret: string; session: ConsoleSessionView },
  ) => {
    const secure = secureCookies(request, consoleUrl);
    void reply.setCookie(secure ? SECURE_SESSION_COOKIE : SESSION_COOKIE, secret, {
      httpOnly: true,
      secure,
      sameSite: 'strict',
      path: '/',
      maxAge: Math.floor(options.sessionTtlMs / 1000),
    });
    void reply.header('cache-control', 'no-store');
    return { session: sessionView(session, session.id), csrfToken: csrfToken(secret) };
  };

  const refusalsAsErrors = async <T>(signIn: () => Promise<T>): Promise<T> => {
    try {
      return await signIn();
    } catch (error) {
      if (error instanceof SignInRefusedError) throw new GatewayError(error.code, error.message);
      throw error;
    }
  };

  const signIn = (token: string, request: FastifyRequest) =>
    refusalsAsErrors(() => access.signInAnyTenant(token, request.headers['user-agent']));

  const ownSession = (request: FastifyRequest) => {
    const principal = principalOf(request);
    if (principal.kind !== 'session')
      throw new GatewayError(ErrorCode.FORBIDDEN, 'this route is for console sessions');
    return principal;
  };

  app.get(
    '/v1/console/session',
    {
      config: {
        permission: Permission.session,
        doc: {
          summary: 'The signed-in agent, their role and permissions, and the CSRF token',
          tag: 'console',
          auth: 'session',
          answers: { 200: consoleSessionAnswer },
        },
      },
    },
    async (request, reply) => {
      const principal = ownSession(request);
      void reply.header('cache-control', 'no-store');
      return {
        session: sessionView(principal.session, principal.session.id),
        permissions: ROLE_PERMISSIONS[principal.role],
        csrfToken: csrfToken(sessionSecret(request) ?? ''),
      };
    },
  );

  app.post(
    '/v1/console/sign-out',
    {
      config: {
        permission: Permission.session,
        doc: {
          summary: 'Ends this session',
          tag: 'console',
          auth: 'session',
          answers: { 200: signedOutAnswer },
        },
      },
    },
    async (request, reply) => {
      const principal = ownSession(request);
      await access.revoke(
        principal.tenantId,
        { actorId: principal.actorId, action: 'console.sign_out' },
        principal.session.id,
      );
      const secure = secureCookies(request, consoleUrl);
      void reply.clearCookie(secure ? SECURE_SESSION_COOKIE : SESSION_COOKIE, {
        httpOnly: true,
        secure,
        sameSite: 'strict',
        path: '/',
      });
      return { signedOut: true };
    },
  );

  app.get(
    '/v1/admin/sessions',
    {
      config: {
        permission: Permission.session,
        doc: {
          summary: "Active console sessions: one's own, or everyone's (sessions.manage)",
          tag: 'admin',
          auth: 'admin',
          query: settingsPageQuery,
          answers: { 200: sessionPageAnswer },
        },
      },
    },
    async (request) => {
      const query = parse(settingsPageQuery, request.query, 'query');
      const principal = principalOf(request);
      const own = principal.kind === 'session' ? principal.session : undefined;
      const everyone = may(principal.role, Permission.sessionsManage);
      const sessions = await access.sessions(
        principal.tenantId,
        everyone ? undefined : own?.agent.id,
      );
      // Newest first: the key is the creation time and the id, both fixed at sign-in.
      const page = pageInMemory(
        'sessions',
        sessions,
        {
          kind: 'string',
          of: (s) => `${(MAX_TIME - s.createdAt.getTime()).toString().padStart(16, '0')}/${s.id}`,
        },
        query,
      );
      return {
        sessions: page.items.map((s) => sessionView(s, own?.id)),
        nextCursor: page.nextCursor,
      };
    },
  );

  app.delete(
    '/v1/admin/sessions/:id',
    {
      config: {
        permission: Permission.session,
        doc: {
          summary: "Revokes a session: one's own, or anyone's (sessions.manage)",
          tag: 'admin',
          auth: 'admin',
          params: sessionParams,
          answers: { 200: sessionRevokedAnswer },
        },
      },
    },
    async (request) => {
      const { id } = parse(sessionParams, request.params, 'path');
      const principal = principalOf(request);
      const onlyOwn =
        may(principal.role, Permission.sessionsManage) || principal.kind !== 'session'
          ? undefined
          : principal.session.agent.id;
      const revoked = await access.revoke(
        principal.tenantId,
        { actorId: principal.actorId, action: 'console.session_revoke' },
        id,
        onlyOwn,
      );
      if (!revoked) throw new GatewayError(ErrorCode.NOT_FOUND, 'no such active session');
      return { id, revoked: true };
    },
  );
};
