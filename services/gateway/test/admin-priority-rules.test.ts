import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TENANT_ID, type ConversationService } from '@topicdesk/core';
import { adminCaller, startGatewayUnderTest, type GatewayUnderTest } from './gateway-under-test';

const SERVICE_TOKEN = 'priority-rules-test-service-token';

describe('admin API: priority rules and agents’ team settings', () => {
  let gateway: GatewayUnderTest;
  let conversations: ConversationService;
  let app: FastifyInstance;

  beforeAll(async () => {
    gateway = await startGatewayUnderTest({
      namespace: 'gateway-test',
      env: { SERVICE_TOKEN, LIMIT_CONVERSATIONS_PER_DAY: '1000' },
    });
    ({ app, conversations } = gateway);
  });

  afterAll(async () => {
    await gateway?.close();
  });

  const call = (method: 'GET' | 'PUT', url: string, body?: unknown) =>
    adminCaller(app, SERVICE_TOKEN)(method, url, body);
  const priorityOf = async (payload: Record<string, unknown>) => {
    const response = await app.inject({ method: 'POST', url: '/v1/conversations', payload });
    expect(response.statusCode).toBe(201);
    const { conversationId } = response.json<{ conversationId: string }>();
    return (await conversations.find(DEFAULT_TENANT_ID, conversationId))?.priority;
  };

  it('sets a new conversation’s priority by the first rule its page and locale match', async () => {
    const rules = [
      { pageUrlPrefix: 'https://shop.example/checkout', priority: 'high' },
      { locale: 'de', priority: 'low' },
      { pageUrlPrefix: 'https://shop.example/', locale: 'fr-CA', priority: 'high' },
    ];
    const saved = await call('PUT', '/v1/admin/priority-rules', { rules });
    expect(saved.status).toBe(200);
    expect(saved.body['rules']).toEqual([
      {
        pageUrlPrefix: 'https://shop.example/checkout',
        locale: null,
        segment: null,
        priority: 'high',
      },
      { pageUrlPrefix: null, locale: 'de', segment: null, priority: 'low' },
      { pageUrlPrefix: 'https://shop.example/', locale: 'fr-CA', segment: null, priority: 'high' },
    ]);
    expect((await call('GET', '/v1/admin/priority-rules')).body).toEqual({
      ...saved.body,
      nextCursor: null,
    });

    const page = (url: string) => ({ url });
    expect(
      await priorityOf({ page: page('https://shop.example/checkout/pay'), locale: 'de' }),
    ).toBe('high');
    expect(await priorityOf({ locale: 'de-AT' })).toBe('low');
    expect(await priorityOf({ locale: 'DE' })).toBe('low');
    expect(await priorityOf({ locale: 'dez' })).toBe('normal');
    expect(await priorityOf({ page: page('https://shop.example/'), locale: 'fr-ca' })).toBe('high');
    expect(await priorityOf({ page: page('https://shop.example/'), locale: 'fr' })).toBe('normal');
    expect(await priorityOf({})).toBe('normal');

    const audit = await call('GET', '/v1/admin/audit');
    expect((audit.body['entries'] as Array<{ action: string }>).map((e) => e.action)).toContain(
      'priority_rules.update',
    );
    expect((await call('PUT', '/v1/admin/priority-rules', { rules: [] })).body).toEqual({
      rules: [],
    });
    expect(await priorityOf({ locale: 'de' })).toBe('normal');
  });

  it('refuses a rule without a condition, an unknown priority or a bad locale', async () => {
    for (const rules of [
      [{ priority: 'high' }],
      [{ locale: 'de', priority: 'urgent' }],
      [{ locale: 'not a tag', priority: 'low' }],
    ]) {
      const refused = await call('PUT', '/v1/admin/priority-rules', { rules });
      expect(refused.status).toBe(400);
      expect(refused.body).toMatchObject({ error: { code: 'INVALID_REQUEST' } });
    }
  });

  it('saves an agent’s capacity, group and level, keeps them on a rename, and lists their load', async () => {
    const saved = await call('PUT', '/v1/admin/agents/7301', {
      displayName: 'Dana',
      capacity: 2,
      level: 2,
    });
    expect(saved.body).toMatchObject({ capacity: 2, level: 2, groupChatId: null });
    const renamed = await call('PUT', '/v1/admin/agents/7301', { displayName: 'Dana K.' });
    expect(renamed.body).toMatchObject({ displayName: 'Dana K.', capacity: 2, level: 2 });
    const listed = await call('GET', '/v1/admin/agents');
    expect(listed.body['agents']).toContainEqual(
      expect.objectContaining({ telegramUserId: 7301, presence: 'offline', load: 0, capacity: 2 }),
    );
    const refused = await call('PUT', '/v1/admin/agents/7301', { displayName: 'D', level: 4 });
    expect(refused.status).toBe(400);
  });
});
