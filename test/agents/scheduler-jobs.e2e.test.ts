import { afterAll, beforeAll, expect, it } from 'vitest';
import { startConversation, VisitorClient } from '@topicdesk/testkit';
import { GROUP_ID, startCluster, topicOf, type Cluster } from '../support/cluster';
import { schedulerClock } from '../support/scheduler-clock';
import { admin, botPosts } from '../support/agents';

const SERVICE_TOKEN = 'service-token-for-the-scheduler-suite-0123';
const MINUTE = 60_000;
const DAY = 86_400_000;
const clock = schedulerClock();
let cluster: Cluster;

beforeAll(async () => {
  cluster = await startCluster({
    gateways: 1,
    schedulers: 2,
    gatewayEnv: { SERVICE_TOKEN },
    schedulerEnv: {
      SCHEDULER_CLOCK_FILE: clock.file,
      SCHEDULER_INTERVAL: '200ms',
      UNCLAIMED_REMINDERS: '5m,15m',
      AUTO_CLOSE_AFTER: '24h',
      RETENTION_DAYS: '90',
      RETENTION_TOPIC_POLICY: 'delete',
    },
  });
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
  clock.remove();
});

it('runs each reminder, the auto-close and the retention purge exactly once across two schedulers', async () => {
  const gateway = cluster.gateways[0]!.url;
  const conversation = await startConversation(gateway);
  const visitor = await VisitorClient.connect(gateway, conversation.token);
  visitor.sendMessage('one', 'is anybody there?');
  await visitor.waitFor((f) => f.type === 'ack');
  const threadId = await topicOf(cluster.sandbox, conversation.ticket);
  const reminders = () =>
    cluster.sandbox.state
      .messages({ chatId: GROUP_ID, threadId, fromBot: true })
      .filter((m) => m.text?.startsWith('⏰'));

  clock.set(4 * MINUTE);
  await clock.settle();
  expect(reminders()).toHaveLength(0);

  clock.set(6 * MINUTE);
  await cluster.sandbox.state.waitFor(() => reminders().length === 1);
  await clock.settle();
  expect(reminders().map((m) => [m.text, m.pinned])).toEqual([
    [`⏰ ${conversation.ticket} has waited 5 min without an agent. /claim it?`, false],
  ]);

  clock.set(16 * MINUTE);
  await cluster.sandbox.state.waitFor(() => reminders().length === 2);
  await clock.settle();
  expect(reminders().map((m) => m.pinned)).toEqual([false, true]);
  expect(reminders()[1]?.text).toContain('15 min');

  clock.set(25 * 60 * MINUTE);
  await visitor.waitFor((f) => f.type === 'status' && f['status'] === 'closed', 15_000);
  await cluster.sandbox.state.waitFor(
    () => cluster.sandbox.state.topics(GROUP_ID).find((t) => t.threadId === threadId)?.closed,
  );
  await clock.settle();
  expect(visitor.of('status').filter((f) => f['status'] === 'closed')).toHaveLength(1);
  expect(
    botPosts(cluster.sandbox, threadId).filter((t) => t.includes('period of inactivity')),
  ).toHaveLength(1);
  expect(
    cluster.sandbox.state.calls({ method: 'closeForumTopic' }).filter((c) => c.status === 200),
  ).toHaveLength(1);

  clock.set(92 * DAY);
  await cluster.sandbox.state.waitFor(
    () => cluster.sandbox.state.calls({ method: 'deleteForumTopic' }).some((c) => c.status === 200),
    15_000,
  );
  await clock.settle();
  expect(cluster.sandbox.state.calls({ method: 'deleteForumTopic' })).toHaveLength(1);
  const gone = await fetch(`${gateway}/v1/conversations/${conversation.conversationId}/messages`, {
    headers: { authorization: `Bearer ${conversation.token}` },
  });
  expect(gone.status).toBe(404);

  const audit = await admin(gateway, SERVICE_TOKEN, 'GET', '/v1/admin/audit?limit=500');
  const actions = (
    audit.body['entries'] as Array<{ action: string; conversationId: string | null }>
  ).filter((e) => e.conversationId === conversation.conversationId);
  expect(actions.filter((e) => e.action === 'conversation.close')).toHaveLength(1);
  expect(actions.filter((e) => e.action === 'conversation.purge')).toHaveLength(1);
  await visitor.close();
});
