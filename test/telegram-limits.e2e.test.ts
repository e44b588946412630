import { afterAll, beforeAll, expect, it } from 'vitest';
import { startConversation, VisitorClient } from '@topicdesk/testkit';
import { botTexts, startCluster, topicOf, type Cluster } from './support/cluster';

let cluster: Cluster;

beforeAll(async () => {
  cluster = await startCluster({
    gateways: 1,
    sandboxLimits: {
      enabled: true,
      perGroupPerMinute: 20,
      perChatPerSecond: 1,
      globalPerSecond: 30,
    },
  });
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
});

it('delivers a 25-message burst completely and in order under the group limit, provoking at most one 429', async () => {
  const conversation = await startConversation(cluster.gateways[0]!.url);
  const client = await VisitorClient.connect(cluster.gateways[0]!.url, conversation.token);
  const texts = Array.from({ length: 25 }, (_, i) => `limited ${String(i + 1).padStart(2, '0')}`);
  texts.forEach((text, i) => client.sendMessage(`l-${i}`, text));
  await client.waitUntil(() => client.of('ack').length === 25 || undefined, 20_000, '25 acks');

  const threadId = await topicOf(cluster.sandbox, conversation.ticket, 30_000);
  const delivered = await cluster.sandbox.state.waitFor(() => {
    const lines = botTexts(cluster.sandbox, threadId).flatMap((t) => t.split('\n\n'));
    return lines.length >= 25 ? lines : undefined;
  }, 90_000);
  expect(delivered).toEqual(texts);
  // Every visitor message is reported delivered to its sender.
  await client.waitUntil(
    () =>
      new Set(
        client
          .of('receipt')
          .filter((f) => f['state'] === 'delivered')
          .map((f) => f['seq']),
      ).size === 25 || undefined,
    10_000,
    '25 delivered receipts',
  );
  const tooMany = cluster.sandbox.state.calls().filter((c) => c.status === 429);
  expect(tooMany.length).toBeLessThanOrEqual(1);
  const sends = cluster.sandbox.state
    .calls({ method: 'sendMessage' })
    .filter((c) => c.status === 200);
  expect(sends.length).toBeGreaterThan(0);
  expect(sends.length).toBeLessThanOrEqual(20);
  await client.close();
});
