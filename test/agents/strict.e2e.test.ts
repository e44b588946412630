import { afterAll, beforeAll, expect, it } from 'vitest';
import { startConversation, VisitorClient } from '@topicdesk/testkit';
import { startCluster, topicOf, type Cluster } from '../support/cluster';
import { admin, ALICE, BOB, botPosted, say } from '../support/agents';

const SERVICE_TOKEN = 'service-token-for-the-strict-suite-0123456789';
let cluster: Cluster;

beforeAll(async () => {
  cluster = await startCluster({
    gateways: 1,
    schedulers: 0,
    gatewayEnv: { SERVICE_TOKEN },
    bridgeEnv: { ALLOW_UNKNOWN_AGENTS: 'false', REQUIRE_CLAIM: 'true' },
  });
  await admin(cluster.gateways[0]!.url, SERVICE_TOKEN, 'PUT', `/v1/admin/agents/${ALICE.id}`, {
    displayName: 'Alice',
  });
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
});

it('refuses members who are not agents, and asks agents to claim before anything reaches the visitor', async () => {
  const gateway = cluster.gateways[0]!.url;
  const conversation = await startConversation(gateway);
  const visitor = await VisitorClient.connect(gateway, conversation.token);
  visitor.sendMessage('one', 'hello?');
  await visitor.waitFor((f) => f.type === 'ack');
  const threadId = await topicOf(cluster.sandbox, conversation.ticket);

  say(cluster.sandbox, BOB, 'I am not an agent but I answer anyway', threadId);
  await botPosted(cluster.sandbox, threadId, 'Only registered agents can answer visitors here');
  say(cluster.sandbox, BOB, '/claim', threadId);
  await botPosted(
    cluster.sandbox,
    threadId,
    'Only registered agents can answer visitors here',
    10_000,
  );

  say(cluster.sandbox, ALICE, 'answer before claiming', threadId);
  await botPosted(cluster.sandbox, threadId, 'Claim this conversation first');
  say(cluster.sandbox, ALICE, '/claim', threadId);
  await botPosted(cluster.sandbox, threadId, 'Claimed by Alice.');
  say(cluster.sandbox, ALICE, 'answer after claiming', threadId);
  const reply = await visitor.waitFor((f) => f.type === 'message' && f['kind'] === 'agent');
  expect(reply).toMatchObject({ text: 'answer after claiming', author: 'Alice' });
  await new Promise((r) => setTimeout(r, 500));
  const seen = JSON.stringify(visitor.frames);
  expect(seen).not.toContain('not an agent');
  expect(seen).not.toContain('before claiming');

  // A deactivated agent is refused as well.
  await admin(gateway, SERVICE_TOKEN, 'DELETE', `/v1/admin/agents/${ALICE.id}`);
  say(cluster.sandbox, ALICE, 'after deactivation', threadId);
  await botPosted(cluster.sandbox, threadId, 'inactive');
  const audit = await admin(gateway, SERVICE_TOKEN, 'GET', '/v1/admin/audit');
  const actions = (audit.body['entries'] as Array<{ action: string }>).map((e) => e.action);
  expect(actions).toEqual(
    expect.arrayContaining(['agent.upsert', 'agent.deactivate', 'conversation.claim']),
  );
  await visitor.close();
});

it('guards the admin API with the service token and validates its bodies', async () => {
  const gateway = cluster.gateways[0]!.url;
  expect((await admin(gateway, 'wrong-token', 'GET', '/v1/admin/agents')).body).toMatchObject({
    error: { code: 'TOKEN_INVALID' },
  });
  const missing = await fetch(`${gateway}/v1/admin/templates`);
  expect(missing.status).toBe(401);
  const bad = await admin(gateway, SERVICE_TOKEN, 'PUT', '/v1/admin/templates', {
    key: 'Bad Key!',
    text: '',
  });
  expect(bad.status).toBe(400);
  expect(bad.body).toMatchObject({ error: { code: 'INVALID_REQUEST' } });
  const agents = await admin(gateway, SERVICE_TOKEN, 'GET', '/v1/admin/agents');
  expect(agents.body['agents']).toEqual([
    expect.objectContaining({ telegramUserId: ALICE.id, displayName: 'Alice', active: false }),
  ]);
});
