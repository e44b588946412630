import Fastify from 'fastify';
import { createLogger } from '@topicdesk/telemetry';
import { describe, expect, it } from 'vitest';
import { createBridgeMetrics } from '../metrics';
import { webhookRoute } from './webhook';

async function server(ingest: () => Promise<void>) {
  const lines: string[] = [];
  const logger = createLogger({
    service: 'unit',
    destination: { write: (line: string) => void lines.push(line) },
  });
  const app = Fastify({ loggerInstance: logger });
  await app.register(webhookRoute, {
    pathSecret: 'hook-secret',
    headerSecret: undefined,
    metrics: createBridgeMetrics(),
    ingest,
  });
  return { app, lines };
}

describe('webhookRoute', () => {
  it('logs an exception while ingesting and answers 503 in the documented shape, without its internal message', async () => {
    const { app, lines } = await server(async () => {
      throw new Error('nats: JetStream publish timeout on stream internal-X');
    });
    const response = await app.inject({
      method: 'POST',
      url: '/v1/telegram/webhook/hook-secret',
      payload: { update_id: 1 },
    });
    expect(response.statusCode).toBe(503);
    expect(response.json()).toEqual({
      error: { code: 'UNAVAILABLE', message: 'the update could not be stored; retry' },
    });
    expect(response.body).not.toContain('JetStream');
    expect(lines.join('\n')).toContain('JetStream publish timeout');
    expect(lines.join('\n')).toContain('could not ingest a webhook update');
    await app.close();
  });

  it('answers a body that is not JSON with 400 BRIDGE_INVALID_UPDATE, not fastify’s own body', async () => {
    const { app } = await server(async () => undefined);
    const response = await app.inject({
      method: 'POST',
      url: '/v1/telegram/webhook/hook-secret',
      headers: { 'content-type': 'application/json' },
      payload: '{"update_id": ',
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({
      error: { code: 'BRIDGE_INVALID_UPDATE', message: 'an Update as a JSON object is expected' },
    });
    await app.close();
  });
});
