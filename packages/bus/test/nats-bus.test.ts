import {
  AckPolicy,
  DiscardPolicy,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { cleanupNats, freePort, LocalServer, testInfra, uniqueName } from '@topicdesk/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  BusConsumerConflictError,
  BusUnavailableError,
  createNatsBus,
  topics,
  type Bus,
} from '../src/index';
import { describeBus } from './bus-suite';
import { collectingLogger, eventually, setupTracing, sync } from './fixtures';

const spans = setupTracing();

describeBus(
  'NATS',
  async () => {
    const namespace = uniqueName('bus');
    let raw: NatsConnection | undefined;
    return {
      createBus: (logger) =>
        createNatsBus({ servers: testInfra.natsUrl, namespace, name: 'bus-test', logger }),
      publishRaw: async (topic, payload) => {
        raw ??= await connect({ servers: testInfra.natsUrl });
        await jetstream(raw).publish(`${namespace}.${topic.subject}`, payload);
      },
      cleanup: async () => {
        await raw?.close();
        await cleanupNats(namespace);
      },
    };
  },
  spans,
);

describe('NATS bus on the server', () => {
  let namespace: string;
  let nc: NatsConnection;
  const buses: Bus[] = [];

  beforeEach(async () => {
    namespace = uniqueName('bus');
    nc = await connect({ servers: testInfra.natsUrl });
  });

  afterEach(async () => {
    await Promise.all(buses.splice(0).map((bus) => bus.close()));
    await nc.close();
    await cleanupNats(namespace);
  });

  async function bus(logger = collectingLogger()): Promise<Bus> {
    const created = await createNatsBus({ servers: testInfra.natsUrl, namespace, logger });
    buses.push(created);
    return created;
  }

  it('creates namespaced work-queue streams and durable consumers', async () => {
    const first = await bus();
    await first.consume(topics.conversationSync, async () => {}, {
      durable: 'bridge',
      maxAckPending: 8,
      ackWaitMs: 20_000,
      maxDeliver: 5,
    }).ready;
    const jsm = await jetstreamManager(nc);
    const stream = await jsm.streams.info(`${namespace}_SYNC`);
    expect(stream.config).toMatchObject({
      subjects: [`${namespace}.conversation.sync`],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      discard: DiscardPolicy.New,
      duplicate_window: 120_000_000_000,
      max_age: 7 * 24 * 3600 * 1_000_000_000,
    });
    const updates = await jsm.streams.info(`${namespace}_TELEGRAM_UPDATES`);
    expect(updates.config.subjects).toEqual([`${namespace}.telegram.update`]);
    const consumer = await jsm.consumers.info(`${namespace}_SYNC`, `${namespace}_bridge`);
    expect(consumer.config).toMatchObject({
      durable_name: `${namespace}_bridge`,
      ack_policy: AckPolicy.Explicit,
      filter_subject: `${namespace}.conversation.sync`,
      ack_wait: 20_000_000_000,
      max_ack_pending: 8,
      max_deliver: 6,
    });
  });

  it('updates the consumer when a replica starts with other settings', async () => {
    const first = await bus();
    await first.consume(topics.conversationSync, async () => {}, { durable: 'bridge' }).ready;
    const second = await bus();
    await second.consume(topics.conversationSync, async () => {}, {
      durable: 'bridge',
      maxAckPending: 4,
    }).ready;
    const jsm = await jetstreamManager(nc);
    const consumer = await jsm.consumers.info(`${namespace}_SYNC`, `${namespace}_bridge`);
    expect(consumer.config.max_ack_pending).toBe(4);
  });

  it('refuses, through ready, a second durable on a work queue from another replica', async () => {
    const first = await bus();
    await first.consume(topics.conversationSync, async () => {}, { durable: 'bridge' }).ready;
    const logger = collectingLogger();
    const second = await bus(logger);
    const consumption = second.consume(topics.conversationSync, async () => {}, {
      durable: 'intruder',
    });
    await expect(consumption.ready).rejects.toBeInstanceOf(BusConsumerConflictError);
    expect(second.health()).toMatchObject({ ok: false });
  });

  it('says in the log when a handler holds its slot for three ack waits without reporting work', async () => {
    const logger = collectingLogger();
    const consumer = await bus(logger);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    await consumer.consume(topics.conversationSync, () => held, {
      durable: 'stuck',
      maxAckPending: 1,
      ackWaitMs: 200,
    }).ready;
    await consumer.publish(topics.conversationSync, sync(1), { msgId: 'stuck-1' });
    const stuck = () =>
      logger.entries.filter(
        (e) =>
          e.message === 'handler still running without reporting work; it holds a consumer slot',
      );
    await eventually(() => expect(stuck().length).toBeGreaterThanOrEqual(1));
    expect(stuck()[0]?.fields).toMatchObject({
      durable: 'stuck',
      msgId: 'stuck-1',
      deliveryCount: 1,
    });
    release();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const after = stuck().length;
    await new Promise((resolve) => setTimeout(resolve, 900));
    expect(stuck().length).toBe(after);
  });

  it('rejects with BusUnavailableError when NATS cannot be reached', async () => {
    const port = await freePort();
    await expect(
      createNatsBus({ servers: `nats://127.0.0.1:${port}`, namespace }),
    ).rejects.toBeInstanceOf(BusUnavailableError);
  });
});

