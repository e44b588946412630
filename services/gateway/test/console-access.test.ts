import { readFileSync } from 'node:fs';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConsoleAccess,
  DEFAULT_TENANT_ID,
  may,
  ROLE_PERMISSIONS,
  ROLES,
  UnitOfWork,
  type Permission,
  type Role,
} from '@topicdesk/core';
import { isAdminRoute } from '../src/admin-access';
import { isApiUrl } from '../src/openapi';
import { adminCaller, startGatewayUnderTest, type GatewayUnderTest } from './gateway-under-test';

const SERVICE_TOKEN = 'console-access-test-service-token';
const ORIGIN = 'https://support.example.test';
const CONSOLE_URL = `${ORIGIN}/console`;
const COOKIE = '__Host-topicdesk_session';

interface Registered {
  method: string;
  url: string;
  permission: Permission | undefined;
  documented: boolean;
}

/** A signed-in browser: its cookie secret and CSRF token. */
interface Browser {
  secret: string;
  csrf: string;
  sessionId: string;
}

describe('console access: roles, sign-in links, sessions, CSRF', () => {
  let gateway: GatewayUnderTest;
  let app: FastifyInstance;
  let links: ConsoleAccess;
  const registered: Registered[] = [];
  let nextUpdate = 1;
  let nextAgent = 81_000;

  beforeAll(async () => {
    gateway = await startGatewayUnderTest({
      namespace: 'gateway-console-test',
      env: { SERVICE_TOKEN, CONSOLE_URL },
      onRoute: (route: RouteOptions) => {
        for (const method of [route.method].flat()) {
          if (method === 'HEAD') continue;
          registered.push({
            method,
            url: route.url,
            permission: route.config?.permission,
            documented: route.config?.doc !== undefined,
          });
        }
      },
    });
    app = gateway.app;
    links = new ConsoleAccess(
      new UnitOfWork(gateway.infra.database.db, { publish: async () => {} }),
    );
  });

  afterAll(async () => {
    await gateway?.close();
  });

  const service = (method: 'GET' | 'PUT' | 'POST' | 'DELETE', url: string, body?: unknown) =>
    adminCaller(app, SERVICE_TOKEN)(method, url, body);

  /** Registers an agent with `role` and hands them a link, as the bot does on /console. */
  const agentWithLink = async (role: Role, ttlMs = 300_000) => {
    const telegramUserId = nextAgent++;
    const saved = await service('PUT', `/v1/admin/agents/${telegramUserId}`, {
      displayName: `Agent ${telegramUserId}`,
      role,
    });
    expect(saved.status).toBe(200);
    const link = await links.issueLink(
      { botId: 'test-bot', updateId: nextUpdate++ },
      DEFAULT_TENANT_ID,
      telegramUserId,
      ttlMs,
    );
    if (link.kind !== 'link') throw new Error(`no link: ${link.kind}`);
    return { telegramUserId, token: link.token };
  };

  const postToken = (token: string, headers: Record<string, string> = {}) =>
    app.inject({
      method: 'POST',
      url: '/console/sign-in',
      headers: { origin: ORIGIN, ...headers },
      payload: { token },
    });

  const signIn = async (role: Role): Promise<Browser & { telegramUserId: number }> => {
    const { telegramUserId, token } = await agentWithLink(role);
    const response = await postToken(token);
    expect(response.statusCode).toBe(200);
    const cookie = response.cookies.find((c) => c.name === COOKIE);
    if (!cookie) throw new Error('no session cookie');
    const body = response.json<{ csrfToken: string; session: { id: string } }>();
    return {
      telegramUserId,
      secret: cookie.value,
      csrf: body.csrfToken,
      sessionId: body.session.id,
    };
  };

  /** A request from the console page: the cookie, and on a change the CSRF token and Origin. */
  const asBrowser = (
    browser: Browser,
    method: 'GET' | 'PUT' | 'POST' | 'DELETE',
    url: string,
    payload?: unknown,
    headers: Record<string, string> = { origin: ORIGIN, 'x-csrf-token': browser.csrf },
  ) =>
    app.inject({
      method,
      url,
      cookies: { [COOKIE]: browser.secret },
      headers: method === 'GET' ? {} : headers,
      ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
    });

  const audit = async (action: string) => {
    const { body } = await service('GET', '/v1/admin/audit?limit=500');
    return (
      body['entries'] as Array<{
        action: string;
        actor: { id: string };
        details: Record<string, unknown>;
      }>
    ).filter((e) => e.action === action);
  };

  it('declares a permission on every admin route and documents every API route, as /openapi.json shows', async () => {
    const admin = registered.filter((r) => isAdminRoute(r.url));
    expect(admin.length).toBeGreaterThan(15);
    expect(admin.filter((r) => r.permission === undefined)).toEqual([]);
    const api = registered.filter((r) => isApiUrl(r.url));
    expect(api.filter((r) => !r.documented)).toEqual([]);

    const response = await app.inject({ method: 'GET', url: '/openapi.json' });
    expect(response.statusCode).toBe(200);
    const document = response.json<{
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
    }>();
    expect(document.openapi).toBe('3.1.0');
    const documented = Object.entries(document.paths)
      .flatMap(([path, operations]) =>
        Object.keys(operations).map(
          (m) => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`,
        ),
      )
      .sort();
    expect(documented).toEqual(api.map((r) => `${r.method} ${r.url}`).sort());
    // The request schemas are the routes' own zod schemas.
    const put = document.paths['/v1/admin/agents/{telegramUserId}']?.['put'] as {
      requestBody: {
        content: { 'application/json': { schema: { properties: Record<string, unknown> } } };
      };
      'x-permission': string;
    };
    expect(put['x-permission']).toBe('agents.manage');
    expect(put.requestBody.content['application/json'].schema.properties['role']).toMatchObject({
      enum: [...ROLES],
    });
  });

  it('documents the access table exactly as it is (docs/console.md)', () => {
    const doc = readFileSync(new URL('../../../docs/console.md', import.meta.url), 'utf8');
    const table = doc.slice(doc.indexOf('<!-- roles-table'));
    const rows = table
      .split('\n')
      .filter((line) => /^\| `[a-z.]+`/.test(line))
      .map((line) => line.split('|').map((cell) => cell.trim()));
    const documented = Object.fromEntries(
      ROLES.map((role, i) => [
        role,
        rows.filter((cells) => cells[3 + i] === '✓').map((cells) => cells[1]!.replace(/`/g, '')),
      ]),
    );
    const actual = Object.fromEntries(ROLES.map((role) => [role, [...ROLE_PERMISSIONS[role]]]));
    expect(documented).toEqual(actual);
  });

  it('issues links to active agents only, once per update, and none while the console is not configured', async () => {
    const { telegramUserId } = await agentWithLink('agent');
    const issue = (userId: number, updateId: number, ttlMs: number | undefined) =>
      links.issueLink({ botId: 'test-bot', updateId }, DEFAULT_TENANT_ID, userId, ttlMs);
    expect(await issue(424_242, nextUpdate++, 60_000)).toEqual({ kind: 'not_agent' });
    const update = nextUpdate++;
    expect((await issue(telegramUserId, update, 60_000)).kind).toBe('link');
    // Telegram delivered the same update again: nothing more is issued.
    expect(await issue(telegramUserId, update, 60_000)).toEqual({ kind: 'duplicate' });
    expect(await issue(telegramUserId, nextUpdate++, undefined)).toEqual({
      kind: 'not_configured',
    });
    await service('DELETE', `/v1/admin/agents/${telegramUserId}`);
    expect(await issue(telegramUserId, nextUpdate++, 60_000)).toEqual({ kind: 'not_agent' });
  });

  it('refuses, at registration, an admin route that declares no permission', async () => {
    const { default: Fastify } = await import('fastify');
    const bare = Fastify();
    const { installAdminAccess } = await import('../src/admin-access');
    installAdminAccess(bare, {
      serviceToken: 'x',
      tenantOfToken: async () => undefined,
      served: async () => {},
      access: links,
      consoleUrl: undefined,
    });
    expect(() => bare.get('/v1/admin/forgotten', async () => ({}))).toThrow(
      /must declare its permission/,
    );
    await bare.close();
  });

  it('lets each role through exactly the admin routes the access table allows, and audits refusals', async () => {
    const browsers = new Map<Role, Browser>();
    for (const role of ROLES) browsers.set(role, await signIn(role));
    const sample: Record<string, string> = {
      telegramUserId: '99999',
      key: 'no.such.template',
      chatId: '-1009999999999',
      id: '00000000-0000-4000-8000-000000000000',
    };
    // The overview's event stream never ends by itself: console-reads.test.ts opens it per role.
    const routes = registered.filter(
      (r) =>
        isAdminRoute(r.url) &&
        r.url !== '/v1/console/sign-out' &&
        r.url !== '/v1/console/overview/stream' &&
        r.method !== 'OPTIONS',
    );
    const deniedBefore = (await audit('access.denied')).length;
    let denials = 0;
    for (const route of routes) {
      const url = route.url
        .replace(/:(\w+)/g, (_m, name: string) => sample[name] ?? '1')
        .replace('/dead-letters/00000000-0000-4000-8000-000000000000', '/dead-letters/1');
      for (const role of ROLES) {
        const browser = browsers.get(role)!;
        const response = await asBrowser(
          browser,
          route.method as 'GET' | 'PUT' | 'POST' | 'DELETE',
          url,
          route.method === 'GET' || route.method === 'DELETE' ? undefined : {},
        );
        const refused =
          response.statusCode === 403 &&
          response.json<{ error: { code: string } }>().error.code === 'FORBIDDEN_ROLE';
        const allowed = may(role, route.permission!);
        expect({ route: `${route.method} ${route.url}`, role, refused }).toEqual({
          route: `${route.method} ${route.url}`,
          role,
          refused: !allowed,
        });
        if (!allowed) denials++;
      }
      // The service token acts as an owner.
      const asService = await service(
        route.method as 'GET',
        url,
        route.method === 'GET' ? undefined : {},
      );
      expect(asService.body['error']).not.toMatchObject({ code: 'FORBIDDEN_ROLE' });
    }
    expect(denials).toBeGreaterThan(10);
    const denied = (await audit('access.denied')).slice(0, denials);
    expect((await audit('access.denied')).length - deniedBefore).toBe(denials);
    expect(denied[0]).toMatchObject({
      actor: { id: expect.stringMatching(/^agent:\d+$/) },
      details: {
        method: expect.any(String),
        route: expect.any(String),
        permission: expect.any(String),
      },
    });
  });

  it('refuses a viewer every change and an agent export, erasure and agent management', async () => {
    const viewer = await signIn('viewer');
    const change = await asBrowser(viewer, 'PUT', '/v1/admin/templates', {
      key: 'welcome',
      text: 'Hi',
    });
    expect(change.statusCode).toBe(403);
    expect(change.json()).toMatchObject({
      error: { code: 'FORBIDDEN_ROLE', details: { permission: 'templates.write', role: 'viewer' } },
    });
    for (const permission of ['data.export', 'data.erase', 'agents.manage'] as const)
      expect(may('agent', permission)).toBe(false);
    const read = await asBrowser(viewer, 'GET', '/v1/admin/templates');
    expect(read.statusCode).toBe(200);
  });

  it('keeps admins within their rank: no owners made, no owners changed', async () => {
    const admin = await signIn('admin');
    const makeOwner = await asBrowser(admin, 'PUT', '/v1/admin/agents/81999', {
      displayName: 'Usurper',
      role: 'owner',
    });
    expect(makeOwner.statusCode).toBe(403);
    expect(makeOwner.json()).toMatchObject({ error: { code: 'FORBIDDEN_ROLE' } });
    const owner = await agentWithLink('owner');
    const demote = await asBrowser(admin, 'DELETE', `/v1/admin/agents/${owner.telegramUserId}`);
    expect(demote.json()).toMatchObject({ error: { code: 'FORBIDDEN_ROLE' } });
    const supervisor = await asBrowser(admin, 'PUT', '/v1/admin/agents/81998', {
      displayName: 'Sue',
      role: 'supervisor',
    });
    expect(supervisor.statusCode).toBe(200);
  });

  it('serves a sign-in page that does not consume the link, then signs in once with a Secure, httpOnly, SameSite=Strict cookie', async () => {
    const { telegramUserId, token } = await agentWithLink('supervisor');
    for (let i = 0; i < 2; i++) {
      // A link preview or a prefetch: a GET, any number of times.
      const preview = await app.inject({ method: 'GET', url: `/console/sign-in?t=${token}` });
      expect(preview.statusCode).toBe(200);
      expect(preview.headers['content-type']).toContain('text/html');
      expect(preview.headers['referrer-policy']).toBe('same-origin');
      expect(preview.headers['cache-control']).toBe('no-store');
      expect(preview.headers['content-security-policy']).toContain("default-src 'none'");
      expect(preview.body).toContain('method="post"');
      expect(preview.body).toContain(`value="${token}"`);
    }
    const form = await app.inject({
      method: 'POST',
      url: '/console/sign-in',
      headers: { origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
      payload: `token=${token}`,
    });
    expect(form.statusCode).toBe(303);
    expect(form.headers.location).toBe(`${CONSOLE_URL}/`);
    const cookie = form.cookies.find((c) => c.name === COOKIE);
    expect(cookie).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict', path: '/' });
    expect(cookie?.maxAge).toBe(12 * 3600);
    expect(String(form.headers['set-cookie'])).not.toMatch(/domain=/i);

    // The same link again: refused, and its owner can see it in the audit log.
    const replay = await postToken(token);
    expect(replay.statusCode).toBe(409);
    expect(replay.json()).toMatchObject({ error: { code: 'SIGN_IN_LINK_USED' } });
    expect(replay.cookies).toEqual([]);
    const replayForm = await app.inject({
      method: 'POST',
      url: '/console/sign-in',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `token=${token}`,
    });
    expect(replayForm.statusCode).toBe(409);
    expect(replayForm.body).toContain('SIGN_IN_LINK_USED');
    expect(await audit('console.sign_in_refused')).toContainEqual(
      expect.objectContaining({
        actor: expect.objectContaining({ id: String(telegramUserId) }),
        details: { code: 'SIGN_IN_LINK_USED' },
      }),
    );
    expect(await audit('console.sign_in')).toContainEqual(
      expect.objectContaining({ details: expect.objectContaining({ role: 'supervisor' }) }),
    );
  });

  it('refuses expired, unknown and malformed links, a link of a deactivated agent, and a sign-in posted from another site', async () => {
    const expired = await agentWithLink('agent', 1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const late = await postToken(expired.token);
    expect(late.statusCode).toBe(410);
    expect(late.json()).toMatchObject({ error: { code: 'SIGN_IN_LINK_EXPIRED' } });

    const unknown = await postToken('A'.repeat(43));
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json()).toMatchObject({ error: { code: 'SIGN_IN_LINK_INVALID' } });
    const malformed = await postToken('short');
    expect(malformed.json()).toMatchObject({ error: { code: 'INVALID_REQUEST' } });
    const page = await app.inject({ method: 'GET', url: '/console/sign-in?t=<script>' });
    expect(page.statusCode).toBe(400);
    expect(page.body).not.toContain('<script>');

    const gone = await agentWithLink('admin');
    await service('DELETE', `/v1/admin/agents/${gone.telegramUserId}`);
    expect((await postToken(gone.token)).json()).toMatchObject({
      error: { code: 'SIGN_IN_LINK_INVALID' },
    });

    const fresh = await agentWithLink('agent');
    const crossSite = await postToken(fresh.token, { origin: 'https://evil.example' });
    expect(crossSite.statusCode).toBe(403);
    expect(crossSite.json()).toMatchObject({ error: { code: 'CSRF_FAILED' } });
    // Refused before it was consumed: the agent's own sign-in still works.
    expect((await postToken(fresh.token)).statusCode).toBe(200);
  });

  it('needs the CSRF token and the console Origin for a change made with the cookie', async () => {
    const supervisor = await signIn('supervisor');
    const template = { key: 'csrf.check', text: 'Hello' };
    const noToken = await asBrowser(supervisor, 'PUT', '/v1/admin/templates', template, {
      origin: ORIGIN,
    });
    expect(noToken.statusCode).toBe(403);
    expect(noToken.json()).toMatchObject({ error: { code: 'CSRF_FAILED' } });
    const wrongToken = await asBrowser(supervisor, 'PUT', '/v1/admin/templates', template, {
      origin: ORIGIN,
      'x-csrf-token': 'x'.repeat(43),
    });
    expect(wrongToken.json()).toMatchObject({ error: { code: 'CSRF_FAILED' } });
    const otherSite = await asBrowser(supervisor, 'PUT', '/v1/admin/templates', template, {
      origin: 'https://evil.example',
      'x-csrf-token': supervisor.csrf,
    });
    expect(otherSite.json()).toMatchObject({ error: { code: 'CSRF_FAILED' } });
    const noOrigin = await asBrowser(supervisor, 'PUT', '/v1/admin/templates', template, {
      'x-csrf-token': supervisor.csrf,
    });
    expect(noOrigin.json()).toMatchObject({ error: { code: 'CSRF_FAILED' } });
    // Another session's token does not fit this one.
    const other = await signIn('supervisor');
    const borrowed = await asBrowser(supervisor, 'PUT', '/v1/admin/templates', template, {
      origin: ORIGIN,
      'x-csrf-token': other.csrf,
    });
    expect(borrowed.json()).toMatchObject({ error: { code: 'CSRF_FAILED' } });

    const ok = await asBrowser(supervisor, 'PUT', '/v1/admin/templates', template);
    expect(ok.statusCode).toBe(200);
    const changes = await audit('template.update');
    expect(changes[0]).toMatchObject({
      actor: { id: `agent:${supervisor.telegramUserId}` },
      details: { key: 'csrf.check' },
    });
    const session = await asBrowser(supervisor, 'GET', '/v1/console/session');
    expect(session.json()).toMatchObject({
      session: {
        role: 'supervisor',
        current: true,
        agent: { telegramUserId: supervisor.telegramUserId },
      },
      csrfToken: supervisor.csrf,
      permissions: expect.arrayContaining(['templates.write']),
    });
  });

  it("lists own sessions (everyone's for admins), revokes them, signs out, and audits both", async () => {
    const agent = await signIn('agent');
    const agentAgain = await signIn('agent');
    const admin = await signIn('admin');
    const own = (await asBrowser(agent, 'GET', '/v1/admin/sessions')).json<{
      sessions: Array<{ id: string; current: boolean; agent: { telegramUserId: number } }>;
    }>();
    expect(own.sessions.map((s) => s.agent.telegramUserId)).toEqual([agent.telegramUserId]);
    expect(own.sessions[0]?.current).toBe(true);
    const all = (await asBrowser(admin, 'GET', '/v1/admin/sessions')).json<{
      sessions: Array<{ id: string }>;
    }>();
    expect(all.sessions.map((s) => s.id)).toEqual(
      expect.arrayContaining([agent.sessionId, agentAgain.sessionId, admin.sessionId]),
    );

    // An agent cannot end someone else's session; an admin can.
    const notTheirs = await asBrowser(
      agent,
      'DELETE',
      `/v1/admin/sessions/${agentAgain.sessionId}`,
    );
    expect(notTheirs.statusCode).toBe(404);
    const revoked = await asBrowser(admin, 'DELETE', `/v1/admin/sessions/${agentAgain.sessionId}`);
    expect(revoked.statusCode).toBe(200);
    const after = await asBrowser(agentAgain, 'GET', '/v1/console/session');
    expect(after.statusCode).toBe(401);
    expect(after.json()).toMatchObject({ error: { code: 'SESSION_INVALID' } });
    expect(await audit('console.session_revoke')).toContainEqual(
      expect.objectContaining({
        actor: { type: 'admin', id: `agent:${admin.telegramUserId}` },
        details: expect.objectContaining({ sessionId: agentAgain.sessionId }),
      }),
    );

    const out = await asBrowser(agent, 'POST', '/v1/console/sign-out');
    expect(out.statusCode).toBe(200);
    const cleared = out.cookies.find((c) => c.name === COOKIE);
    expect(cleared?.value).toBe('');
    expect((await asBrowser(agent, 'GET', '/v1/admin/sessions')).statusCode).toBe(401);
    expect(await audit('console.sign_out')).toContainEqual(
      expect.objectContaining({ details: expect.objectContaining({ sessionId: agent.sessionId }) }),
    );
  });

  it('applies a role change at once and ends the sessions of a deactivated agent', async () => {
    const admin = await signIn('admin');
    const before = await asBrowser(admin, 'GET', '/v1/admin/audit');
    expect(before.statusCode).toBe(200);
    await service('PUT', `/v1/admin/agents/${admin.telegramUserId}`, {
      displayName: 'Demoted',
      role: 'viewer',
    });
    const demoted = await asBrowser(admin, 'GET', '/v1/admin/audit');
    expect(demoted.json()).toMatchObject({ error: { code: 'FORBIDDEN_ROLE' } });
    await service('DELETE', `/v1/admin/agents/${admin.telegramUserId}`);
    const gone = await asBrowser(admin, 'GET', '/v1/admin/templates');
    expect(gone.json()).toMatchObject({ error: { code: 'SESSION_INVALID' } });
  });

  it('answers without credentials TOKEN_MISSING, and a forged cookie SESSION_INVALID', async () => {
    const none = await app.inject({ method: 'GET', url: '/v1/admin/agents' });
    expect(none.json()).toMatchObject({ error: { code: 'TOKEN_MISSING' } });
    const forged = await app.inject({
      method: 'GET',
      url: '/v1/admin/agents',
      cookies: { [COOKIE]: 'x'.repeat(43) },
    });
    expect(forged.statusCode).toBe(401);
    expect(forged.json()).toMatchObject({ error: { code: 'SESSION_INVALID' } });
  });
});
