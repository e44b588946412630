import { metrics } from '@opentelemetry/api';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { cleanupNats, testInfra, uniqueName } from '@topicdesk/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNatsBus, topics, type Bus } from '../src/index';
import { collectingLogger, eventually, sleep, sync } from './fixtures';

/** A pull reader: collect() on demand, as a Prometheus scrape does. */
class TestReader extends MetricReader {
  protected override async onShutdown(): Promise<void> {}
  protected override async onForceFlush(): Promise<void> {}
}

const reader = new TestReader();
metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));

/** Gauge values by durable for one metric name. */
async function gauge(name: string): Promise<Record<string, number>> {
  const { resourceMetrics } = await reader.collect();
  const values: Record<string, number> = {};
  for (const scope of resourceMetrics.scopeMetrics)
    for (const metric of scope.metrics)
      if (metric.descriptor.name === name)
        for (const point of metric.dataPoints)
          values[String(point.attributes['durable'])] = Number(point.value);
  return values;
}

/** Polls an async check until it stops throwing, or rethrows when the time is up. */
async function eventuallyAsync(check: () => Promise<void>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(50);
    }
  }
}

describe('NATS consumer gauges', () => {
  const namespace = uniqueName('busmetrics');
  let bus: Bus;

  beforeAll(async () => {
    bus = await createNatsBus({
      servers: testInfra.natsUrl,
      namespace,
      logger: collectingLogger(),
    });
  });

  afterAll(async () => {
    await bus.close();
    await cleanupNats(namespace);
  });

  it('reports, per durable, messages not yet delivered and delivered but not yet acked', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const handled: string[] = [];
    const consumption = bus.consume(
      topics.conversationSync,
      async ({ data }) => {
        await held;
        handled.push(data.conversationId);
      },
      { durable: 'bridge-sync', maxAckPending: 1 },
    );
    await consumption.ready;
    for (let i = 1; i <= 4; i++) await bus.publish(topics.conversationSync, sync(i));

    // One in the handler (ack pending), three waiting in the stream.
    await eventuallyAsync(async () => {
      expect(await gauge('topicdesk_nats_consumer_ack_pending')).toEqual({ 'bridge-sync': 1 });
      expect(await gauge('topicdesk_nats_consumer_pending')).toEqual({ 'bridge-sync': 3 });
    });

    release();
    await eventually(() => expect(handled).toHaveLength(4));
    await eventuallyAsync(async () => {
      expect(await gauge('topicdesk_nats_consumer_pending')).toEqual({ 'bridge-sync': 0 });
      expect(await gauge('topicdesk_nats_consumer_ack_pending')).toEqual({ 'bridge-sync': 0 });
    });
  });
});