describe('NATS bus across a server restart', () => {
  let server: LocalServer;
  let bus: Bus | undefined;

  beforeEach(async () => {
    server = await LocalServer.nats();
  });

  afterEach(async () => {
    await bus?.close();
    await server.stop();
  });

  it('keeps consuming, and publishes again, after NATS restarts', async () => {
    const logger = collectingLogger();
    bus = await createNatsBus({ servers: server.url, namespace: 'restart', logger });
    const received: string[] = [];
    await bus.consume(
      topics.conversationSync,
      async ({ data }) => void received.push(data.conversationId),
      { durable: 'bridge' },
    ).ready;
    await bus.publish(topics.conversationSync, sync(1));
    await eventually(() => expect(received).toEqual(['c-1']));
    await acked(server.url, 'restart_SYNC', 'restart_bridge');

    await server.kill('SIGTERM');
    await eventually(() => expect(bus!.health().ok).toBe(false));
    expect(bus.health().detail).toMatch(/disconnected/);
    await server.start();
    await eventually(() => expect(bus!.health()).toEqual({ ok: true }), 15_000);

    await bus.publish(topics.conversationSync, sync(2));
    await eventually(() => expect(received).toEqual(['c-1', 'c-2']), 15_000);
    expect(logger.entries.map((e) => e.message)).toEqual(
      expect.arrayContaining(['disconnected from NATS', 'reconnected to NATS']),
    );
  });

  it('delivers at least once across a server crash: an unflushed ack means a redelivery', async () => {
    bus = await createNatsBus({
      servers: server.url,
      namespace: 'crash',
      logger: collectingLogger(),
    });
    const received: string[] = [];
    await bus.consume(
      topics.conversationSync,
      async ({ data }) => void received.push(data.conversationId),
      { durable: 'bridge', ackWaitMs: 1_000 },
    ).ready;
    await bus.publish(topics.conversationSync, sync(1));
    await eventually(() => expect(received).toEqual(['c-1']));
    // SIGKILL: the file store had not synced the ack yet, so c-1 may come back after ack_wait.
    await server.kill('SIGKILL');
    await server.start();
    await eventually(() => expect(bus!.health()).toEqual({ ok: true }), 15_000);
    await bus.publish(topics.conversationSync, sync(2));
    await eventually(() => expect(received).toContain('c-2'), 15_000);
    expect(new Set(received)).toEqual(new Set(['c-1', 'c-2']));
  });

  it('recreates its stream and consumer when the server comes back without its store', async () => {
    const logger = collectingLogger();
    bus = await createNatsBus({ servers: server.url, namespace: 'fresh', logger });
    const received: string[] = [];
    await bus.consume(
      topics.conversationSync,
      async ({ data }) => void received.push(data.conversationId),
      { durable: 'bridge' },
    ).ready;
    await server.kill();
    await server.wipe();
    await server.start();
    await eventually(() => expect(bus!.health()).toEqual({ ok: true }), 15_000);
    // Publishing first: the stream is recreated by whichever side notices first.
    await bus.publish(topics.conversationSync, sync(3));
    await eventually(() => expect(received).toEqual(['c-3']), 40_000);
    expect(logger.entries.map((e) => e.message)).toContain('consumer running again');
  }, 60_000);
});

/** Waits until the server has recorded the acks of everything the consumer was given. */
async function acked(servers: string, stream: string, durable: string): Promise<void> {
  const nc = await connect({ servers });
  try {
    const jsm = await jetstreamManager(nc);
    for (let i = 0; i < 100; i++) {
      const info = await jsm.consumers.info(stream, durable);
      if (info.num_ack_pending === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`${durable} still has unacknowledged messages`);
  } finally {
    await nc.close();
  }
}
