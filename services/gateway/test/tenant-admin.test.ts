import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsoleAccess, DEFAULT_TENANT_ID, UnitOfWork, type Kysely } from '@topicdesk/core';
import { readEventStream } from '@topicdesk/testkit';
import { adminCaller, startGatewayUnderTest, type GatewayUnderTest } from './gateway-under-test';

// Issue 16: the admin API and the console answer for the caller's tenant only. A tenant's
// service token (its bundle's) or console session is a principal of that tenant; with B's valid
// token and A's ids, no admin route reveals or changes anything of A.

const SERVICE_TOKEN = 'env-service-token-of-the-default-tenant-0123';
const PLATFORM_TOKEN = 'platform-token-of-the-tenant-admin-test-0123';
const ALPHA_TOKEN = 'alpha-service-token-0123456789abcdefghij';
const BRAVO_TOKEN = 'bravo-service-token-0123456789abcdefghij';
const ORIGIN = 'https://support.example.test';
const COOKIE = '__Host-topicdesk_session';
const suffix = randomBytes(3).toString('hex');
const ALPHA = `alpha-${suffix}`;
const BRAVO = `bravo-${suffix}`;
/** In every text of A's: an answer to B that contains it shows A's data. */
const MARK = 'ALPHAMARK';

const AGENT = 7001;
const GROUP = '-1007000000001';
const TEMPLATE = 'alpha.hello';

type Method = 'GET' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';

