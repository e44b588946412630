import { createHmac, timingSafeEqual } from 'node:crypto';
import {
  agentActorId,
  DEFAULT_TENANT_ID,
  may,
  type ConsoleAccess,
  type Permission,
  type Principal,
} from '@topicdesk/core';
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import { ErrorCode, GatewayError } from './errors';
import type { RouteDoc } from './openapi';
import { bearerToken } from './tokens';

/** The session cookie: `__Host-` (Secure, Path=/, no Domain) wherever the console is https. */
export const SESSION_COOKIE = 'topicdesk_session';
export const SECURE_SESSION_COOKIE = `__Host-${SESSION_COOKIE}`;
export const CSRF_HEADER = 'x-csrf-token';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function same(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** Routes that only a principal may call: each declares the permission it needs. */
export function isAdminRoute(url: string): boolean {
  return (
    url === '/v1/admin' ||
    url.startsWith('/v1/admin/') ||
    url.startsWith('/v1/admin?') ||
    url === '/v1/console' ||
    url.startsWith('/v1/console/') ||
    url.startsWith('/v1/console?')
  );
}

/**
 * The session's CSRF token: an HMAC of its cookie secret, so it needs no storage, changes with
 * every session, and cannot be made without the httpOnly cookie a page's script never sees.
 */
export function csrfToken(secret: string): string {
  return createHmac('sha256', secret).update('topicdesk csrf').digest('base64url');
}

/** Whether cookies are Secure: the console's configured URL, else the request, is https. */
export function secureCookies(request: FastifyRequest, consoleUrl: string | undefined): boolean {
  return consoleUrl ? consoleUrl.startsWith('https:') : request.protocol === 'https';
}

/** The only Origin a cookie-authenticated change may come from. */
export function consoleOrigin(request: FastifyRequest, consoleUrl: string | undefined): string {
  return consoleUrl ? new URL(consoleUrl).origin : `${request.protocol}://${request.host}`;
}

/** The session cookie's secret, if the request carries one. */
export function sessionSecret(request: FastifyRequest): string | undefined {
  const cookies = request.cookies;
  return cookies[SECURE_SESSION_COOKIE] ?? cookies[SESSION_COOKIE] ?? undefined;
}

/** The principal the access hook set (admin routes only). */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new Error(`${request.url}: no principal (route without access)`);
  return request.principal;
}

export interface AdminAccessOptions {
  /** The default tenant's bearer token of automation (an owner); unset: none by env. */
  serviceToken: string | undefined;
  /** The tenant whose bundle's `serviceToken` is this bearer token (any status), if any. */
  tenantOfToken: (token: string) => Promise<{ id: string } | undefined>;
  /** Throws TENANT_INACTIVE unless the tenant is active. */
  served: (tenantId: string) => Promise<void>;
  access: ConsoleAccess;
  consoleUrl: string | undefined;
  /** Counts refusals by code (topicdesk_admin_access_refused_total). */
  onRefused?: (code: string) => void;
}

/**
 * The one check of every admin route, installed on the gateway before any route: a route under
 * /v1/admin or /v1/console that declares no permission cannot even be registered, and each
 * request to one is authenticated (a service token — SERVICE_TOKEN for the default tenant, or
 * the serviceToken of a tenant's bundle — or a session cookie with, on a change, its CSRF token
 * and the console's Origin) and checked against the role table; a refusal for the role is
 * audited. The principal carries the tenant of its token or session (an inactive one is
 * TENANT_INACTIVE): every admin route reads and changes that tenant only.
 */
export function installAdminAccess(app: FastifyInstance, options: AdminAccessOptions): void {
  const { access, serviceToken, consoleUrl } = options;
  app.decorateRequest('principal', null);

  app.addHook('onRoute', (route: RouteOptions) => {
    const url = route.url;
    if (isAdminRoute(url) && route.config?.permission === undefined)
      throw new Error(`${String(route.method)} ${url}: an admin route must declare its permission`);
  });

  /** A bearer token: the env SERVICE_TOKEN (the default tenant), else a tenant's bundle's. */
  const tokenTenant = async (bearer: string): Promise<string> => {
    if (serviceToken && same(bearer, serviceToken)) return DEFAULT_TENANT_ID;
    const tenant = await options.tenantOfToken(bearer);
    if (tenant) return tenant.id;
    throw new GatewayError(ErrorCode.TOKEN_INVALID, 'wrong service token');
  };

  const authenticate = async (request: FastifyRequest): Promise<Principal> => {
    const bearer = bearerToken(request.headers.authorization);
    if (bearer !== undefined) {
      const tenantId = await tokenTenant(bearer);
      await options.served(tenantId);
      return { kind: 'service', role: 'owner', actorId: 'service-token', tenantId };
    }
    const secret = sessionSecret(request);
    if (secret === undefined)
      throw new GatewayError(
        ErrorCode.TOKEN_MISSING,
        'the service token or a console session is required',
      );
    const found = await access.authenticateAnyTenant(secret);
    if (!found)
      throw new GatewayError(
        ErrorCode.SESSION_INVALID,
        'the console session ended; send /console to the bot for a new link',
      );
    if (!SAFE_METHODS.has(request.method)) {
      // A page elsewhere can make the browser send the cookie, never read the token.
      const origin = request.headers.origin;
      if (origin !== consoleOrigin(request, consoleUrl))
        throw new GatewayError(ErrorCode.CSRF_FAILED, 'changes come from the console only');
      const token = request.headers[CSRF_HEADER];
      if (typeof token !== 'string' || !same(token, csrfToken(secret)))
        throw new GatewayError(
          ErrorCode.CSRF_FAILED,
          'send the X-CSRF-Token of GET /v1/console/session',
        );
    }
    const { tenantId, session } = found;
    await options.served(tenantId);
    return {
      kind: 'session',
      role: session.role,
      tenantId,
      actorId: agentActorId(session.agent.telegramUserId),
      session,
    };
  };

  app.addHook('onRequest', async (request) => {
    const permission = request.routeOptions.config.permission;
    if (permission === undefined) return;
    try {
      request.principal = await authorize(request, permission);
    } catch (error) {
      if (error instanceof GatewayError) options.onRefused?.(error.code);
      throw error;
    }
  });

  const authorize = async (request: FastifyRequest, permission: Permission) => {
    const principal = await authenticate(request);
    if (!may(principal.role, permission)) {
      await access.recordDenial(principal.tenantId, principal.actorId, {
        method: request.method,
        route: request.routeOptions.url ?? request.url,
        permission,
        role: principal.role,
      });
      throw new GatewayError(
        ErrorCode.FORBIDDEN_ROLE,
        `the ${principal.role} role may not do this (${permission})`,
        { permission, role: principal.role },
      );
    }
    return principal;
  };
}

/** An admin route's config: the permission the access hook checks, and its /openapi.json entry. */
export function adminRoute(
  permission: Permission,
  summary: string,
  schemas: Pick<RouteDoc, 'params' | 'query' | 'body' | 'responses' | 'answers'> = {},
) {
  return {
    config: {
      permission,
      doc: { summary, tag: 'admin' as const, auth: 'admin' as const, ...schemas },
    },
  };
}
