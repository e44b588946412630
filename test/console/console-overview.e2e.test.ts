import { readEventStream } from '@topicdesk/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admin } from '../support/agents';
import { agentSays, startCluster, topicOf, type Cluster } from '../support/cluster';

// The console's live overview across replicas: the stream is open on gateway A, the visitor
// starts a conversation through gateway B and an agent claims it in Telegram (the bridge's
// process). Each change is told on the tenant's activity channel (Redis), so A's stream shows
// both without a reload.

const SERVICE_TOKEN = 'service-token-for-the-overview-suite-0123';

interface OverviewEvent {
  open: number;
  waiting: number;
  assigned: number;
}

let cluster: Cluster;

beforeAll(async () => {
  cluster = await startCluster({ gateways: 2, bridges: 1, gatewayEnv: { SERVICE_TOKEN } });
}, 180_000);

afterAll(async () => {
  await cluster?.stop();
});

describe('the console overview, live across gateway replicas', () => {
  it('shows on replica A a conversation started through replica B, then its claim in Telegram', async () => {
    const [a, b] = cluster.gateways.map((g) => g.url) as [string, string];
    const stream = await fetch(`${a}/v1/console/overview/stream`, {
      headers: { authorization: `Bearer ${SERVICE_TOKEN}` },
    });
    expect(stream.status).toBe(200);
    const events = readEventStream(stream.body!);
    const first = (await events.next('overview')) as OverviewEvent;

    const started = await fetch(`${b}/v1/conversations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Olive Overview' }),
    });
    expect(started.status).toBe(201);
    const { conversationId, ticket } = (await started.json()) as {
      conversationId: string;
      ticket: string;
    };
    const shown = await events.until<OverviewEvent>(
      'overview',
      (o) => o.open === first.open + 1 && o.waiting === first.waiting + 1,
    );
    expect(shown.assigned).toBe(first.assigned);

    // A's list has it too, newest first.
    const listed = await admin(a, SERVICE_TOKEN, 'GET', '/v1/admin/conversations?limit=1');
    expect(listed.body).toMatchObject({ items: [{ id: conversationId, ticket, status: 'open' }] });

    // The claim is made by the bridge's process: A's stream hears it as well.
    agentSays(cluster.sandbox, await topicOf(cluster.sandbox, ticket), '/claim');
    const claimed = await events.until<OverviewEvent>(
      'overview',
      (o) => o.assigned === first.assigned + 1,
    );
    expect(claimed.waiting).toBe(first.waiting);
    await events.cancel();
    await events.closed;
  }, 60_000);
});
