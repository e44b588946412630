import { ConsoleAccess, DEFAULT_TENANT_ID, UnitOfWork, type Role } from '@topicdesk/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminCaller, startGatewayUnderTest, type GatewayUnderTest } from './gateway-under-test';

// Issue 15: data-subject requests of the admin API — a conversation's export (JSON and a
// transcript) and its erasure, by id or ticket, per role, audited, with a tombstone left.

const SERVICE_TOKEN = 'data-requests-test-service-token';
const CONSOLE_URL = 'http://console.test/console';
const ORIGIN = 'http://console.test';

describe('admin API: data-subject export and erase', () => {
  let gateway: GatewayUnderTest;
  let nextAgent = 91_000;
  let nextUpdate = 1;

  beforeAll(async () => {
    gateway = await startGatewayUnderTest({
      namespace: 'gateway-dsar-test',
      env: { SERVICE_TOKEN, CONSOLE_URL, PRECHAT_FIELDS: 'email', DSAR_TOPIC_POLICY: 'keep' },
    });
  });

  afterAll(async () => {
    await gateway?.close();
  });

  const admin = (method: 'GET' | 'POST', url: string, body?: unknown) =>
    adminCaller(gateway.app, SERVICE_TOKEN)(method, url, body);

  /** A conversation with a named visitor, a page, two messages and a note. */
  const conversation = async () => {
    const started = await gateway.app.inject({
      method: 'POST',
      url: '/v1/conversations',
      payload: {
        name: 'Erika Mustermann',
        email: 'erika@example.org',
        page: { url: 'https://shop.example/cart', title: 'Your cart' },
      },
    });
    expect(started.statusCode).toBe(201);
    const c = started.json<{ conversationId: string; ticket: string; token: string }>();
    await gateway.conversations.postVisitorMessage({
      tenantId: DEFAULT_TENANT_ID,
      conversationId: c.conversationId,
      clientId: 'c1',
      text: 'My order 4711 never arrived, I live at Hauptstraße 1',
    });
    return c;
  };

  /** A console session of an agent with `role` (sign-in link, as the bot hands it out). */
  const session = async (role: Role) => {
    const telegramUserId = nextAgent++;
    const saved = await adminCaller(gateway.app, SERVICE_TOKEN)(
      'PUT',
      `/v1/admin/agents/${telegramUserId}`,
      { displayName: `Agent ${telegramUserId}`, role },
    );
    expect(saved.status).toBe(200);
    const link = await new ConsoleAccess(
      new UnitOfWork(gateway.infra.database.db, { publish: async () => {} }),
    ).issueLink(
      { botId: 'test-bot', updateId: nextUpdate++ },
      DEFAULT_TENANT_ID,
      telegramUserId,
      300_000,
    );
    if (link.kind !== 'link') throw new Error(`no link: ${link.kind}`);
    const signedIn = await gateway.app.inject({
      method: 'POST',
      url: '/console/sign-in',
      headers: { origin: ORIGIN },
      payload: { token: link.token },
    });
    const cookie = signedIn.cookies.find((c) => c.name.endsWith('topicdesk_session'));
    if (!cookie) throw new Error('no session cookie');
    const csrf = signedIn.json<{ csrfToken: string }>().csrfToken;
    return (method: 'GET' | 'POST', url: string, payload?: Record<string, unknown>) =>
      gateway.app.inject({
        method,
        url,
        cookies: { [cookie.name]: cookie.value },
        headers: method === 'GET' ? {} : { origin: ORIGIN, 'x-csrf-token': csrf },
        ...(payload ? { payload } : {}),
      });
  };

  const audit = async (action: string, conversationId: string) =>
    gateway.infra.database.db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', action)
      .where('conversation_id', '=', conversationId)
      .execute();

  it('exports everything stored about a conversation by id or ticket, and audits it', async () => {
    const c = await conversation();
    const byId = await admin('GET', `/v1/admin/conversations/${c.conversationId}/export`);
    expect(byId.status).toBe(200);
    expect(byId.body).toMatchObject({
      format: 'topicdesk.conversation-export/1',
      conversation: { id: c.conversationId, ticket: c.ticket, channel: 'web', status: 'open' },
      visitor: {
        name: 'Erika Mustermann',
        email: 'erika@example.org',
        page: { url: 'https://shop.example/cart', title: 'Your cart' },
      },
      attachments: [],
      rating: null,
    });
    const messages = byId.body['messages'] as Array<{ kind: string; text: string }>;
    expect(messages.map((m) => m.kind)).toContain('visitor');
    expect(messages.find((m) => m.kind === 'visitor')?.text).toContain('4711');
    const byTicket = await admin('GET', `/v1/admin/conversations/${c.ticket}/export`);
    expect(byTicket.status).toBe(200);
    expect((byTicket.body['conversation'] as { id: string }).id).toBe(c.conversationId);
    const entries = await audit('data.export', c.conversationId);
    expect(entries).toHaveLength(2);
    expect(entries[0]).toMatchObject({ actor_type: 'admin', actor_id: 'service-token' });
  });

  it('exports a readable transcript as a UTF-8 text attachment', async () => {
    const c = await conversation();
    const response = await gateway.app.inject({
      method: 'GET',
      url: `/v1/admin/conversations/${c.ticket}/export?format=text`,
      headers: { authorization: `Bearer ${SERVICE_TOKEN}` },
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(response.headers['content-disposition']).toBe(`attachment; filename="${c.ticket}.txt"`);
    expect(response.body).toContain(`Conversation ${c.ticket}`);
    expect(response.body).toContain('Visitor: Erika Mustermann <erika@example.org>');
    expect(response.body).toMatch(/\] Visitor: My order 4711 never arrived/);
    expect(response.body).toContain('Hauptstraße 1');
  });

  it('erases a conversation: data gone, closed, token refused, tombstone and audit kept', async () => {
    const c = await conversation();
    const erased = await admin('POST', `/v1/admin/conversations/${c.conversationId}/erase`, {});
    expect(erased.status).toBe(200);
    expect(erased.body).toMatchObject({
      erased: true,
      tombstone: {
        conversationId: c.conversationId,
        ticket: c.ticket,
        erasedBy: { type: 'admin', id: 'service-token' },
        topic: 'keep',
      },
    });
    const db = gateway.infra.database.db;
    const row = await db
      .selectFrom('conversations')
      .selectAll()
      .where('id', '=', c.conversationId)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      status: 'closed',
      visitor_name: null,
      visitor_email: null,
      page_url: null,
      page_title: null,
    });
    expect(row.erased_at).toBeInstanceOf(Date);
    const messages = await db
      .selectFrom('messages')
      .select('id')
      .where('conversation_id', '=', c.conversationId)
      .execute();
    expect(messages).toEqual([]);
    // Without a topic yet there is nothing to rename: no post is queued for it.
    const posts = await db
      .selectFrom('telegram_posts')
      .select('id')
      .where('conversation_id', '=', c.conversationId)
      .execute();
    expect(posts).toEqual([]);
    const history = await gateway.app.inject({
      method: 'GET',
      url: `/v1/conversations/${c.conversationId}/messages`,
      headers: { authorization: `Bearer ${c.token}` },
    });
    expect(history.statusCode).toBe(410);
    expect(history.json()).toMatchObject({ error: { code: 'CONVERSATION_ERASED' } });
    const refresh = await gateway.app.inject({
      method: 'POST',
      url: `/v1/conversations/${c.conversationId}/token`,
      headers: { authorization: `Bearer ${c.token}` },
    });
    expect(refresh.json()).toMatchObject({ error: { code: 'CONVERSATION_ERASED' } });
    expect(await audit('data.erase', c.conversationId)).toEqual([
      expect.objectContaining({
        actor_type: 'admin',
        details: expect.objectContaining({ ticket: c.ticket, topicPolicy: 'keep' }),
      }),
    ]);

    // Idempotent: the same tombstone again; an export answers 410 with it.
    const again = await admin('POST', `/v1/admin/conversations/${c.ticket}/erase`, {
      topic: 'delete',
    });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ erased: false, tombstone: erased.body['tombstone'] });
    const exported = await admin('GET', `/v1/admin/conversations/${c.conversationId}/export`);
    expect(exported.status).toBe(410);
    expect(exported.body).toMatchObject({
      error: { code: 'CONVERSATION_ERASED', details: { tombstone: erased.body['tombstone'] } },
    });
    expect(await audit('data.erase', c.conversationId)).toHaveLength(1);
  });

  it('answers 404 for an unknown conversation and 400 for what is neither id nor ticket', async () => {
    const unknown = await admin(
      'POST',
      '/v1/admin/conversations/00000000-0000-4000-8000-00000000abcd/erase',
      {},
    );
    expect(unknown).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
    const bad = await admin('GET', '/v1/admin/conversations/robert%27)%3B/export');
    expect(bad).toMatchObject({ status: 400, body: { error: { code: 'INVALID_REQUEST' } } });
    const badPolicy = await admin(
      'POST',
      '/v1/admin/conversations/00000000-0000-4000-8000-00000000abcd/erase',
      { topic: 'archive' },
    );
    expect(badPolicy).toMatchObject({ status: 400, body: { error: { code: 'INVALID_REQUEST' } } });
  });

  it('lets a supervisor export but not erase, and refuses both to agents and viewers', async () => {
    const c = await conversation();
    const exportUrl = `/v1/admin/conversations/${c.conversationId}/export`;
    const eraseUrl = `/v1/admin/conversations/${c.conversationId}/erase`;
    for (const role of ['agent', 'viewer'] as const) {
      const as = await session(role);
      for (const [method, url] of [
        ['GET', exportUrl],
        ['POST', eraseUrl],
      ] as const) {
        const response = await as(method, url, method === 'POST' ? {} : undefined);
        expect({ role, url, status: response.statusCode, body: response.json() }).toMatchObject({
          role,
          url,
          status: 403,
          body: { error: { code: 'FORBIDDEN_ROLE' } },
        });
      }
    }
    const supervisor = await session('supervisor');
    expect((await supervisor('GET', exportUrl)).statusCode).toBe(200);
    expect((await supervisor('POST', eraseUrl, {})).statusCode).toBe(403);
    const owner = await session('admin');
    const erased = await owner('POST', eraseUrl, { topic: 'delete' });
    expect(erased.statusCode).toBe(200);
    expect(erased.json()).toMatchObject({
      tombstone: { erasedBy: { type: 'admin', id: expect.stringMatching(/^agent:\d+$/) } },
    });
  });
});
