import type { AddressInfo } from 'node:net';
import { activityChannel, DEFAULT_TENANT_ID, type DB, type Kysely } from '@topicdesk/core';
import { testInfra, uniqueName } from '@topicdesk/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectVisitor, startGatewayUnderTest, type GatewayUnderTest } from './gateway-under-test';

/** Calls by name ("quotas.hit", "bus.publish"…), and what Postgres was sent. */
interface Tally {
  calls: Map<string, number>;
  /** Statements Postgres ran, BEGIN and COMMIT included. */
  statements: number;
  /** Commits: a transaction's COMMIT, or a statement sent outside a transaction. */
  commits: number;
}

function call(tally: Tally, name: string): void {
  tally.calls.set(name, (tally.calls.get(name) ?? 0) + 1);
}

/**
 * `target` with each method call counted under `prefix.method` (run on the target itself); a
 * PUBLISH on the console's activity channel (at most one per 250 ms, not one per message) is
 * counted apart, as `prefix.activity`.
 */
function counted<T extends object>(target: T, prefix: string, tally: Tally): T {
  return new Proxy(target, {
    get(object, key) {
      const value: unknown = Reflect.get(object, key, object);
      if (typeof value !== 'function' || typeof key !== 'string') return value;
      return (...args: unknown[]) => {
        const activity = key === 'publish' && args[0] === activityChannel(DEFAULT_TENANT_ID);
        call(tally, `${prefix}.${activity ? 'activity' : key}`);
        return (value as (...a: unknown[]) => unknown).apply(object, args);
      };
    },
  });
}

/**
 * The database handle with every compiled statement counted: one sent outside a transaction
 * is a commit of its own; a transaction adds its BEGIN and COMMIT (a rollback would count as a
 * commit too: none happens here).
 */
function countedDb(db: Kysely<DB>, tally: Tally): Kysely<DB> {
  const seeing = (commits: boolean) =>
    db.withPlugin({
      transformQuery: ({ node }) => {
        tally.statements += 1;
        if (commits) tally.commits += 1;
        return node;
      },
      transformResult: ({ result }) => Promise.resolve(result),
    });
  const inside = seeing(false);
  const outside = seeing(true);
  outside.transaction = () => {
    tally.statements += 2;
    tally.commits += 1;
    return inside.transaction();
  };
  return outside;
}

const MESSAGES = 10;

// Issue 13, the gateway's round trips per visitor message, counted rather than timed (so they
// hold on a loaded machine): the gateway in process with real Postgres, Redis and NATS, a
// visitor's socket sending texts one after another, each waited for until its ack. Before
// migration 0021 a text took 5 Postgres statements (BEGIN, the row lock, the append, the
// outbox rows, COMMIT) and 1 commit; now it is one statement (a function of the database) and
// its commit. Redis: the quota's hit and the fanout's PUBLISH; NATS: the sync's publish.
describe('round trips of a visitor message through the gateway', () => {
  let gateway: GatewayUnderTest;
  let url: string;
  const tally: Tally = { calls: new Map(), statements: 0, commits: 0 };
  const reset = () => Object.assign(tally, { calls: new Map(), statements: 0, commits: 0 });

  beforeAll(async () => {
    gateway = await startGatewayUnderTest({
      namespace: uniqueName('gw-rt'),
      natsUrl: testInfra.natsUrl,
      redisUrl: testInfra.redisUrl,
      // Longer than the test: the rows published are deleted together when the relay stops.
      flushDelayMs: 60_000,
      instrument: ({ db, bus, coordination }) => ({
        db: countedDb(db, tally),
        bus: counted(bus, 'bus', tally),
        coordination: {
          ...coordination,
          quotas: counted(coordination.quotas, 'quotas', tally),
          fanout: counted(coordination.fanout, 'fanout', tally),
        },
      }),
    });
    await gateway.app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(gateway.app.server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await gateway?.close();
  });

  it('stores each text in one statement and one commit, with one quota hit, one PUBLISH and one bus publish', async () => {
    const started = await gateway.app.inject({ method: 'POST', url: '/v1/conversations' });
    const { conversationId, token } = started.json<{ conversationId: string; token: string }>();
    const socket = await connectVisitor(url, token);
    await socket.next('status');
    const send = async (clientId: string) => {
      socket.ws.send(JSON.stringify({ type: 'message', clientId, text: `text ${clientId}` }));
      return socket.next('ack');
    };
    // The first comes with the welcome: a transaction of its own (the template's reads too).
    await send('first');
    await expect.poll(() => tally.calls.get('fanout.publish')).toBe(2);
    reset();

    const sendingSince = Date.now();
    for (let i = 0; i < MESSAGES; i++) await send(`m${i}`);
    // The publishes do not hold the ack back: wait for the last one.
    await expect.poll(() => tally.calls.get('fanout.publish')).toBe(MESSAGES);
    const sendingMs = Date.now() - sendingSince;
    expect({ statements: tally.statements, commits: tally.commits }).toEqual({
      statements: MESSAGES,
      commits: MESSAGES,
    });
    const { 'fanout.activity': activity = 0, ...perMessage } = Object.fromEntries(tally.calls);
    expect(perMessage).toEqual({
      'quotas.hit': MESSAGES,
      'fanout.publish': MESSAGES,
      'bus.publish': MESSAGES,
    });
    // The console's activity signal: one per 250 ms at most, one more at the end.
    expect(activity).toBeLessThanOrEqual(Math.ceil(sendingMs / 250) + 1);

    // The published rows, two per text, go in one delete when the relay stops.
    reset();
    await gateway.relay.stop();
    expect({ statements: tally.statements, commits: tally.commits }).toEqual({
      statements: 1,
      commits: 1,
    });
    const left = await gateway.infra.database.db
      .selectFrom('outbox')
      .select('id')
      .where('topic', 'in', [conversationId, 'conversationSync'])
      .execute();
    expect(left).toEqual([]);
    const history = await gateway.conversations.history(DEFAULT_TENANT_ID, conversationId, 0, 100);
    expect(history.filter((m) => m.kind === 'visitor').map((m) => m.client_id)).toEqual([
      'first',
      ...Array.from({ length: MESSAGES }, (_, i) => `m${i}`),
    ]);
    socket.ws.close();
  });
});