describe('admin API and console scoped to the caller’s tenant', () => {
  let gateway: GatewayUnderTest;
  let links: ConsoleAccess;
  let alphaConversation: string;
  let alphaTicket: string;
  let alphaSession: string;
  let alphaCookie: string;

  const platform = (method: Method, url: string, body?: unknown) =>
    gateway.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${PLATFORM_TOKEN}` },
      ...(body === undefined ? {} : { payload: body as Record<string, unknown> }),
    });
  const as = (token: string, method: Method, url: string, body?: unknown) =>
    gateway.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}` },
      ...(body === undefined ? {} : { payload: body as Record<string, unknown> }),
    });

  /** Every row of every tenant table that belongs to `tenantId`, in a stable order. */
  const rowsOf = async (tenantId: string) => {
    const { db } = gateway.infra.database;
    const any = db as unknown as Kysely<Record<string, { tenant_id: string }>>;
    const rows: Record<string, string[]> = {};
    for (const table of await db.introspection.getTables()) {
      if (!table.columns.some((column) => column.name === 'tenant_id')) continue;
      // The outbox relay deletes published rows on its own time: not the caller's doing.
      if (table.name.includes('outbox')) continue;
      const found = await any
        .selectFrom(table.name)
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .execute();
      rows[table.name] = found.map((row) => JSON.stringify(row)).sort();
    }
    expect(Object.keys(rows).length).toBeGreaterThan(20);
    return rows;
  };

  /** A tenant's agent signed in to the console through a link the bot would hand out. */
  const signIn = async (tenantId: string, telegramUserId: number) => {
    const link = await links.issueLink(
      { botId: `bot-${tenantId}`, updateId: Math.floor(Math.random() * 1e9) },
      tenantId,
      telegramUserId,
      60_000,
    );
    if (link.kind !== 'link') throw new Error(`no link: ${link.kind}`);
    const response = await gateway.app.inject({
      method: 'POST',
      url: '/console/sign-in',
      headers: { origin: ORIGIN },
      payload: { token: link.token },
    });
    expect(response.statusCode).toBe(200);
    const cookie = response.cookies.find((c) => c.name === COOKIE);
    if (!cookie) throw new Error('no session cookie');
    return {
      secret: cookie.value,
      csrf: response.json<{ csrfToken: string }>().csrfToken,
      sessionId: response.json<{ session: { id: string } }>().session.id,
    };
  };

  beforeAll(async () => {
    gateway = await startGatewayUnderTest({
      namespace: `gateway-tenant-admin-${suffix}`,
      env: {
        SERVICE_TOKEN,
        PLATFORM_TOKEN,
        TENANT_KEK: `k1:${randomBytes(32).toString('base64')}`,
        CONSOLE_URL: `${ORIGIN}/console`,
        // Bot channels on: their routes are walked too.
        TELEGRAM_USER_KEY: randomBytes(32).toString('base64'),
      },
      logLevel: 'silent',
    });
    links = new ConsoleAccess(
      new UnitOfWork(gateway.infra.database.db, { publish: async () => {} }),
    );
    for (const [id, token] of [
      [ALPHA, ALPHA_TOKEN],
      [BRAVO, BRAVO_TOKEN],
    ] as const) {
      const created = await platform('POST', '/v1/platform/tenants', {
        id,
        name: id,
        secrets: { serviceToken: token },
      });
      expect(created.statusCode, created.body).toBe(201);
    }

    // A's settings and people, made through A's own token.
    const alpha = adminCaller(gateway.app, ALPHA_TOKEN);
    const seeded = [
      await alpha('PUT', `/v1/admin/agents/${AGENT}`, {
        displayName: `${MARK} Agent`,
        role: 'owner',
      }),
      await alpha('PUT', '/v1/admin/templates', { key: TEMPLATE, text: `${MARK} hello` }),
      await alpha('PUT', `/v1/admin/groups/${GROUP}`, { title: `${MARK} group`, locales: ['de'] }),
      await alpha('PUT', '/v1/admin/priority-rules', {
        rules: [{ pageUrlPrefix: `https://alpha.example/${MARK}`, priority: 'high' }],
      }),
      await alpha('PUT', '/v1/admin/settings/sla', {
        targets: { normal: { firstResponseSeconds: 3600 } },
      }),
      await alpha('PUT', '/v1/admin/settings/business-hours', {
        timeZone: 'Europe/Berlin',
        weekly: { mon: [{ from: '09:00', to: '17:00' }] },
      }),
    ];
    for (const answer of seeded) expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    const conversation = await gateway.conversations.start({
      tenantId: ALPHA,
      channel: 'web',
      visitorName: `${MARK} Visitor`,
      pageUrl: `https://alpha.example/${MARK}`,
    });
    alphaConversation = conversation.id;
    alphaTicket = conversation.ticket;
    await gateway.conversations.postVisitorMessage({
      tenantId: ALPHA,
      conversationId: alphaConversation,
      clientId: 'c-1',
      text: `${MARK} message`,
    });
    const session = await signIn(ALPHA, AGENT);
    alphaSession = session.sessionId;
    alphaCookie = session.secret;
  });

  afterAll(async () => {
    await gateway?.close();
  });

  it("takes a tenant's bundle token as that tenant's owner, the env token as the default tenant's", async () => {
    const alpha = await as(ALPHA_TOKEN, 'GET', '/v1/admin/agents');
    expect(alpha.statusCode).toBe(200);
    expect(alpha.body).toContain(MARK);
    for (const token of [BRAVO_TOKEN, SERVICE_TOKEN]) {
      const other = await as(token, 'GET', '/v1/admin/agents');
      expect(other.statusCode).toBe(200);
      expect(other.body).not.toContain(MARK);
    }
    const wrong = await as(`${ALPHA_TOKEN}x`, 'GET', '/v1/admin/agents');
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toMatchObject({ error: { code: 'TOKEN_INVALID' } });
    // The platform token is no tenant's admin token.
    expect((await as(PLATFORM_TOKEN, 'GET', '/v1/admin/agents')).statusCode).toBe(401);
  });

  it("follows the bundle: a rotated token works at once, the old one no more; a suspended tenant's is TENANT_INACTIVE", async () => {
    const rotated = `${BRAVO_TOKEN}-rotated`;
    const patched = await platform('PATCH', `/v1/platform/tenants/${BRAVO}`, {
      secrets: { serviceToken: rotated },
    });
    expect(patched.statusCode, patched.body).toBe(200);
    expect((await as(BRAVO_TOKEN, 'GET', '/v1/admin/agents')).statusCode).toBe(401);
    expect((await as(rotated, 'GET', '/v1/admin/agents')).statusCode).toBe(200);
    await platform('PATCH', `/v1/platform/tenants/${BRAVO}`, {
      secrets: { serviceToken: BRAVO_TOKEN },
    });

    expect((await platform('POST', `/v1/platform/tenants/${ALPHA}/suspend`)).statusCode).toBe(200);
    try {
      for (const request of [
        () => as(ALPHA_TOKEN, 'GET', '/v1/admin/agents'),
        () =>
          gateway.app.inject({
            method: 'GET',
            url: '/v1/console/session',
            cookies: { [COOKIE]: alphaCookie },
          }),
      ]) {
        const refused = await request();
        expect(refused.statusCode).toBe(403);
        expect(refused.json()).toMatchObject({ error: { code: 'TENANT_INACTIVE' } });
      }
    } finally {
      expect((await platform('POST', `/v1/platform/tenants/${ALPHA}/resume`)).statusCode).toBe(200);
    }
    expect((await as(ALPHA_TOKEN, 'GET', '/v1/admin/agents')).statusCode).toBe(200);
  });

  it("signs a tenant's agent in with that tenant's link: the session reads and audits its tenant only", async () => {
    const session = await gateway.app.inject({
      method: 'GET',
      url: '/v1/console/session',
      cookies: { [COOKIE]: alphaCookie },
    });
    expect(session.statusCode).toBe(200);
    expect(session.json()).toMatchObject({ session: { agent: { telegramUserId: AGENT } } });
    const agents = await gateway.app.inject({
      method: 'GET',
      url: '/v1/admin/agents',
      cookies: { [COOKIE]: alphaCookie },
    });
    expect(agents.body).toContain(MARK);
    // The default tenant has no agent 7001: its sessions list does not show A's.
    const sessions = await as(SERVICE_TOKEN, 'GET', '/v1/admin/sessions');
    expect(sessions.body).not.toContain(alphaSession);
    expect((await as(ALPHA_TOKEN, 'GET', '/v1/admin/sessions')).body).toContain(alphaSession);
    const audit = await as(ALPHA_TOKEN, 'GET', '/v1/admin/audit?action=console.sign_in');
    expect(audit.json<{ entries: unknown[] }>().entries.length).toBeGreaterThan(0);
    const elsewhere = await as(SERVICE_TOKEN, 'GET', '/v1/admin/audit?action=console.sign_in');
    expect(elsewhere.body).not.toContain(alphaSession);
  });

  it("lets B's valid token at every admin route with A's ids reveal and change nothing of A", async () => {
    const document = (await gateway.app.inject({ method: 'GET', url: '/openapi.json' })).json<{
      paths: Record<string, Partial<Record<Lowercase<Method>, unknown>>>;
    }>();
    const params: Record<string, string> = {
      telegramUserId: String(AGENT),
      chatId: GROUP,
      key: TEMPLATE,
      id: alphaConversation,
    };
    /** Bodies a route would take, so that it gets past validation to the data. */
    const bodies: Record<string, unknown> = {
      'PUT /v1/admin/agents/{telegramUserId}': { displayName: 'BRAVO', role: 'viewer' },
      'PUT /v1/admin/templates': { key: TEMPLATE, text: 'BRAVO hello' },
      'PUT /v1/admin/groups/{chatId}': { title: 'BRAVO group' },
      'PUT /v1/admin/priority-rules': { rules: [] },
      'PUT /v1/admin/settings/sla': { targets: {} },
      'PUT /v1/admin/settings/business-hours': {
        timeZone: 'UTC',
        weekly: { tue: [{ from: '10:00', to: '11:00' }] },
      },
      'POST /v1/admin/conversations/{id}/erase': {},
    };
    const calls: Array<{ method: Method; path: string; url: string }> = [];
    for (const [path, operations] of Object.entries(document.paths)) {
      if (!path.startsWith('/v1/admin') && !path.startsWith('/v1/console')) continue;
      // The stream never ends by itself (its reads are the overview's, called here).
      if (path === '/v1/console/overview/stream') continue;
      for (const method of Object.keys(operations)) {
        const upper = method.toUpperCase() as Method;
        const withIds = path.replace(/\{(\w+)\}/g, (_m, name: string) =>
          name === 'id' && path.startsWith('/v1/admin/sessions')
            ? alphaSession
            : encodeURIComponent(params[name] ?? alphaConversation),
        );
        calls.push({ method: upper, path, url: withIds });
        // A conversation is named by its id or its ticket.
        if (path.includes('/conversations/{id}'))
          calls.push({ method: upper, path, url: withIds.replace(alphaConversation, alphaTicket) });
      }
    }
    expect(calls.length).toBeGreaterThanOrEqual(30);

    const before = await rowsOf(ALPHA);
    // Reads first, then the changes (a change to B's own rows may follow a read).
    const ordered = [
      ...calls.filter((c) => c.method === 'GET'),
      ...calls.filter((c) => c.method !== 'GET'),
    ];
    const leaks: string[] = [];
    for (const call of ordered) {
      const response = await as(
        BRAVO_TOKEN,
        call.method,
        call.url,
        bodies[`${call.method} ${call.path}`] ??
          (call.method === 'GET' || call.method === 'DELETE' ? undefined : {}),
      );
      const shown = `${JSON.stringify(response.headers)}${response.body}`;
      for (const secret of [MARK, alphaConversation, alphaTicket, alphaSession, ALPHA])
        if (shown.includes(secret)) leaks.push(`${call.method} ${call.url} shows ${secret}`);
      // No bridge runs here: the setup checks cannot be asked (that is no answer about A).
      if (response.statusCode !== 503 || !response.body.includes('SETUP_BRIDGE_UNAVAILABLE'))
        expect(response.statusCode, `${call.method} ${call.url}`).toBeLessThan(500);
      // A's rows named by id are not found for B.
      if (/\/(conversations|sessions)\/\{id\}/.test(call.path))
        expect(response.statusCode, `${call.method} ${call.url}`).toBe(404);
    }
    expect(leaks).toEqual([]);
    expect(await rowsOf(ALPHA)).toEqual(before);

    // The control: A's own token reaches those rows.
    const transcript = await as(ALPHA_TOKEN, 'GET', `/v1/admin/conversations/${alphaConversation}`);
    expect(transcript.statusCode).toBe(200);
    expect(transcript.body).toContain(MARK);
    for (const url of [
      '/v1/admin/templates',
      '/v1/admin/groups',
      '/v1/admin/priority-rules',
      '/v1/admin/conversations',
    ])
      expect((await as(ALPHA_TOKEN, 'GET', url)).body, url).toContain(MARK);
  });

  it("streams each tenant's overview with its own conversations only", async () => {
    const address = await gateway.app.listen({ port: 0, host: '127.0.0.1' });
    const watch = async (token: string) => {
      const response = await fetch(`${address}/v1/console/overview/stream`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(response.status).toBe(200);
      return readEventStream(response.body!);
    };
    const alpha = await watch(ALPHA_TOKEN);
    const bravo = await watch(BRAVO_TOKEN);
    const alphaOpen = ((await alpha.next('overview')) as { open: number }).open;
    expect(alphaOpen).toBeGreaterThan(0);
    expect(await bravo.next('overview')).toMatchObject({ open: 0 });

    await gateway.conversations.start({ tenantId: BRAVO, channel: 'web' });
    await bravo.until<{ open: number }>('overview', (o) => o.open === 1);
    const bravoSnapshots = bravo.count('overview');
    // A's change is heard on A's stream, and B's stream gets no snapshot for it.
    await gateway.conversations.start({ tenantId: ALPHA, channel: 'web' });
    await alpha.until<{ open: number }>('overview', (o) => o.open === alphaOpen + 1);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(bravo.count('overview')).toBe(bravoSnapshots);
    await alpha.cancel();
    await bravo.cancel();
  });

  it("gives a tenant's snippet its site key and checks the tenant's own allowed origins", async () => {
    const siteKey = (await platform('GET', `/v1/platform/tenants/${ALPHA}`)).json<{
      siteKey: string;
    }>().siteKey;
    await platform('PATCH', `/v1/platform/tenants/${ALPHA}`, {
      allowedOrigins: ['https://alpha.example'],
    });
    const alpha = adminCaller(gateway.app, ALPHA_TOKEN);
    const own = await alpha('GET', '/v1/admin/setup/snippet?origin=https://alpha.example');
    expect(own.status).toBe(200);
    expect(own.body).toMatchObject({ originAllowed: true, siteKey });
    expect(own.body['snippet']).toContain(`data-site-key="${siteKey}"`);
    const other = await alpha('GET', '/v1/admin/setup/snippet?origin=https://other.example');
    expect(other.body).toMatchObject({ originAllowed: false });
    expect(other.body['fix']).toMatch(/site's allowed origins/);
    // The default tenant's snippet is as before: no site key.
    const plain = await adminCaller(gateway.app, SERVICE_TOKEN)(
      'GET',
      '/v1/admin/setup/snippet?origin=https://alpha.example',
    );
    expect(plain.body['siteKey']).toBeUndefined();
    expect(plain.body['snippet']).not.toContain('data-site-key');
  });

  it('keeps the default tenant on the env token and its links (nothing to configure)', async () => {
    const agent = await as(SERVICE_TOKEN, 'PUT', '/v1/admin/agents/7002', {
      displayName: 'Default agent',
      role: 'viewer',
    });
    expect(agent.statusCode).toBe(200);
    const browser = await signIn(DEFAULT_TENANT_ID, 7002);
    const agents = await gateway.app.inject({
      method: 'GET',
      url: '/v1/admin/agents',
      cookies: { [COOKIE]: browser.secret },
    });
    expect(agents.statusCode).toBe(200);
    expect(agents.body).toContain('Default agent');
    expect(agents.body).not.toContain(MARK);
  });
});
