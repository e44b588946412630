import { afterAll, beforeAll, expect, it } from 'vitest';
import { startConversation, VisitorClient } from '@topicdesk/testkit';
import { GROUP_ID, startCluster, topicOf, type Cluster } from '../support/cluster';
import { schedulerClock } from '../support/scheduler-clock';
import { admin, ALICE, botPosted, botPosts, say } from '../support/agents';
import { eventually, scrape, total } from '../observability/support';

// SLAs: a reminder before the first-response target and the breach notice once it passed, each
// posted once to the topic although two schedulers run the job; the agent holding the
// conversation is mentioned; with SLA_AUTO_ESCALATE the breach moves it to L2, once. The
// schedulers' clock is moved forward (SCHEDULER_CLOCK_FILE).
const SERVICE_TOKEN = 'service-token-for-the-sla-suite-0123456789';
const SECOND = 1000;
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
      SLA_AUTO_ESCALATE: 'true',
      SUPPORT_GROUP_ID: String(GROUP_ID),
    },
  });
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
  clock.remove();
});

it('reminds before the first-response target and announces its breach once across two schedulers, mentioning the agent', async () => {
  const gateway = cluster.gateways[0]!.url;
  expect(
    (
      await admin(gateway, SERVICE_TOKEN, 'PUT', `/v1/admin/agents/${ALICE.id}`, {
        displayName: 'Alice M.',
      })
    ).status,
  ).toBe(200);
  const saved = await admin(gateway, SERVICE_TOKEN, 'PUT', '/v1/admin/settings/sla', {
    remindAtPercent: 80,
    targets: { normal: { firstResponseSeconds: 60, resolutionSeconds: 600 } },
  });
  expect(saved.status).toBe(200);

  const conversation = await startConversation(gateway);
  const visitor = await VisitorClient.connect(gateway, conversation.token);
  visitor.sendMessage('one', 'is anybody there?');
  await visitor.waitFor((f) => f.type === 'ack');
  const threadId = await topicOf(cluster.sandbox, conversation.ticket);
  say(cluster.sandbox, ALICE, '/claim', threadId);
  await botPosted(cluster.sandbox, threadId, 'Claimed by Alice M.');
  // The SLA's own posts (the escalation's post names the SLA too, and is counted apart).
  const slaPosts = () =>
    botPosts(cluster.sandbox, threadId).filter((t) => /^(⏳ SLA|🚨 SLA)/u.test(t));

  clock.set(30 * SECOND);
  await clock.settle();
  expect(slaPosts()).toEqual([]);

  // 80 % of 60 s: the reminder.
  clock.set(50 * SECOND);
  await botPosted(cluster.sandbox, threadId, '⏳ SLA');
  await clock.settle();
  expect(slaPosts()).toEqual([
    expect.stringMatching(
      new RegExp(
        `^⏳ SLA: ${conversation.ticket} first response due in \\d+ s \\(target 60 s, normal priority\\)\\.\\n👤 Alice M\\.$`,
      ),
    ),
  ]);

  clock.set(70 * SECOND);
  await botPosted(cluster.sandbox, threadId, '🚨 SLA breached');
  await clock.settle();
  expect(slaPosts()).toHaveLength(2);
  expect(slaPosts()[1]).toBe(
    `🚨 SLA breached: ${conversation.ticket} first response target (60 s, normal priority) has passed.\n👤 Alice M.`,
  );
  // Telegram notifies Alice: the post mentions her by user id.
  const breach = cluster.sandbox.state
    .messages({ chatId: GROUP_ID, threadId, fromBot: true })
    .find((m) => m.text?.startsWith('🚨'));
  const mention = breach?.message.entities?.find((e) => e.type === 'text_mention');
  expect(mention?.user?.id).toBe(ALICE.id);
  expect(breach!.text!.slice(mention!.offset, mention!.offset + mention!.length)).toBe('Alice M.');

  // One breach counted across both schedulers.
  const breaches = await eventually(
    async () => {
      let sum = 0;
      for (const scheduler of cluster.schedulers)
        sum +=
          total(await scrape(scheduler.url), 'topicdesk_sla_breaches_total', {
            target: 'first_response',
            priority: 'normal',
          }) ?? 0;
      return sum;
    },
    (sum) => sum === 1,
  );
  expect(breaches).toBe(1);
  // SLA_AUTO_ESCALATE: one level up, once, by the SLA job (one group: in place, level shown).
  await botPosted(cluster.sandbox, threadId, '⬆️ Escalated from L1 to L2 by the SLA job');
  await clock.settle();
  expect(
    botPosts(cluster.sandbox, threadId).filter((t) => t.startsWith('⬆️ Escalated')),
  ).toHaveLength(1);
  const audit = await admin(gateway, SERVICE_TOKEN, 'GET', '/v1/admin/audit?limit=500');
  const moves = (audit.body['entries'] as Array<{ action: string; details: unknown }>).filter(
    (e) => e.action === 'conversation.escalate',
  );
  expect(moves).toEqual([
    expect.objectContaining({ details: expect.objectContaining({ from: 1, to: 2, by: 'sla' }) }),
  ]);

  // Alice answers: the first-response clock is done; the resolution's reminder comes at 480 s.
  say(cluster.sandbox, ALICE, 'Hello, how can I help?', threadId);
  await visitor.waitFor((f) => f.type === 'message' && f['kind'] === 'agent');
  clock.set(490 * SECOND);
  await botPosted(cluster.sandbox, threadId, 'resolution due in');
  await clock.settle();
  expect(slaPosts()).toHaveLength(3);
  await visitor.close();
});
