import { topics } from '@topicdesk/bus';
import {
  BotRole,
  BotState,
  timestampFromMs,
  type BotStatusSchema,
  type MessageInitShape,
} from '@topicdesk/contracts';
import { DEFAULT_TENANT_ID } from '@topicdesk/core';
import { readEventStream } from '@topicdesk/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminCaller, startGatewayUnderTest, type GatewayUnderTest } from './gateway-under-test';

// Issue 15: the overview shows the Telegram bots and the bridges' send queues. The bridges
// signal their status over the bus; here stand-ins signal as two bridge replicas would.

const SERVICE_TOKEN = 'overview-bots-test-service-token';
const GROUP = -1001000000099n;

// The plain-object form of the init shape (not a built message): fields spread freely.
type Bot = Exclude<MessageInitShape<typeof BotStatusSchema>, { $typeName: string }>;

const bot = (id: string, fields: Partial<Bot> = {}): Bot => ({
  botId: id,
  username: `bot_${id}`,
  role: BotRole.SENDER,
  state: BotState.OK,
  sent: 3,
  budget: 20,
  windowSeconds: 61,
  chats: [{ chatId: GROUP, sent: 3, budget: 20 }],
  ...fields,
});

describe('the overview: Telegram bots and send queues', () => {
  let gateway: GatewayUnderTest;

  beforeAll(async () => {
    gateway = await startGatewayUnderTest({
      namespace: 'gateway-overview-bots-test',
      env: { SERVICE_TOKEN, CONSOLE_STREAM_HEARTBEAT: '300ms' },
    });
  });

  afterAll(async () => {
    await gateway?.close();
  });

  const service = () => adminCaller(gateway.app, SERVICE_TOKEN);

  it('answers with the bots marked unavailable when no bridge tells its status in time', async () => {
    const began = Date.now();
    const response = await service()('GET', '/v1/console/overview');
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      open: expect.any(Number),
      telegram: { available: false, at: null, replicas: 0, sending: null, bots: [] },
    });
    // It waited for a first answer a moment, not a setup check's 10 s.
    expect(Date.now() - began).toBeLessThan(5000);
  });

  it('merges two bridge replicas: one pause for the bot, queues added up, live on the stream', async () => {
    const { bus } = gateway.infra;
    const pausedUntil = Date.now() + 30_000;
    const statusOf = (replica: 'a' | 'b', paused: boolean) => ({
      replicaId: `replica-${replica}`,
      tenantId: DEFAULT_TENANT_ID,
      at: timestampFromMs(Date.now()),
      intervalMs: 60_000,
      queue:
        replica === 'a'
          ? { normal: 2, cosmetic: 1, oldestWaitMs: 4200 }
          : { normal: 1, cosmetic: 0, oldestWaitMs: 9100 },
      bots: [
        bot('100', { role: BotRole.MAIN, username: 'support_bot' }),
        bot(
          '200',
          paused
            ? {
                state: BotState.PAUSED,
                pausedUntil: timestampFromMs(pausedUntil),
                chats: [
                  {
                    chatId: GROUP,
                    sent: 20,
                    budget: 20,
                    pausedUntil: timestampFromMs(pausedUntil),
                  },
                ],
                sent: 20,
                ...(replica === 'a'
                  ? { lastErrorCode: '429', lastErrorAt: timestampFromMs(Date.now()) }
                  : {}),
              }
            : {},
        ),
        bot('300', {
          state: BotState.FAILING,
          problem: `not usable in ${GROUP}: not a member`,
          lastErrorCode: '403',
          lastErrorAt: timestampFromMs(Date.now() - 60_000),
        }),
      ],
    });
    let paused = false;
    const bridges = bus.onSignal(topics.bridgeStatusRequest, () => {
      bus.signal(topics.bridgeStatus, statusOf('a', paused));
      bus.signal(topics.bridgeStatus, statusOf('b', paused));
    });
    await bridges.ready;
    // As a bridge does on start: its status comes without being asked (the gateway no longer
    // waits on reads for a while after nobody answered).
    bus.signal(topics.bridgeStatus, statusOf('a', paused));
    bus.signal(topics.bridgeStatus, statusOf('b', paused));
    await expect
      .poll(async () => {
        const response = await service()('GET', '/v1/console/overview');
        return (response.body as { telegram: { replicas: number } }).telegram.replicas;
      })
      .toBe(2);
    const address = await gateway.app.listen({ port: 0, host: '127.0.0.1' });
    const stream = await fetch(`${address}/v1/console/overview/stream`, {
      headers: { authorization: `Bearer ${SERVICE_TOKEN}` },
    });
    const events = readEventStream(stream.body!);
    try {
      const first = (await events.next('overview')) as { telegram: Record<string, unknown> };
      expect(first.telegram).toMatchObject({
        available: true,
        replicas: 2,
        sending: { normal: 3, cosmetic: 1, oldestWaitSeconds: 9 },
      });
      expect((first.telegram['bots'] as Array<{ id: string }>).map((b) => b.id)).toEqual([
        '100',
        '200',
        '300',
      ]);

      // Replica A hears a 429 for bot 200: the stream shows it without a reload.
      paused = true;
      bus.signal(topics.bridgeStatus, statusOf('a', true));
      const shown = (await events.until<{ telegram: { bots: Array<{ state: string }> } }>(
        'overview',
        (o) => o.telegram.bots[1]?.state === 'paused',
      )) as { telegram: { bots: unknown[] } };
      expect(shown.telegram.bots).toEqual([
        {
          id: '100',
          username: 'support_bot',
          role: 'main',
          state: 'ok',
          pausedUntil: null,
          problem: null,
          sent: 3,
          budget: 20,
          windowSeconds: 61,
          lastError: null,
          chats: [{ chatId: Number(GROUP), sent: 3, budget: 20, pausedUntil: null }],
        },
        expect.objectContaining({
          id: '200',
          role: 'sender',
          state: 'paused',
          pausedUntil: new Date(pausedUntil).toISOString(),
          sent: 20,
          lastError: { code: '429', at: expect.any(String) },
          chats: [
            {
              chatId: Number(GROUP),
              sent: 20,
              budget: 20,
              pausedUntil: new Date(pausedUntil).toISOString(),
            },
          ],
        }),
        expect.objectContaining({
          id: '300',
          state: 'failing',
          problem: `not usable in ${GROUP}: not a member`,
          lastError: { code: '403', at: expect.any(String) },
        }),
      ]);

      // The JSON route has the same part.
      const response = await service()('GET', '/v1/console/overview');
      expect(response.body).toMatchObject({
        telegram: {
          available: true,
          bots: [{ id: '100' }, { state: 'paused' }, { state: 'failing' }],
        },
      });
    } finally {
      bridges.stop();
      await events.cancel();
    }
  });
});
