import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConversationService,
  DEFAULT_TENANT_ID,
  ROLES,
  UnitOfWork,
  type AgentRef,
  type Conversation,
} from '@topicdesk/core';
import {
  adminCaller,
  signInAs,
  startGatewayUnderTest,
  type GatewayUnderTest,
} from './gateway-under-test';
import { readEventStream } from '@topicdesk/testkit';

const SERVICE_TOKEN = 'console-reads-test-service-token';
const ORIGIN = 'https://support.example.test';
const GROUP_DE = -1002000000001;
const ALICE: AgentRef = { agentId: null, telegramUserId: 71_001, name: 'Alice M.' };

interface Listed {
  id: string;
  ticket: string;
  status: string;
  priority: string;
  level: number;
  groupChatId: number | null;
  assignee: { telegramUserId: number; displayName: string } | null;
  visitorName: string | null;
  waitingSince: string | null;
  messageCount: number;
}
interface ListPage {
  items: Listed[];
  nextCursor: string | null;
}

describe('the console read API: conversations, transcripts, overview, paged lists', () => {
  let gateway: GatewayUnderTest;
  let service: ReturnType<typeof adminCaller>;
  let desk: ConversationService;
  let uow: UnitOfWork;
  let nextClient = 1;

  beforeAll(async () => {
    gateway = await startGatewayUnderTest({
      namespace: 'gateway-console-reads-test',
      env: {
        SERVICE_TOKEN,
        CONSOLE_URL: `${ORIGIN}/console`,
        CONSOLE_STREAM_HEARTBEAT: '300ms',
        PRECHAT_FIELDS: 'email',
      },
    });
    service = adminCaller(gateway.app, SERVICE_TOKEN);
    uow = new UnitOfWork(gateway.infra.database.db, { publish: async () => {} });
    desk = new ConversationService(uow);
    expect((await service('PUT', `/v1/admin/groups/${GROUP_DE}`, { locales: ['de'] })).status).toBe(
      200,
    );
    const rules = await service('PUT', '/v1/admin/priority-rules', {
      rules: [{ locale: 'fr', priority: 'high' }],
    });
    expect(rules.status).toBe(200);
  });

  afterAll(async () => {
    await gateway?.close();
  });

  const start = (input: { name?: string; email?: string; locale?: string } = {}) =>
    gateway.conversations.start({
      tenantId: DEFAULT_TENANT_ID,
      channel: 'web',
      visitorName: input.name,
      visitorEmail: input.email,
      locale: input.locale,
    });
  const say = (conversation: Conversation, text: string) =>
    gateway.conversations.postVisitorMessage({
      tenantId: DEFAULT_TENANT_ID,
      conversationId: conversation.id,
      clientId: `c-${nextClient++}`,
      text,
    });
  const claim = (conversation: Conversation, agent = ALICE) =>
    uow.run((work) =>
      desk.claim(work, { tenantId: DEFAULT_TENANT_ID, conversationId: conversation.id, agent }),
    );
  const list = async (query: string) => {
    const response = await service('GET', `/v1/admin/conversations?${query}`);
    expect(response.status).toBe(200);
    return response.body as unknown as ListPage;
  };
  /** Every page of a list, following nextCursor; `between` runs after each page. */
  const allPages = async (query: string, between: () => Promise<unknown> = async () => {}) => {
    const seen: Listed[] = [];
    let cursor: string | null = null;
    do {
      const page = await list(`${query}${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.items);
      cursor = page.nextCursor;
      await between();
    } while (cursor);
    return seen;
  };

  it('lists conversations newest first with their holder, level, group, priority and count, filtered', async () => {
    const waiting = await start({ name: 'Wanda Waiting', locale: 'de' });
    await say(waiting, 'the invoice is wrong');
    const held = await start({ name: 'Hal Held', email: 'hal@example.test', locale: 'fr' });
    await say(held, 'password reset please');
    await claim(held);
    const closed = await start({ name: 'Cleo Closed' });
    await uow.run((work) =>
      desk.close(work, {
        tenantId: DEFAULT_TENANT_ID,
        conversationId: closed.id,
        actor: { type: 'agent', id: String(ALICE.telegramUserId) },
        reason: 'done',
        templateKey: 'closed_note',
      }),
    );

    // As an escalation leaves it (its own suite covers how).
    await gateway.infra.database.db
      .updateTable('conversations')
      .set({ level: 2 })
      .where('id', '=', closed.id)
      .execute();

    const all = await list('limit=3');
    expect(all.items.map((c) => c.id)).toEqual([closed.id, held.id, waiting.id]);
    expect(all.items[1]).toMatchObject({
      ticket: held.ticket,
      status: 'open',
      priority: 'high',
      level: 1,
      assignee: { telegramUserId: ALICE.telegramUserId, displayName: 'Alice M.' },
      visitorName: 'Hal Held',
      waitingSince: null,
    });
    expect(all.items[1]!.messageCount).toBeGreaterThanOrEqual(2);
    expect(all.items[2]).toMatchObject({ groupChatId: GROUP_DE, assignee: null });
    expect(all.items[2]!.waitingSince).toEqual(expect.any(String));

    const ids = async (query: string) =>
      (await list(`${query}&limit=100`)).items
        .map((c) => c.id)
        .filter((id) => [waiting.id, held.id, closed.id].includes(id));
    expect(await ids('status=waiting')).toEqual([waiting.id]);
    expect(await ids('status=assigned')).toEqual([held.id]);
    expect(await ids('status=open')).toEqual([held.id, waiting.id]);
    expect(await ids('status=closed')).toEqual([closed.id]);
    expect(await ids(`agent=${ALICE.telegramUserId}`)).toEqual([held.id]);
    expect(await ids(`group=${GROUP_DE}`)).toEqual([waiting.id]);
    expect(await ids('group=default')).toEqual([closed.id, held.id]);
    expect(await ids('priority=high')).toEqual([held.id]);
    expect(await ids('level=2')).toEqual([closed.id]);
    expect(await ids('level=1')).toEqual([held.id, waiting.id]);
    // Text search: words of a message, parts of ticket, name and e-mail.
    expect(await ids('q=invoice')).toEqual([waiting.id]);
    expect(await ids('q=PASSWORD')).toEqual([held.id]);
    expect(await ids(`q=${held.ticket.slice(5).toLowerCase()}`)).toEqual([held.id]);
    expect(await ids('q=cleo')).toEqual([closed.id]);
    expect(await ids('q=hal%40example')).toEqual([held.id]);
    expect(await ids('q=100%25')).toEqual([]);
    // Dates bound the creation time: a UTC date's `to` includes that day.
    const today = new Date().toISOString().slice(0, 10);
    expect(await ids(`from=${today}&to=${today}`)).toEqual([closed.id, held.id, waiting.id]);
    expect(await ids(`to=${encodeURIComponent(waiting.created_at.toISOString())}`)).toEqual([]);
    expect(
      await ids(`from=${encodeURIComponent(held.created_at.toISOString())}&status=open`),
    ).toEqual([held.id]);
  });

  it('pages by an opaque cursor that stays put while conversations are added', async () => {
    const before = await allPages('limit=100');
    const added: string[] = [];
    const paged = await allPages('limit=2', async () => {
      added.push((await start({ name: 'Late Comer' })).id);
    });
    expect(paged.map((c) => c.id)).toEqual(before.map((c) => c.id));
    expect(new Set(paged.map((c) => c.id)).size).toBe(paged.length);
    // The next read from the top shows the newcomers first.
    const top = await list(`limit=${added.length}`);
    expect(top.items.map((c) => c.id)).toEqual([...added].reverse());
  });

  it('refuses a cursor it did not hand out, a limit over 100 and unknown filter values', async () => {
    const audit = await service('GET', '/v1/admin/audit?limit=1');
    const auditCursor = audit.body['nextCursor'] as string;
    expect(auditCursor).toEqual(expect.any(String));
    for (const cursor of [
      'garbage',
      auditCursor,
      Buffer.from('["conversations",1,2]').toString('base64url'),
    ]) {
      const response = await service('GET', `/v1/admin/conversations?cursor=${cursor}`);
      expect({ cursor, status: response.status, body: response.body }).toMatchObject({
        status: 400,
        body: { error: { code: 'INVALID_CURSOR' } },
      });
    }
    for (const query of ['limit=101', 'limit=0', 'status=lost', 'from=yesterday', 'level=4']) {
      const response = await service('GET', `/v1/admin/conversations?${query}`);
      expect({ query, status: response.status, body: response.body }).toMatchObject({
        status: 400,
        body: { error: { code: 'INVALID_REQUEST' } },
      });
    }
  });

  it('shows a transcript by id or ticket: messages in seq order, edits, deletions, notes, audit trail', async () => {
    const conversation = await start({ name: 'Tess Transcript' });
    await say(conversation, 'first question');
    await claim(conversation);
    const reply = await uow.run((work) =>
      desk.postAgentMessage(work, {
        tenantId: DEFAULT_TENANT_ID,
        telegramUserId: ALICE.telegramUserId,
        conversationId: conversation.id,
        text: 'first answer',
        authorName: ALICE.name,
        agentId: null,
        telegramChatId: GROUP_DE,
        telegramMessageId: 501,
      }),
    );
    await uow.run((work) =>
      desk.editAgentMessage(work, {
        tenantId: DEFAULT_TENANT_ID,
        message: reply,
        text: 'a better answer',
        at: new Date(),
        telegramUserId: ALICE.telegramUserId,
      }),
    );
    const retracted = await uow.run((work) =>
      desk.postAgentMessage(work, {
        tenantId: DEFAULT_TENANT_ID,
        telegramUserId: ALICE.telegramUserId,
        conversationId: conversation.id,
        text: 'oops',
        authorName: ALICE.name,
        agentId: null,
        telegramChatId: GROUP_DE,
        telegramMessageId: 502,
      }),
    );
    await uow.run((work) =>
      desk.retract(work, { tenantId: DEFAULT_TENANT_ID, message: retracted, agent: ALICE }),
    );
    await uow.run((work) =>
      desk.note(work, {
        tenantId: DEFAULT_TENANT_ID,
        conversationId: conversation.id,
        agent: ALICE,
        text: 'VIP customer',
        telegramMessageId: 503,
      }),
    );

    const byTicket = await service('GET', `/v1/admin/conversations/${conversation.ticket}`);
    expect(byTicket.status).toBe(200);
    const byId = await service('GET', `/v1/admin/conversations/${conversation.id}`);
    expect(byId.body).toEqual(byTicket.body);
    const body = byId.body as {
      conversation: Record<string, unknown>;
      messages: Array<Record<string, unknown> & { seq: number; kind: string }>;
      nextAfterSeq: number | null;
      notes: unknown[];
      audit: Array<{ action: string; conversationId: string }>;
    };
    expect(body.conversation).toMatchObject({
      id: conversation.id,
      ticket: conversation.ticket,
      channel: 'web',
      visitorName: 'Tess Transcript',
      assignee: { telegramUserId: ALICE.telegramUserId },
    });
    const seqs = body.messages.map((m) => m.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(body.messages.find((m) => m.kind === 'visitor')).toMatchObject({
      text: 'first question',
      author: { kind: 'visitor', displayName: null },
      deletedAt: null,
    });
    expect(body.messages.find((m) => m.seq === reply.seq)).toMatchObject({
      kind: 'agent',
      text: 'a better answer',
      author: { kind: 'agent', displayName: 'Alice M.' },
      editedAt: expect.any(String),
      edits: [{ previousText: 'first answer', editedAt: expect.any(String) }],
    });
    // A retracted message keeps its text in its edits only.
    expect(body.messages.find((m) => m.seq === retracted.seq)).toMatchObject({
      text: '',
      deletedAt: expect.any(String),
      edits: [{ previousText: 'oops' }],
    });
    expect(body.messages.some((m) => m.kind === 'system')).toBe(true);
    expect(body.nextAfterSeq).toBeNull();
    expect(body.notes).toEqual([
      {
        id: expect.any(Number),
        authorName: 'Alice M.',
        text: 'VIP customer',
        at: expect.any(String),
      },
    ]);
    const actions = body.audit.map((e) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining(['conversation.claim', 'message.send', 'conversation.note']),
    );
    expect(body.audit.every((e) => e.conversationId === conversation.id)).toBe(true);

    // Messages page by afterSeq.
    const first = await service('GET', `/v1/admin/conversations/${conversation.id}?limit=2`);
    const firstPage = first.body as typeof body;
    expect(firstPage.messages.map((m) => m.seq)).toEqual(seqs.slice(0, 2));
    expect(firstPage.nextAfterSeq).toBe(seqs[1]);
    const second = await service(
      'GET',
      `/v1/admin/conversations/${conversation.id}?limit=2&afterSeq=${firstPage.nextAfterSeq}`,
    );
    expect((second.body as typeof body).messages.map((m) => m.seq)).toEqual(seqs.slice(2, 4));

    // The same trail through the audit log's conversationId filter.
    const trail = await service('GET', `/v1/admin/audit?conversationId=${conversation.id}`);
    expect((trail.body['entries'] as unknown[]).length).toBe(body.audit.length);

    expect((await service('GET', '/v1/admin/conversations/SUPP-NOSUCH-0000')).body).toMatchObject({
      error: { code: 'NOT_FOUND' },
    });
    expect((await service('GET', '/v1/admin/conversations/not-an-id')).status).toBe(400);
  });

  it('gives the audit trail only to roles that may read the audit log', async () => {
    const conversation = await start();
    for (const [i, role] of ROLES.entries()) {
      const browser = await signInAs(gateway, {
        serviceToken: SERVICE_TOKEN,
        origin: ORIGIN,
        role,
        telegramUserId: 72_000 + i,
      });
      const response = await gateway.app.inject({
        method: 'GET',
        url: `/v1/admin/conversations/${conversation.id}`,
        cookies: browser.cookie,
      });
      expect(response.statusCode).toBe(200);
      const audit = response.json<{ audit: unknown[] | null }>().audit;
      expect({ role, audit: Array.isArray(audit) }).toEqual({
        role,
        audit: ['owner', 'admin', 'supervisor'].includes(role),
      });
    }
  });

  it('filters and pages the audit log, and exports it as CSV', async () => {
    const conversation = await start();
    for (let i = 0; i < 3; i++) await claim(conversation, { ...ALICE, telegramUserId: 73_000 + i });
    const filtered = await service(
      'GET',
      `/v1/admin/audit?conversationId=${conversation.id}&action=conversation.claim&limit=2`,
    );
    const entries = filtered.body['entries'] as Array<{ id: number; actor: { id: string } }>;
    expect(entries.map((e) => e.actor.id)).toEqual(['73002', '73001']);
    // A newer entry between the pages does not shift the next one.
    await claim(conversation, { ...ALICE, telegramUserId: 73_003 });
    const rest = await service(
      'GET',
      `/v1/admin/audit?conversationId=${conversation.id}&action=conversation.claim&limit=2&cursor=${filtered.body['nextCursor'] as string}`,
    );
    expect((rest.body['entries'] as typeof entries).map((e) => e.actor.id)).toEqual(['73000']);
    expect(rest.body['nextCursor']).toBeNull();
    const byActor = await service('GET', `/v1/admin/audit?actor=73001`);
    expect((byActor.body['entries'] as unknown[]).length).toBe(1);
    // The old `before` still pages.
    const before = await service('GET', `/v1/admin/audit?before=${entries[0]!.id}&limit=1`);
    expect((before.body['entries'] as typeof entries)[0]!.id).toBeLessThan(entries[0]!.id);

    for (const url of [
      `/v1/admin/audit.csv?conversationId=${conversation.id}`,
      `/v1/admin/audit?conversationId=${conversation.id}&format=csv`,
    ]) {
      const csv = await gateway.app.inject({
        method: 'GET',
        url,
        headers: { authorization: `Bearer ${SERVICE_TOKEN}` },
      });
      expect(csv.statusCode).toBe(200);
      expect(csv.headers['content-type']).toMatch(/^text\/csv/);
      const lines = csv.body.trimEnd().split('\r\n');
      expect(lines[0]).toBe('id,at,actor_type,actor_id,action,conversation_id,details');
      expect(lines.slice(1).filter((l) => l.includes(',conversation.claim,'))).toHaveLength(4);
      expect(lines.slice(1).every((l) => l.includes(conversation.id))).toBe(true);
    }
    const bad = await service('GET', '/v1/admin/audit.csv?cursor=nope');
    expect(bad.body).toMatchObject({ error: { code: 'INVALID_CURSOR' } });
  });

  it('pages agents, templates, groups, priority rules, dead letters and sessions by cursor', async () => {
    for (let i = 0; i < 3; i++)
      await service('PUT', `/v1/admin/agents/${74_000 + i}`, { displayName: `Pager ${i}` });
    await service('PUT', '/v1/admin/templates', [
      { key: 'reply.a', text: 'A' },
      { key: 'reply.b', text: 'B' },
      { key: 'reply.b', locale: 'de', text: 'B de' },
    ]);
    await service('PUT', '/v1/admin/groups/-1002000000002', {});
    await service('PUT', '/v1/admin/priority-rules', {
      rules: [
        { locale: 'fr', priority: 'high' },
        { locale: 'es', priority: 'low' },
      ],
    });
    const db = gateway.infra.database.db;
    for (let i = 0; i < 3; i++)
      await db
        .insertInto('dead_letters')
        .values({
          tenant_id: DEFAULT_TENANT_ID,
          topic: 'conversationSync',
          durable: 'sync',
          reason: 'test',
          deliveries: 5,
          error_code: 'TEST',
          error: `failure ${i}`,
          payload: '',
        })
        .execute();
    await signInAs(gateway, {
      serviceToken: SERVICE_TOKEN,
      origin: ORIGIN,
      role: 'viewer',
      telegramUserId: 74_100,
    });
    await signInAs(gateway, {
      serviceToken: SERVICE_TOKEN,
      origin: ORIGIN,
      role: 'viewer',
      telegramUserId: 74_101,
    });

    const lists: Array<[string, string, (item: Record<string, unknown>) => unknown]> = [
      ['/v1/admin/agents', 'agents', (a) => a['telegramUserId']],
      ['/v1/admin/templates', 'templates', (t) => `${String(t['key'])}/${String(t['locale'])}`],
      ['/v1/admin/groups', 'groups', (g) => g['chatId']],
      ['/v1/admin/priority-rules', 'rules', (r) => r['locale']],
      ['/v1/admin/dead-letters', 'deadLetters', (d) => d['id']],
      ['/v1/admin/sessions', 'sessions', (s) => s['id']],
    ];
    for (const [url, field, keyOf] of lists) {
      const whole = await service('GET', url);
      const everything = (whole.body[field] as Array<Record<string, unknown>>).map(keyOf);
      expect({ url, enough: everything.length >= 2 }).toEqual({ url, enough: true });
      expect(whole.body['nextCursor']).toBeNull();
      const paged: unknown[] = [];
      let cursor: string | null = null;
      do {
        const page = await service('GET', `${url}?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
        expect(page.status).toBe(200);
        paged.push(...(page.body[field] as Array<Record<string, unknown>>).map(keyOf));
        cursor = page.body['nextCursor'] as string | null;
      } while (cursor);
      expect({ url, paged }).toEqual({ url, paged: everything });
      // A well-formed cursor of another list.
      const other = Buffer.from('["another-list",1]').toString('base64url');
      const bad = await service('GET', `${url}?cursor=${other}`);
      expect({ url, body: bad.body }).toMatchObject({
        url,
        body: { error: { code: 'INVALID_CURSOR' } },
      });
    }
  });

  it('counts the overview: open, waiting, assigned, oldest wait, agents online with load, queue', async () => {
    const db = gateway.infra.database.db;
    await service('PUT', `/v1/admin/agents/${ALICE.telegramUserId}`, {
      displayName: ALICE.name,
      capacity: 4,
    });
    await db
      .updateTable('agents')
      .set({ presence: 'online' })
      .where('telegram_user_id', '=', ALICE.telegramUserId)
      .execute();
    const held = await start();
    const agent = await db
      .selectFrom('agents')
      .select('id')
      .where('telegram_user_id', '=', ALICE.telegramUserId)
      .executeTakeFirstOrThrow();
    await claim(held, { ...ALICE, agentId: agent.id });
    const open = await db
      .selectFrom('conversations')
      .select((eb) => [
        eb.fn.countAll<string>().as('open'),
        eb.fn.count<string>('claimed_by_telegram_user_id').as('assigned'),
        eb.fn.count<string>('claimed_by_agent_id').as('alice'),
      ])
      .where('status', '=', 'open')
      .executeTakeFirstOrThrow();

    const response = await service('GET', '/v1/console/overview');
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      open: Number(open.open),
      assigned: Number(open.assigned),
      waiting: Number(open.open) - Number(open.assigned),
      oldestWaitingSince: expect.any(String),
      slaBreachesToday: 0,
      agentsOnline: [
        {
          telegramUserId: ALICE.telegramUserId,
          displayName: ALICE.name,
          load: Number(open.alice),
          capacity: 4,
        },
      ],
      telegramQueue: { pendingMessages: expect.any(Number), pendingPosts: expect.any(Number) },
    });
    expect(response.body['oldestWaitSeconds']).toEqual(expect.any(Number));
    // Visitor messages never sent (no bridge here) are the Telegram queue.
    const pending = response.body['telegramQueue'] as { pendingMessages: number };
    expect(pending.pendingMessages).toBeGreaterThan(0);
  });

  it('streams the overview as events: at once, after each change (coalesced), heartbeats, and an end when the session ends', async () => {
    const address = await gateway.app.listen({ port: 0, host: '127.0.0.1' });
    const browser = await signInAs(gateway, {
      serviceToken: SERVICE_TOKEN,
      origin: ORIGIN,
      role: 'viewer',
      telegramUserId: 75_000,
    });
    const [name, value] = Object.entries(browser.cookie)[0]!;
    const response = await fetch(`${address}/v1/console/overview/stream`, {
      headers: { cookie: `${name}=${value}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = readEventStream(response.body!);
    const first = await events.next('overview');
    const opened = (first as { open: number }).open;

    await start();
    await events.until<{ open: number }>('overview', (o) => o.open === opened + 1);

    // Five changes at once: a snapshot or two, not five; the last one has them all.
    const before = events.count('overview');
    const began = Date.now();
    for (let i = 0; i < 5; i++) await start();
    await events.until<{ open: number }>('overview', (o) => o.open === opened + 6);
    expect(events.count('overview') - before).toBeLessThanOrEqual(3);
    expect(Date.now() - began).toBeLessThan(5_000);
    await events.waitFor(() => events.comments > 0);

    // Signing out ends the stream at the next heartbeat, with its reason.
    const signOut = await gateway.app.inject({
      method: 'POST',
      url: '/v1/console/sign-out',
      cookies: browser.cookie,
      headers: { origin: ORIGIN, 'x-csrf-token': browser.csrf },
    });
    expect(signOut.statusCode).toBe(200);
    expect(await events.next('end')).toMatchObject({ code: 'SESSION_INVALID' });
    await events.closed;

    // Every role may watch it (reports.read: the role table).
    for (const [i, role] of ROLES.entries()) {
      const signedIn = await signInAs(gateway, {
        serviceToken: SERVICE_TOKEN,
        origin: ORIGIN,
        role,
        telegramUserId: 75_100 + i,
      });
      const [cookieName, secret] = Object.entries(signedIn.cookie)[0]!;
      const opened = await fetch(`${address}/v1/console/overview/stream`, {
        headers: { cookie: `${cookieName}=${secret}` },
      });
      expect({ role, status: opened.status }).toEqual({ role, status: 200 });
      const watched = readEventStream(opened.body!);
      expect(await watched.next('overview')).toMatchObject({ open: expect.any(Number) });
      await watched.cancel();
    }

    // Without a session: refused before any stream.
    const refused = await fetch(`${address}/v1/console/overview/stream`);
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe(
      'TOKEN_MISSING',
    );
  });
});
