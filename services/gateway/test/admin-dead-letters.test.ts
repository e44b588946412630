import { topics, type Consumption } from '@topicdesk/bus';
import { SyncReason } from '@topicdesk/contracts';
import { DEFAULT_TENANT_ID, storeDeadLetter, type Infrastructure } from '@topicdesk/core';
import type { Logger } from '@topicdesk/telemetry';
import { testInfra, uniqueName } from '@topicdesk/testkit';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayUnderTest, type GatewayUnderTest } from './gateway-under-test';
// Bounded retries end in a dead letter an operator can see and replay: a consumer that always
// fails on real NATS JetStream gives a message up, it is stored in Postgres, listed by the admin
// API, and a replay publishes it again for a consumer that now succeeds.

const SERVICE_TOKEN = 'dead-letters-test-service-token';
const CONVERSATION = '00000000-0000-4000-8000-0000000000dd';

describe('admin API: dead letters', () => {
  let gateway: GatewayUnderTest;
  let app: FastifyInstance;
  let infra: Infrastructure;
  let logger: Logger;

  beforeAll(async () => {
    gateway = await startGatewayUnderTest({
      namespace: uniqueName('dl'),
      natsUrl: testInfra.natsUrl,
      env: { SERVICE_TOKEN },
      // Quiet: the give-up and dead-letter lines are what this test provokes on purpose.
      logLevel: 'silent',
    });
    ({ app, infra, logger } = gateway);
  });

  afterAll(async () => {
    await gateway?.close();
  });

  const call = async (method: 'GET' | 'POST', url: string) => {
    const response = await app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${SERVICE_TOKEN}` },
    });
    return { status: response.statusCode, body: response.json<Record<string, unknown>>() };
  };

  it('keeps a message that ran out of deliveries, lists it, and replays it once the cause is gone', async () => {
    const db = infra.database.db;
    let failing: Consumption | undefined = infra.bus.consume(
      topics.conversationSync,
      () => Promise.reject(new Error('Bad Request: message is too long')),
      {
        durable: 'dead-letter-test',
        maxDeliver: 2,
        backoffMs: [50],
        ackWaitMs: 5_000,
        onDeadLetter: (deadLetter) =>
          storeDeadLetter(db, logger, {
            tenantId: DEFAULT_TENANT_ID,
            topic: 'conversationSync',
            deadLetter,
            conversationId: CONVERSATION,
          }),
      },
    );
    await infra.bus.publish(topics.conversationSync, {
      tenantId: DEFAULT_TENANT_ID,
      conversationId: CONVERSATION,
      reason: SyncReason.VISITOR_MESSAGE,
    });
    let listed: Array<Record<string, unknown>> = [];
    for (let i = 0; i < 100 && listed.length === 0; i++) {
      listed = (await call('GET', '/v1/admin/dead-letters?pending=true')).body[
        'deadLetters'
      ] as Array<Record<string, unknown>>;
      if (listed.length === 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(listed).toHaveLength(1);
    const [deadLetter] = listed as [Record<string, unknown>];
    expect(deadLetter).toMatchObject({
      topic: 'conversationSync',
      durable: 'dead-letter-test',
      reason: 'max_deliver',
      conversationId: CONVERSATION,
      replayedAt: null,
      replays: 0,
    });
    expect(deadLetter['error']).toMatchObject({ message: expect.stringContaining('too long') });
    await failing.stop();
    failing = undefined;

    const received: string[] = [];
    const healthy = infra.bus.consume(
      topics.conversationSync,
      (delivery) => {
        received.push(delivery.data.conversationId);
        return Promise.resolve();
      },
      { durable: 'dead-letter-test', maxDeliver: 2 },
    );
    try {
      const replay = await call(
        'POST',
        `/v1/admin/dead-letters/${String(deadLetter['id'])}/replay`,
      );
      expect(replay.status).toBe(200);
      expect(replay.body).toMatchObject({ replays: 1, replayedAt: expect.any(String) });
      for (let i = 0; i < 100 && received.length === 0; i++)
        await new Promise((resolve) => setTimeout(resolve, 50));
      expect(received).toEqual([CONVERSATION]);
      expect(
        (await call('GET', '/v1/admin/dead-letters?pending=true')).body['deadLetters'],
      ).toEqual([]);
      const audit = (await call('GET', '/v1/admin/audit?limit=10')).body['entries'] as Array<{
        action: string;
        details: Record<string, unknown>;
      }>;
      expect(audit.map((entry) => entry.action)).toContain('dead_letter.replay');
    } finally {
      await healthy.stop();
    }
  });

  it('answers 404 for a dead letter that does not exist and 400 for an id that is not one', async () => {
    expect((await call('POST', '/v1/admin/dead-letters/999999/replay')).status).toBe(404);
    const bad = await call('POST', '/v1/admin/dead-letters/abc/replay');
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: { code: 'INVALID_REQUEST' } });
  });
});
