import { context, SpanKind, trace } from '@opentelemetry/api';
import type { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { ConversationSyncSchema, fromBinary } from '@topicdesk/contracts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  BusClosedError,
  BusConsumerConflictError,
  RetryLaterError,
  topics,
  type Bus,
  type DeadLetter,
  type DurableTopic,
} from '../src/index';
import { collectingLogger, eventually, indexOf, sleep, sync } from './fixtures';

/** One world of replicas sharing a transport: a NATS namespace, or an in-process broker. */
export interface BusHarness {
  /** A new replica (its own connection). Closed by the suite after each test. */
  createBus(logger: ReturnType<typeof collectingLogger>): Promise<Bus>;
  /** Stores raw bytes on a durable topic, as a broken or foreign publisher would. */
  publishRaw(topic: DurableTopic, payload: Uint8Array): Promise<void>;
  cleanup(): Promise<void>;
}

/**
 * The behaviour both implementations promise, run against each of them. Whatever passes here
 * for the in-process bus must pass for NATS and the other way round.
 */
export function describeBus(
  name: string,
  createHarness: () => Promise<BusHarness>,
  spans: InMemorySpanExporter,
): void {
  describe(`${name} bus`, () => {
    let harness: BusHarness;
    let buses: Bus[];
    let logger: ReturnType<typeof collectingLogger>;

    async function replica(): Promise<Bus> {
      const bus = await harness.createBus(logger);
      buses.push(bus);
      return bus;
    }

    beforeEach(async () => {
      harness = await createHarness();
      buses = [];
      logger = collectingLogger();
      spans.reset();
    });

    afterEach(async () => {
      await Promise.all(buses.map((bus) => bus.close()));
      await harness.cleanup();
    });

    it('delivers a published message to the consumer, decoded, with its metadata', async () => {
      const bus = await replica();
      const received: Array<{ id: string; subject: string; count: number; msgId?: string }> = [];
      let publishedAt: Date | undefined;
      const consumption = bus.consume(
        topics.conversationSync,
        async (delivery) => {
          received.push({
            id: delivery.data.conversationId,
            subject: delivery.subject,
            count: delivery.deliveryCount,
            ...(delivery.msgId === undefined ? {} : { msgId: delivery.msgId }),
          });
          publishedAt = delivery.publishedAt;
        },
        { durable: 'bridge' },
      );
      await consumption.ready;
      const before = Date.now();
      await bus.publish(topics.conversationSync, sync(1), { msgId: 'm-1' });
      await eventually(() => expect(received).toHaveLength(1));
      expect(received[0]).toEqual({
        id: 'c-1',
        subject: 'conversation.sync',
        count: 1,
        msgId: 'm-1',
      });
      expect(publishedAt?.getTime()).toBeGreaterThanOrEqual(before - 1_000);
      expect(bus.health()).toEqual({ ok: true });
    });

    it('stores a message published before any consumer and delivers it later', async () => {
      const bus = await replica();
      await bus.publish(topics.conversationSync, sync(7));
      const received: string[] = [];
      bus.consume(
        topics.conversationSync,
        async ({ data }) => {
          received.push(data.conversationId);
        },
        { durable: 'bridge' },
      );
      await eventually(() => expect(received).toEqual(['c-7']));
    });

    it('stores a message once when it is published twice with the same msgId', async () => {
      const bus = await replica();
      await bus.publish(topics.conversationSync, sync(1), { msgId: 'same' });
      await bus.publish(topics.conversationSync, sync(2), { msgId: 'same' });
      await bus.publish(topics.conversationSync, sync(3), { msgId: 'other' });
      const received: string[] = [];
      bus.consume(
        topics.conversationSync,
        async ({ data }) => {
          received.push(data.conversationId);
        },
        { durable: 'bridge', maxAckPending: 4 },
      );
      await eventually(() => expect(received).toHaveLength(2));
      await sleep(200);
      expect(received.sort()).toEqual(['c-1', 'c-3']);
    });

    it('shares one durable between replicas: each message is handled exactly once', async () => {
      const [first, second] = await Promise.all([replica(), replica()]);
      const handledBy = new Map<string, string[]>();
      const handler =
        (replicaName: string) => async (delivery: { data: { conversationId: string } }) => {
          await sleep(5);
          const seen = handledBy.get(delivery.data.conversationId) ?? [];
          handledBy.set(delivery.data.conversationId, [...seen, replicaName]);
        };
      const consumptions = [
        first.consume(topics.conversationSync, handler('first'), {
          durable: 'bridge',
          maxAckPending: 4,
        }),
        second.consume(topics.conversationSync, handler('second'), {
          durable: 'bridge',
          maxAckPending: 4,
        }),
      ];
      await Promise.all(consumptions.map((consumption) => consumption.ready));
      const count = 60;
      for (let i = 0; i < count; i++) {
        await (i % 2 === 0 ? first : second).publish(topics.conversationSync, sync(i));
      }
      await eventually(() => expect(handledBy.size).toBe(count));
      await sleep(200);
      expect([...handledBy.values()].every((replicas) => replicas.length === 1)).toBe(true);
      const perReplica = [...handledBy.values()].flat();
      expect(perReplica.filter((r) => r === 'first').length).toBeGreaterThan(0);
      expect(perReplica.filter((r) => r === 'second').length).toBeGreaterThan(0);
    });

    it('keeps strict order across replicas with maxAckPending 1, retrying failures in place', async () => {
      const [first, second] = await Promise.all([replica(), replica()]);
      const attempts: number[] = [];
      const done: number[] = [];
      let inFlight = 0;
      let overlapped = false;
      const handler = async ({
        data,
        deliveryCount,
      }: {
        data: { conversationId: string };
        deliveryCount: number;
      }) => {
        const index = indexOf(data.conversationId);
        inFlight++;
        if (inFlight > 1) overlapped = true;
        attempts.push(index);
        await sleep(2);
        inFlight--;
        if (index % 3 === 1 && deliveryCount === 1) throw new Error(`fails once: ${index}`);
        done.push(index);
      };
      const options = { durable: 'ordered', maxAckPending: 1, backoffMs: [30] } as const;
      await Promise.all([
        first.consume(topics.conversationSync, handler, options).ready,
        second.consume(topics.conversationSync, handler, options).ready,
      ]);
      const count = 12;
      for (let i = 0; i < count; i++) await first.publish(topics.conversationSync, sync(i));
      await eventually(() => expect(done).toHaveLength(count), 20_000);
      expect(done).toEqual([...Array(count).keys()]);
      // Every failure was retried before anything later was attempted.
      expect(attempts).toEqual([...attempts].sort((a, b) => a - b));
      expect(attempts.length).toBe(count + 4);
      expect(overlapped).toBe(false);
      expect(logger.entries.filter((e) => e.message === 'handler failed')).toHaveLength(4);
    });

    it('runs handlers concurrently up to maxAckPending', async () => {
      const bus = await replica();
      let inFlight = 0;
      let peak = 0;
      let handled = 0;
      await bus.consume(
        topics.conversationSync,
        async () => {
          inFlight++;
          peak = Math.max(peak, inFlight);
          await sleep(100);
          inFlight--;
          handled++;
        },
        { durable: 'bridge', maxAckPending: 3 },
      ).ready;
      for (let i = 0; i < 9; i++) await bus.publish(topics.conversationSync, sync(i));
      await eventually(() => expect(handled).toBe(9));
      expect(peak).toBe(3);
    });

    it("redelivers after a RetryLaterError's own delay rather than the backoff", async () => {
      const bus = await replica();
      const deliveredAt: number[] = [];
      await bus.consume(
        topics.conversationSync,
        async ({ deliveryCount }) => {
          deliveredAt.push(Date.now());
          if (deliveryCount === 1) throw new RetryLaterError('rate limited', 400);
        },
        { durable: 'bridge', backoffMs: [20_000] },
      ).ready;
      await bus.publish(topics.conversationSync, sync(1));
      await eventually(() => expect(deliveredAt).toHaveLength(2), 5_000);
      const waited = (deliveredAt[1] ?? 0) - (deliveredAt[0] ?? 0);
      expect(waited).toBeGreaterThanOrEqual(380);
      expect(waited).toBeLessThan(3_000);
    });

    it('dead-letters after maxDeliver failures and keeps consuming', async () => {
      const bus = await replica();
      const deadLetters: DeadLetter[] = [];
      const attempts: string[] = [];
      await bus.consume(
        topics.conversationSync,
        async ({ data }) => {
          attempts.push(data.conversationId);
          if (data.conversationId === 'c-1') {
            throw Object.assign(new Error('topic closed'), { code: 'BRIDGE_TOPIC_CLOSED' });
          }
        },
        {
          durable: 'bridge',
          maxDeliver: 3,
          backoffMs: [10],
          onDeadLetter: (deadLetter) => {
            deadLetters.push(deadLetter);
          },
        },
      ).ready;
      await bus.publish(topics.conversationSync, sync(1), { msgId: 'doomed' });
      await eventually(() => expect(deadLetters).toHaveLength(1));
      await bus.publish(topics.conversationSync, sync(2));
      await eventually(() => expect(attempts).toContain('c-2'));
      await sleep(200);
      expect(attempts.filter((id) => id === 'c-1')).toHaveLength(3);
      const [deadLetter] = deadLetters;
      expect(deadLetter).toMatchObject({
        reason: 'max_deliver',
        subject: 'conversation.sync',
        durable: 'bridge',
        deliveryCount: 3,
        msgId: 'doomed',
        error: { code: 'BRIDGE_TOPIC_CLOSED', message: 'topic closed' },
      });
      expect(fromBinary(ConversationSyncSchema, deadLetter!.payload).conversationId).toBe('c-1');
      expect(
        logger.entries.some((e) => e.level === 'error' && e.message === 'message dead-lettered'),
      ).toBe(true);
    });

    it('terminates and reports a payload that does not decode, without calling the handler', async () => {
      const bus = await replica();
      const deadLetters: DeadLetter[] = [];
      const received: string[] = [];
      await bus.consume(
        topics.conversationSync,
        async ({ data }) => {
          received.push(data.conversationId);
        },
        { durable: 'bridge', onDeadLetter: (deadLetter) => void deadLetters.push(deadLetter) },
      ).ready;
      await harness.publishRaw(topics.conversationSync, new Uint8Array([0xff, 0xff, 0xff]));
      await bus.publish(topics.conversationSync, sync(5));
      await eventually(() => expect(received).toEqual(['c-5']));
      await eventually(() => expect(deadLetters).toHaveLength(1));
      expect(deadLetters[0]).toMatchObject({
        reason: 'invalid_payload',
        deliveryCount: 1,
        error: { code: 'BUS_INVALID_PAYLOAD' },
      });
    });

    it('refuses a second durable on the same work-queue topic', async () => {
      const bus = await replica();
      bus.consume(topics.conversationSync, async () => {}, { durable: 'bridge' });
      expect(() =>
        bus.consume(topics.conversationSync, async () => {}, { durable: 'other' }),
      ).toThrow(BusConsumerConflictError);
    });

    it('fans signals out to every subscriber and to one member of each queue group', async () => {
      const [first, second] = await Promise.all([replica(), replica()]);
      const plain: string[] = [];
      const grouped: Array<{ member: string; id: string }> = [];
      const subscriptions = [
        first.onSignal(topics.visitorTyping, (data) => void plain.push(data.conversationId)),
        first.onSignal(
          topics.visitorTyping,
          (data) => void grouped.push({ member: 'a', id: data.conversationId }),
          {
            queue: 'bridge',
          },
        ),
        second.onSignal(
          topics.visitorTyping,
          (data) => void grouped.push({ member: 'b', id: data.conversationId }),
          {
            queue: 'bridge',
          },
        ),
      ];
      await Promise.all(subscriptions.map((subscription) => subscription.ready));
      for (let i = 0; i < 20; i++) {
        second.signal(topics.visitorTyping, { tenantId: 'default', conversationId: `c-${i}` });
      }
      await eventually(() => expect(plain).toHaveLength(20));
      await eventually(() => expect(grouped).toHaveLength(20));
      await sleep(100);
      expect(new Set(grouped.map((g) => g.id)).size).toBe(20);
      expect(grouped).toHaveLength(20);
      subscriptions[0]!.stop();
      second.signal(topics.visitorTyping, { tenantId: 'default', conversationId: 'late' });
      await eventually(() => expect(grouped.map((g) => g.id)).toContain('late'));
      expect(plain).not.toContain('late');
    });

    it('carries the W3C trace context from publisher to handler, for messages and signals', async () => {
      const bus = await replica();
      const tracer = trace.getTracer('test');
      const seen: { message?: string; signal?: string } = {};
      await bus.consume(
        topics.conversationSync,
        async () => {
          seen.message = trace.getSpanContext(context.active())?.traceId;
        },
        { durable: 'bridge' },
      ).ready;
      await bus.onSignal(topics.visitorTyping, () => {
        seen.signal = trace.getSpanContext(context.active())?.traceId;
      }).ready;
      const root = tracer.startSpan('widget request');
      const traceId = root.spanContext().traceId;
      await context.with(trace.setSpan(context.active(), root), async () => {
        await bus.publish(topics.conversationSync, sync(1), { msgId: 'traced' });
        bus.signal(topics.visitorTyping, { tenantId: 'default', conversationId: 'c-1' });
      });
      root.end();
      await eventually(() => expect(seen).toEqual({ message: traceId, signal: traceId }));
      await eventually(() =>
        expect(spans.getFinishedSpans().some((s) => s.kind === SpanKind.CONSUMER)).toBe(true),
      );
      const finished = spans.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
      const publish = finished.find((s) => s.kind === SpanKind.PRODUCER);
      const process = finished.find((s) => s.kind === SpanKind.CONSUMER);
      expect(publish?.attributes).toMatchObject({
        'messaging.operation.type': 'publish',
        'messaging.message.id': 'traced',
      });
      expect(String(publish?.attributes['messaging.destination.name'])).toMatch(
        /conversation\.sync$/,
      );
      expect(process?.attributes).toMatchObject({ 'messaging.operation.type': 'process' });
      expect(process?.parentSpanContext?.spanId).toBe(publish?.spanContext().spanId);
    });

    it('waits for in-flight handlers on close, acks them, and refuses use afterwards', async () => {
      const bus = await replica();
      let finished = false;
      let started = false;
      await bus.consume(
        topics.conversationSync,
        async () => {
          started = true;
          await sleep(300);
          finished = true;
        },
        { durable: 'bridge' },
      ).ready;
      await bus.publish(topics.conversationSync, sync(1));
      await eventually(() => expect(started).toBe(true));
      await bus.close();
      expect(finished).toBe(true);
      expect(bus.health().ok).toBe(false);
      await expect(bus.publish(topics.conversationSync, sync(2))).rejects.toBeInstanceOf(
        BusClosedError,
      );
      // The message was acked before the connection closed: a new replica gets nothing.
      const next = await replica();
      const redelivered: string[] = [];
      await next.consume(
        topics.conversationSync,
        async ({ data }) => void redelivered.push(data.conversationId),
        { durable: 'bridge' },
      ).ready;
      await sleep(500);
      expect(redelivered).toEqual([]);
    });
  });
}
