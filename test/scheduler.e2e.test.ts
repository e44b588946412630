import { afterAll, beforeAll, expect, it } from 'vitest';
import { startConversation, VisitorClient } from '@topicdesk/testkit';
import { GROUP_ID, startCluster, topicOf, type Cluster } from './support/cluster';

let cluster: Cluster;

beforeAll(async () => {
  cluster = await startCluster({
    gateways: 1,
    schedulers: 2,
    schedulerEnv: { AUTO_CLOSE_AFTER: '4s', SCHEDULER_INTERVAL: '300ms' },
  });
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
});

it('auto-closes an idle conversation exactly once across two schedulers: status frame, history note, closed topic', async () => {
  const conversation = await startConversation(cluster.gateways[0]!.url);
  const client = await VisitorClient.connect(cluster.gateways[0]!.url, conversation.token);
  client.sendMessage('s-1', 'anyone there?');
  await client.waitFor((f) => f.type === 'ack');
  const threadId = await topicOf(cluster.sandbox, conversation.ticket);

  const status = await client.waitFor(
    (f) => f.type === 'status' && f['status'] === 'closed',
    20_000,
  );
  expect(status).toMatchObject({ status: 'closed' });
  await cluster.sandbox.state.waitFor(
    () => cluster.sandbox.state.topics(GROUP_ID).find((t) => t.threadId === threadId && t.closed),
    10_000,
  );
  await new Promise((r) => setTimeout(r, 2000));

  const history = (await (
    await fetch(
      `${cluster.gateways[0]!.url}/v1/conversations/${conversation.conversationId}/messages`,
      {
        headers: { authorization: `Bearer ${conversation.token}` },
      },
    )
  ).json()) as { status: string; messages: Array<{ kind: string }> };
  expect(history.status).toBe('closed');
  expect(history.messages.filter((m) => m.kind === 'system')).toHaveLength(1);
  expect(client.of('status').filter((f) => f['status'] === 'closed')).toHaveLength(1);
  expect(
    cluster.sandbox.state.calls({ method: 'closeForumTopic' }).filter((c) => c.status === 200),
  ).toHaveLength(1);

  // A closed conversation refuses new visitor messages with a stable code.
  client.sendMessage('s-2', 'late');
  expect(await client.waitFor((f) => f.type === 'error')).toMatchObject({
    code: 'CONVERSATION_CLOSED',
  });
  await client.close();
});
