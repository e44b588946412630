import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConversation, type StartedConversation } from '@topicdesk/testkit';
import { AGENT, botTexts, GROUP_ID, startCluster, topicOf, type Cluster } from '../support/cluster';
import { eventually, ResumingVisitor } from './support';

let cluster: Cluster;
const visitors: ResumingVisitor[] = [];

interface Probe {
  status: number;
  ms: number;
  checks: Record<string, { ok: boolean; detail?: string }>;
}

async function readyz(url: string): Promise<Probe> {
  const started = performance.now();
  try {
    const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5000) });
    const body = (await response.json()) as { checks: Probe['checks'] };
    return { status: response.status, ms: performance.now() - started, checks: body.checks };
  } catch (error) {
    return {
      status: 0,
      ms: performance.now() - started,
      checks: { fetch: { ok: false, detail: String(error) } },
    };
  }
}

function services() {
  return [
    ...cluster.gateways.map((g, i) => ({ name: `gateway-${i}`, url: g.url })),
    { name: 'bridge', url: cluster.bridge.url },
    { name: 'scheduler', url: cluster.schedulers[0]!.url },
  ];
}

/** Polls /readyz of every service until each answers `status`; returns the last probes. */
async function allReady(status: 200 | 503, timeoutMs: number): Promise<Record<string, Probe>> {
  const probes = await eventually(
    async () =>
      Object.fromEntries(
        await Promise.all(services().map(async (s) => [s.name, await readyz(s.url)] as const)),
      ),
    (all) => Object.values(all).every((p) => p.status === status),
    timeoutMs,
  );
  for (const [name, probe] of Object.entries(probes))
    expect(probe.status, `${name}: ${JSON.stringify(probe.checks)}`).toBe(status);
  return probes;
}

beforeAll(async () => {
  cluster = await startCluster({
    gateways: 2,
    dependencyProxies: true,
    // The restart test sends more than Telegram's 20/min to the group; the sandbox has no limits.
    bridgeEnv: { TELEGRAM_LIMIT_GROUP_PER_MINUTE: '600' },
  });
}, 120_000);

afterAll(async () => {
  await Promise.allSettled(visitors.map((v) => v.close()));
  await cluster?.stop();
});

describe('/readyz follows the dependencies', () => {
  for (const [dependency, check] of [
    ['postgres', 'database'],
    ['nats', 'bus'],
    ['redis', 'redis'],
  ] as const) {
    it(`answers 503 on every service while ${dependency} is unreachable and 200 once it is back`, async () => {
      await allReady(200, 10_000);
      const proxy = cluster.dependencies![dependency];
      proxy.cut();
      try {
        const down = await allReady(503, 10_000);
        for (const [name, probe] of Object.entries(down)) {
          expect(probe.checks[check]?.ok, `${name}: ${JSON.stringify(probe.checks)}`).toBe(false);
          expect(probe.ms, name).toBeLessThan(2500);
        }
      } finally {
        proxy.restore();
      }
      await allReady(200, 30_000);
    });
  }

  it('answers 503 within its timeout while Postgres hangs, and 200 once it answers again', async () => {
    await allReady(200, 10_000);
    const proxy = cluster.dependencies!.postgres;
    proxy.stall();
    try {
      const down = await allReady(503, 10_000);
      for (const [name, probe] of Object.entries(down)) {
        expect(probe.checks['database']?.ok, `${name}: ${JSON.stringify(probe.checks)}`).toBe(
          false,
        );
        // The ping gives up after 1.5 s: the probe never waits for Postgres.
        expect(probe.ms, name).toBeLessThan(2500);
      }
    } finally {
      proxy.restore();
    }
    await allReady(200, 30_000);
  });
});

describe('rolling restart of the gateways', () => {
  it('loses no message and shows none twice while each replica in turn is stopped (SIGTERM) and started again', async () => {
    await allReady(200, 10_000);
    const urls = () => cluster.gateways.map((g) => g.url);
    const conversations: Array<{ started: StartedConversation; threadId: number }> = [];
    for (let i = 0; i < 2; i++) {
      const started = await startConversation(cluster.gateways[0]!.url, { name: `Roll ${i}` });
      conversations.push({ started, threadId: await topicOf(cluster.sandbox, started.ticket) });
    }
    // Both visitors start on replica 0, the one restarted first.
    for (const { started } of conversations) {
      const visitor = new ResumingVisitor(started.token, urls);
      visitors.push(visitor);
      await visitor.connect(0);
    }

    // Traffic both ways for the whole rollout: visitor messages and agent replies.
    let stop = false;
    const sent: string[][] = conversations.map(() => []);
    const agentSaid: string[][] = conversations.map(() => []);
    const traffic = (async () => {
      for (let n = 1; !stop; n++) {
        conversations.forEach(({ threadId }, i) => {
          const visitorText = `v${i}-${n}`;
          sent[i]!.push(visitorText);
          visitors[i]!.send(`c-${i}-${n}`, visitorText);
          const agentText = `a${i}-${n}`;
          agentSaid[i]!.push(agentText);
          cluster.sandbox.state.injectMessage({
            chatId: GROUP_ID,
            messageThreadId: threadId,
            text: agentText,
            from: AGENT,
          });
        });
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
    })();

    for (const gateway of cluster.gateways) {
      await new Promise((resolve) => setTimeout(resolve, 700));
      // SIGTERM: drains and exits 0; its visitors are told 1012 and move to the other replica.
      expect(await gateway.stop()).toBe(0);
      await new Promise((resolve) => setTimeout(resolve, 700));
      await gateway.start(60_000);
    }
    await new Promise((resolve) => setTimeout(resolve, 700));
    stop = true;
    await traffic;

    for (const [i, visitor] of visitors.entries()) {
      expect(visitor.closeCodes, `visitor ${i}`).toContain(1012);
      // In the end every visitor message is acked and every agent reply has arrived.
      await eventually(
        async () => visitor,
        (v) => v.unacked === 0 && v.entries('agent').length >= agentSaid[i]!.length,
        20_000,
      );
      expect(visitor.unacked, `visitor ${i} unacked`).toBe(0);
      // Seq 1..N with no gap, once each (the widget keeps one entry per seq) …
      const seqs = visitor.entries().map((e) => e.seq);
      expect(seqs).toEqual(seqs.map((_, k) => k + 1));
      // … holding each visitor message once and each agent reply once, both in the order sent.
      expect(visitor.entries('visitor').map((e) => e.text)).toEqual(sent[i]);
      expect(visitor.entries('agent').map((e) => e.text)).toEqual(agentSaid[i]);
    }

    // Telegram got every visitor message exactly once, in order (merged sends split apart).
    for (const [i, { threadId }] of conversations.entries()) {
      const delivered = await cluster.sandbox.state.waitFor(() => {
        const lines = botTexts(cluster.sandbox, threadId)
          .flatMap((t) => t.split('\n\n'))
          .filter((line) => line.startsWith(`v${i}-`));
        return lines.length >= sent[i]!.length ? lines : undefined;
      }, 30_000);
      expect(delivered).toEqual(sent[i]);
    }
  });
});
