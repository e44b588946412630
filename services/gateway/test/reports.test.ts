import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TENANT_ID, type DB, type Kysely } from '@topicdesk/core';
import { startGatewayUnderTest, type GatewayUnderTest } from './gateway-under-test';

const SERVICE_TOKEN = 'reports-test-service-token';
const LEVEL_2 = -1001000000002;
const ALICE = 111_111;
const BOB = 222_222;

/** Europe/Berlin is UTC+1 all December: 09:00–17:00 there is 08:00–16:00 UTC. */
const OFFICE = {
  timeZone: 'Europe/Berlin',
  weekly: Object.fromEntries(
    ['mon', 'tue', 'wed', 'thu', 'fri'].map((day) => [day, [{ from: '09:00', to: '17:00' }]]),
  ),
};

type Kind = 'visitor' | 'agent' | 'system';

/** The parts of a report's row the grouping checks read. */
interface Row {
  key: string | null;
  label: string | null;
  conversations: number;
  firstResponse: { avgSeconds: number | null };
  resolution: { avgSeconds: number | null };
  csat: unknown;
}
type Rows = { rows: Row[] };
interface Fixed {
  status: 'open' | 'closed';
  priority?: 'high' | 'normal' | 'low';
  closedAt?: string;
  groupChatId?: number;
  claimedBy?: { agentId: number; telegramUserId: number; name: string };
  messages: Array<[Kind, string, { agentId: number; name: string }?]>;
  rating?: { score: number; comment?: string };
}

/**
 * The fixed data set (2026-12-04 is a Friday). Hand-computed figures, in seconds:
 *
 * | conv | started (UTC)   | first response         | business (Berlin 9–17, Mon–Fri) | resolution          | business | replies        | rating |
 * | A    | Fri 14:30       | Mon 08:30 → 237,600    | Fri 15:30–17:00 + Mon 09:00–09:30 = 7,200 | Mon 09:30 → 241,200 | 10,800 | 237,600; 600 | 5 |
 * | B    | Mon 10:00       | 10:05 → 300            | 300                             | 10:20 → 1,200       | 1,200    | 300; 120       | 3 |
 * | C    | Sat 12:00 (L2)  | 12:10 → 600            | 0 (Saturday)                    | 12:30 → 1,800       | 0        | 600            | —  |
 * | D    | Sun 09:00       | —                      | —                               | open                | —        | —              | —  |
 * | E    | Nov 30 (outside the range)                                                                                           |
 */
const DATA: Record<string, Fixed> = {
  A: {
    status: 'closed',
    closedAt: '2026-12-07T09:30:00Z',
    claimedBy: { agentId: 0, telegramUserId: ALICE, name: 'Alice' },
    messages: [
      ['visitor', '2026-12-04T14:30:00Z'],
      // The welcome: a system message does not count as a response.
      ['system', '2026-12-04T14:30:01Z'],
      ['agent', '2026-12-07T08:30:00Z', { agentId: 0, name: 'Alice' }],
      // Two visitor messages, one wait: from the first of them.
      ['visitor', '2026-12-07T08:40:00Z'],
      ['visitor', '2026-12-07T08:45:00Z'],
      ['agent', '2026-12-07T08:50:00Z', { agentId: 0, name: 'Alice' }],
    ],
    rating: { score: 5 },
  },
  B: {
    status: 'closed',
    closedAt: '2026-12-07T10:20:00Z',
    messages: [
      ['visitor', '2026-12-07T10:00:00Z'],
      ['agent', '2026-12-07T10:05:00Z', { agentId: 1, name: 'Bob' }],
      ['visitor', '2026-12-07T10:10:00Z'],
      ['agent', '2026-12-07T10:12:00Z', { agentId: 1, name: 'Bob' }],
    ],
    rating: { score: 3, comment: 'slow, but fine' },
  },
  C: {
    status: 'closed',
    closedAt: '2026-12-05T12:30:00Z',
    groupChatId: LEVEL_2,
    claimedBy: { agentId: 0, telegramUserId: ALICE, name: 'Alice' },
    messages: [
      ['visitor', '2026-12-05T12:00:00Z'],
      ['agent', '2026-12-05T12:10:00Z', { agentId: 0, name: 'Alice' }],
    ],
  },
  // Low priority: no SLA targets below, so its open clock (which runs with the real time) is not read.
  D: { status: 'open', priority: 'low', messages: [['visitor', '2026-12-06T09:00:00Z']] },
  E: {
    status: 'closed',
    closedAt: '2026-11-30T12:00:00Z',
    messages: [
      ['visitor', '2026-11-30T10:00:00Z'],
      ['agent', '2026-11-30T10:01:00Z', { agentId: 1, name: 'Bob' }],
    ],
    rating: { score: 1 },
  },
};

