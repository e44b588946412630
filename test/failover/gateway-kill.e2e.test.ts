import { afterAll, beforeAll, expect, it } from 'vitest';
import { ReconnectingVisitor, startConversation, type ServiceProcess } from '@topicdesk/testkit';
import { startCluster, type Cluster } from '../support/cluster';

// Two gateway replicas behind the round-robin load balancer, 1,000 visitors connected through
// it (about half on each), and one replica killed with SIGKILL: every visitor of the dead
// replica reconnects to the other and resumes by seq, and within 10 s every visitor holds every
// message of its conversation, once each, with no gap.

const VISITORS = 1_000;
const RECOVERY_BUDGET_MS = 10_000;

// Only the recovery after the kill is held to 10 s. The phases before it (1,000 conversations,
// 2,000 sockets, two rounds of 1,000 messages) get generous time: on a loaded machine they
// slowed down past a 30 s wait in two CI runs that shared the machine with benchmarks, one of
// which took every Postgres connection the server allows (so stores failed with UNAVAILABLE,
// which the second tabs now retry as the docs tell a client to).
const SETUP_MS = 60_000;

let cluster: Cluster;
const visitors: ReconnectingVisitor[] = [];
const tabs: ReconnectingVisitor[] = [];

beforeAll(async () => {
  cluster = await startCluster({
    gateways: 2,
    proxy: true,
    gatewayEnv: { LIMIT_CONVERSATIONS_PER_DAY: String(VISITORS * 2), LOG_LEVEL: 'warn' },
    bridgeEnv: { LOG_LEVEL: 'warn' },
  });
}, 120_000);

afterAll(async () => {
  await Promise.allSettled([...visitors, ...tabs].map((v) => v.stop()));
  await cluster?.stop();
});

/** Where the visitors stand, for a failure message. */
function state(): string {
  const behind = visitors.filter((v, i) => !v.connected || v.lastSeq < (tabs[i]?.lastSeq ?? 0));
  return JSON.stringify({
    disconnected: visitors.filter((v) => !v.connected).length,
    lastSeqs: [...new Set(visitors.map((v) => v.lastSeq))],
    unackedTabs: tabs.filter((t) => t.unacked > 0).length,
    tabErrors: tabs.flatMap((t) => t.errors).slice(0, 3),
    sample: behind.slice(0, 2).map((v) => ({ r: [...v.received], c: v.closeCodes, e: v.errors })),
  });
}

/** Runs `task` over `items`, at most `concurrency` at a time. */
async function inBatches<T, R>(
  items: readonly T[],
  concurrency: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await task(items[index]!, index);
      }
    }),
  );
  return results;
}

async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms: ${what}; ${state()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

it(
  `recovers ${VISITORS} visitors by seq within 10 s when a gateway replica is killed`,
  async () => {
    const lb = cluster.proxy!;
    const [victim, survivor] = cluster.gateways as [ServiceProcess, ServiceProcess];
    const t0 = performance.now();
    const phase = (name: string) =>
      console.log(`[gateway-kill] ${name} at ${Math.round(performance.now() - t0)} ms`);
    // This is about the gateways: with the bridge away, nothing but them works on these
    // conversations (their sync events wait in JetStream), so timings are the gateways' own.
    await cluster.bridge.stop();

    const started = await inBatches(
      Array.from({ length: VISITORS }, (_, i) => i),
      25,
      (i) => startConversation(lb.url, { name: `Visitor ${i}` }),
    );
    phase('conversations started');

    // The visitors under test, through the load balancer: about half land on each replica.
    for (const conversation of started) {
      visitors.push(new ReconnectingVisitor({ url: lb.url, token: conversation.token }));
    }
    await inBatches(visitors, 50, (visitor) => visitor.start());
    const onVictim = lb.connections(/\/v1\/ws/).filter((c) => c.upstream === 0).length;
    expect(lb.connections(/\/v1\/ws/)).toHaveLength(VISITORS);
    expect(onVictim).toBeGreaterThan(VISITORS / 4);
    // Each conversation's second tab, straight on the replica that survives: its messages are what
    // the visitors receive (a `message` frame on every other socket of the conversation).
    for (const conversation of started) {
      tabs.push(
        new ReconnectingVisitor({
          url: survivor.url,
          token: conversation.token,
          retryUnavailableMs: 500,
        }),
      );
    }
    await inBatches(tabs, 50, (tab) => tab.start());
    phase('visitors and second tabs connected');

    const round = (label: string) =>
      tabs.forEach((tab, i) => tab.send(`${label}-${i}`, `${label} from the second tab`));
    /** Every visitor is connected and holds the message its second tab sent in that round. */
    const everyoneHolds = (label: string) =>
      visitors.every((visitor, i) => {
        const seq = tabs[i]!.acks.get(`${label}-${i}`);
        return seq !== undefined && visitor.connected && visitor.lastSeq >= seq;
      });

    round('before');
    await waitFor(() => everyoneHolds('before'), SETUP_MS, 'round 1 delivered to every visitor');
    phase('round 1 delivered');

    // The victim hangs first, so that what is stored now is missed by its visitors and must be
    // recovered by seq (visitors on the survivor get it live); then it dies without a word.
    victim.pause();
    round('during');
    await waitFor(() => tabs.every((t) => t.unacked === 0), SETUP_MS, 'round 2 stored');
    phase('round 2 stored');
    const killedAt = performance.now();
    await victim.kill();

    await waitFor(
      () => everyoneHolds('during'),
      RECOVERY_BUDGET_MS,
      'every visitor recovered round 2',
    );
    const recoveredMs = performance.now() - killedAt;
    console.log(
      `[gateway-kill] ${onVictim} visitors moved to the other replica; all ${VISITORS} held ` +
        `every message ${Math.round(recoveredMs)} ms after the kill`,
    );
    expect(recoveredMs).toBeLessThan(RECOVERY_BUDGET_MS);

    const moved = visitors.filter((v) => v.connects > 1);
    expect(moved).toHaveLength(onVictim);
    for (const visitor of moved) {
      // Dropped without a close frame (1006); an attempt the load balancer sent to the dead
      // replica before it noticed is dropped too, and simply tried again.
      expect(new Set(visitor.closeCodes)).toEqual(new Set([1006]));
      expect(visitor.connects).toBe(2);
    }
    for (const visitor of visitors) {
      expect(visitor.duplicates).toEqual([]);
      expect(visitor.gaps).toEqual([]);
      expect(visitor.errors).toEqual([]);
    }

    // Live delivery goes on from the surviving replica.
    round('after');
    await waitFor(() => everyoneHolds('after'), SETUP_MS, 'round 4 delivered to every visitor');
    phase('round 4 delivered');
    // In the end each visitor holds exactly what its second tab holds: every seq, once.
    await waitFor(
      () => visitors.every((visitor, i) => visitor.lastSeq === tabs[i]!.lastSeq),
      10_000,
      'visitors and second tabs agree',
    );
    for (const visitor of visitors) {
      expect(visitor.duplicates).toEqual([]);
      expect(visitor.gaps).toEqual([]);
    }
  },
  // Bounded by the waits above; a run on a quiet machine takes about 30 s.
  5 * SETUP_MS,
);