async function seed(db: Kysely<DB>): Promise<void> {
  const agentIds: number[] = [];
  for (const [telegramUserId, name] of [
    [ALICE, 'Alice'],
    [BOB, 'Bob'],
  ] as const) {
    const now = new Date();
    const row = await db
      .insertInto('agents')
      .values({
        tenant_id: DEFAULT_TENANT_ID,
        telegram_user_id: telegramUserId,
        display_name: name,
        role: 'agent',
        created_at: now,
        updated_at: now,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    agentIds.push(row.id);
  }
  const now = new Date();
  await db
    .insertInto('support_groups')
    .values({
      tenant_id: DEFAULT_TENANT_ID,
      chat_id: LEVEL_2,
      level: 2,
      locales: '[]',
      created_at: now,
      updated_at: now,
    })
    .execute();
  for (const [name, c] of Object.entries(DATA)) {
    const id = crypto.randomUUID();
    const started = new Date(c.messages[0]![1]);
    await db
      .insertInto('conversations')
      .values({
        id,
        tenant_id: DEFAULT_TENANT_ID,
        ticket: `SUPP-REPORT-${name}`,
        channel: 'web',
        status: c.status,
        priority: c.priority ?? 'normal',
        group_chat_id: c.groupChatId ?? null,
        created_at: started,
        updated_at: started,
        last_activity_at: started,
        closed_at: c.closedAt ?? null,
        last_seq: c.messages.length,
        claimed_by_agent_id: c.claimedBy ? agentIds[c.claimedBy.agentId]! : null,
        claimed_by_telegram_user_id: c.claimedBy?.telegramUserId ?? null,
        claimed_by_name: c.claimedBy?.name ?? null,
      })
      .execute();
    await db
      .insertInto('messages')
      .values(
        c.messages.map(([kind, at, agent], i) => ({
          tenant_id: DEFAULT_TENANT_ID,
          conversation_id: id,
          seq: i + 1,
          kind,
          text: `${kind} ${i + 1}`,
          author_name: agent?.name ?? null,
          agent_id: agent ? agentIds[agent.agentId]! : null,
          delivery: 'none' as const,
          created_at: new Date(at),
        })),
      )
      .execute();
    if (c.rating)
      await db
        .insertInto('conversation_ratings')
        .values({
          conversation_id: id,
          tenant_id: DEFAULT_TENANT_ID,
          score: c.rating.score,
          comment: c.rating.comment ?? null,
          channel: 'web',
          created_at: new Date(c.closedAt!),
        })
        .execute();
  }
}

describe('admin API: reports and business hours', () => {
  let gateway: GatewayUnderTest;
  let app: FastifyInstance;

  beforeAll(async () => {
    gateway = await startGatewayUnderTest({ namespace: 'gateway-test', env: { SERVICE_TOKEN } });
    app = gateway.app;
    await seed(gateway.infra.database.db);
  });

  afterAll(async () => {
    await gateway?.close();
  });

  const call = async (
    method: 'GET' | 'PUT' | 'DELETE',
    url: string,
    options: { body?: unknown; accept?: string; token?: string | null } = {},
  ) => {
    const token = options.token === undefined ? SERVICE_TOKEN : options.token;
    return app.inject({
      method,
      url,
      headers: {
        ...(token === null ? {} : { authorization: `Bearer ${token}` }),
        ...(options.accept ? { accept: options.accept } : {}),
      },
      ...(options.body === undefined ? {} : { payload: options.body as Record<string, unknown> }),
    });
  };
  const RANGE = 'from=2026-12-04&to=2026-12-07';

  it('refuses reports and settings without the service token', async () => {
    expect((await call('GET', `/v1/admin/reports?${RANGE}`, { token: null })).statusCode).toBe(401);
    expect(
      (await call('PUT', '/v1/admin/settings/business-hours', { body: OFFICE, token: 'wrong' }))
        .statusCode,
    ).toBe(401);
  });

  it('counts every second while no business hours are set (24/7, UTC)', async () => {
    const hours = await call('GET', '/v1/admin/settings/business-hours');
    expect(hours.json()).toEqual({
      timeZone: 'UTC',
      alwaysOpen: true,
      weekly: null,
      updatedAt: null,
    });
    const response = await call('GET', `/v1/admin/reports?${RANGE}`);
    expect(response.statusCode).toBe(200);
    const report = response.json();
    // UTC dates: A (Fri), C (Sat), D (Sun), B (Mon); E is in November.
    expect(report.from).toBe('2026-12-04T00:00:00.000Z');
    expect(report.to).toBe('2026-12-08T00:00:00.000Z');
    expect(report.total.conversations).toBe(4);
    expect(report.total.firstResponse).toEqual({
      count: 3,
      avgSeconds: 79_500, // (237,600 + 300 + 600) / 3
      medianSeconds: 600,
      businessAvgSeconds: 79_500,
      businessMedianSeconds: 600,
    });
  });

  it('sets business hours, refusing overlaps and unknown zones, and audits the change', async () => {
    const bad = await call('PUT', '/v1/admin/settings/business-hours', {
      body: {
        timeZone: 'Mars/Olympus',
        weekly: {
          mon: [
            { from: '09:00', to: '12:00' },
            { from: '11:00', to: '17:00' },
          ],
        },
      },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('INVALID_REQUEST');
    expect(bad.json().error.details.issues).toEqual([
      expect.stringContaining('timeZone'),
      expect.stringContaining('weekly.mon'),
    ]);
    const saved = await call('PUT', '/v1/admin/settings/business-hours', { body: OFFICE });
    expect(saved.statusCode).toBe(200);
    expect(saved.json()).toMatchObject({
      timeZone: 'Europe/Berlin',
      alwaysOpen: false,
      weekly: { mon: [{ from: '09:00', to: '17:00' }], fri: [{ from: '09:00', to: '17:00' }] },
    });
    expect(saved.json().weekly.sat).toBeUndefined();
    const audit = await call('GET', '/v1/admin/audit');
    expect(audit.json().entries[0]).toMatchObject({ action: 'settings.business_hours' });
  });

  it('computes the figures of the fixed data set in business hours across a weekend', async () => {
    const report = (await call('GET', `/v1/admin/reports?${RANGE}`)).json();
    // Local dates in Berlin: 2026-12-04 00:00 to the end of 2026-12-07.
    expect(report.from).toBe('2026-12-03T23:00:00.000Z');
    expect(report.to).toBe('2026-12-07T23:00:00.000Z');
    expect(report.groupBy).toBeNull();
    expect(report.rows).toEqual([]);
    expect(report.total).toEqual({
      conversations: 4,
      firstResponse: {
        count: 3,
        avgSeconds: 79_500,
        medianSeconds: 600,
        businessAvgSeconds: 2_500, // (7,200 + 300 + 0) / 3
        businessMedianSeconds: 300,
      },
      resolution: {
        count: 3,
        avgSeconds: 81_400, // (241,200 + 1,200 + 1,800) / 3
        medianSeconds: 1_800,
        businessAvgSeconds: 4_000, // (10,800 + 1,200 + 0) / 3
      },
      replyTime: { count: 5, avgSeconds: 47_844 }, // (237,600 + 600 + 300 + 120 + 600) / 5
      csat: { surveys: 3, ratings: 2, positive: 1, score: 0.5, responseRate: 0.6667 },
      // No SLA targets yet: nothing measured.
      sla: {
        firstResponse: { measured: 0, met: 0, attainment: null },
        resolution: { measured: 0, met: 0, attainment: null },
      },
    });
  });

  it('groups by agent (claimed, else who answered first), by local day and by level', async () => {
    const byAgent = (await call('GET', `/v1/admin/reports?${RANGE}&groupBy=agent`)).json<Rows>();
    expect(
      byAgent.rows.map((r) => ({
        key: r.key,
        label: r.label,
        conversations: r.conversations,
        firstResponse: r.firstResponse.avgSeconds,
        csat: r.csat,
      })),
    ).toEqual([
      {
        key: String(ALICE),
        label: 'Alice',
        conversations: 2,
        firstResponse: 119_100, // (237,600 + 600) / 2
        csat: { surveys: 2, ratings: 1, positive: 1, score: 1, responseRate: 0.5 },
      },
      {
        key: String(BOB),
        label: 'Bob',
        conversations: 1,
        firstResponse: 300,
        csat: { surveys: 1, ratings: 1, positive: 0, score: 0, responseRate: 1 },
      },
      {
        key: null,
        label: null,
        conversations: 1,
        firstResponse: null,
        csat: { surveys: 0, ratings: 0, positive: 0, score: null, responseRate: null },
      },
    ]);
    const byDay = (await call('GET', `/v1/admin/reports?${RANGE}&groupBy=day`)).json<Rows>();
    expect(byDay.rows.map((r) => [r.key, r.conversations])).toEqual([
      ['2026-12-04', 1],
      ['2026-12-05', 1],
      ['2026-12-06', 1],
      ['2026-12-07', 1],
    ]);
    const byLevel = (await call('GET', `/v1/admin/reports?${RANGE}&groupBy=level`)).json<Rows>();
    expect(byLevel.rows.map((r) => [r.key, r.conversations, r.resolution.avgSeconds])).toEqual([
      ['1', 3, 121_200], // A and B: (241,200 + 1,200) / 2
      ['2', 1, 1_800],
    ]);
  });

  it('keeps SLA targets per priority, refusing bad ones, and audits the change', async () => {
    expect((await call('GET', '/v1/admin/settings/sla')).json()).toEqual({
      remindAtPercent: 80,
      targets: {},
      updatedAt: null,
    });
    for (const body of [
      { targets: { urgent: { firstResponseSeconds: 60 } } },
      { targets: { high: { firstResponseSeconds: 0 } } },
      { targets: { high: { businessHours: true } } },
      { targets: { high: { firstResponseSeconds: 1.5 } } },
      { remindAtPercent: 100, targets: {} },
      {},
    ]) {
      const refused = await call('PUT', '/v1/admin/settings/sla', { body });
      expect(refused.statusCode, JSON.stringify(body)).toBe(400);
      expect(refused.json().error.code).toBe('INVALID_REQUEST');
    }
    const saved = await call('PUT', '/v1/admin/settings/sla', {
      body: {
        targets: {
          normal: { firstResponseSeconds: 3600, resolutionSeconds: 7200, businessHours: true },
          high: { firstResponseSeconds: 300 },
        },
      },
    });
    expect(saved.statusCode).toBe(200);
    expect(saved.json()).toMatchObject({
      remindAtPercent: 80,
      targets: {
        normal: { firstResponseSeconds: 3600, resolutionSeconds: 7200, businessHours: true },
        high: { firstResponseSeconds: 300, resolutionSeconds: null, businessHours: false },
      },
    });
    expect((await call('GET', '/v1/admin/settings/sla')).json()).toEqual(saved.json());
    const audit = await call('GET', '/v1/admin/audit');
    expect(audit.json().entries[0]).toMatchObject({ action: 'sla.update' });
  });

  it('reports SLA attainment, in business hours where the targets say so', async () => {
    // Normal priority, 1 h to the first response and 2 h to the close, in Berlin business hours:
    // A waited 7,200 and was resolved in 10,800 business seconds (both breached); B (300, 1,200)
    // and C (0 and 0: a Saturday) met both. D is low priority, which has no targets.
    const report = (await call('GET', `/v1/admin/reports?${RANGE}&groupBy=agent`)).json<{
      rows: Array<{ key: string | null; sla: unknown }>;
      total: { sla: unknown };
    }>();
    expect(report.total.sla).toEqual({
      firstResponse: { measured: 3, met: 2, attainment: 0.6667 },
      resolution: { measured: 3, met: 2, attainment: 0.6667 },
    });
    expect(report.rows.map((r) => [r.key, r.sla])).toEqual([
      [
        String(ALICE),
        {
          firstResponse: { measured: 2, met: 1, attainment: 0.5 },
          resolution: { measured: 2, met: 1, attainment: 0.5 },
        },
      ],
      [
        String(BOB),
        {
          firstResponse: { measured: 1, met: 1, attainment: 1 },
          resolution: { measured: 1, met: 1, attainment: 1 },
        },
      ],
      [
        null,
        {
          firstResponse: { measured: 0, met: 0, attainment: null },
          resolution: { measured: 0, met: 0, attainment: null },
        },
      ],
    ]);

    // In calendar time, 500 s and 1,500 s: only B's 300 and 1,200 make it.
    await call('PUT', '/v1/admin/settings/sla', {
      body: {
        targets: { normal: { firstResponseSeconds: 500, resolutionSeconds: 1500 } },
      },
    });
    const calendar = (await call('GET', `/v1/admin/reports?${RANGE}`)).json();
    expect(calendar.total.sla).toEqual({
      firstResponse: { measured: 3, met: 1, attainment: 0.3333 },
      resolution: { measured: 3, met: 1, attainment: 0.3333 },
    });
    const csv = await call('GET', `/v1/admin/reports?${RANGE}`, { accept: 'text/csv' });
    const [header, total] = csv.body.trimEnd().split('\r\n');
    expect(header).toMatch(
      /,sla_first_response_measured,sla_first_response_met,sla_first_response_attainment,sla_resolution_measured,sla_resolution_met,sla_resolution_attainment$/,
    );
    expect(total).toMatch(/,3,1,0\.3333,3,1,0\.3333$/);
    // Back to no targets for the tests below.
    await call('PUT', '/v1/admin/settings/sla', { body: { targets: {} } });
  });

  it('answers CSV with Accept: text/csv, one row per group and the totals', async () => {
    const response = await call('GET', `/v1/admin/reports?${RANGE}&groupBy=level`, {
      accept: 'text/csv',
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(response.headers['content-disposition']).toMatch(/^attachment; filename="report-/);
    const lines = response.body.trimEnd().split('\r\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^key,label,conversations,first_response_count,/);
    expect(lines[3]).toBe(
      'total,,4,3,79500,600,2500,300,3,81400,1800,4000,5,47844,3,2,1,0.5,0.6667,0,0,,0,0,',
    );
  });

  it('refuses a bad range or grouping with INVALID_REQUEST', async () => {
    for (const query of [
      'to=2026-12-07',
      'from=2026-12-07&to=2026-12-04',
      'from=2025-01-01&to=2026-12-07',
      `${RANGE}&groupBy=team`,
      'from=yesterday&to=2026-12-07',
      `${RANGE}&groupBy=day&groupBy=agent`,
    ]) {
      const response = await call('GET', `/v1/admin/reports?${query}`);
      expect(response.statusCode, query).toBe(400);
      expect(response.json().error.code).toBe('INVALID_REQUEST');
    }
    // Instants with an offset are taken as they are.
    const exact = await call(
      'GET',
      '/v1/admin/reports?from=2026-12-07T00:00:00Z&to=2026-12-07T12:00:00%2B01:00',
    );
    expect(exact.json().total.conversations).toBe(1);
  });

  it('goes back to 24/7 on DELETE', async () => {
    const cleared = await call('DELETE', '/v1/admin/settings/business-hours');
    expect(cleared.json()).toMatchObject({ timeZone: 'UTC', alwaysOpen: true });
  });
});
