import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TENANT_ID, type Conversation, type ConversationService } from '@topicdesk/core';
import { adminCaller, startGatewayUnderTest, type GatewayUnderTest } from './gateway-under-test';

const SERVICE_TOKEN = 'groups-test-service-token';
const GERMAN = -1001234567890;
const FRENCH = -1009876543210;

describe('admin API: support groups', () => {
  let gateway: GatewayUnderTest;
  let conversations: ConversationService;
  let app: FastifyInstance;

  beforeAll(async () => {
    // Real Postgres; the bus, fanout and quotas of one-process mode.
    gateway = await startGatewayUnderTest({
      namespace: 'gateway-test',
      env: { SERVICE_TOKEN },
    });
    ({ app, conversations } = gateway);
  });

  afterAll(async () => {
    await gateway?.close();
  });

  const call = (method: 'GET' | 'PUT' | 'DELETE', url: string, body?: unknown) =>
    adminCaller(app, SERVICE_TOKEN)(method, url, body);
  const auditActions = async () => {
    const { body } = await call('GET', '/v1/admin/audit');
    return (body['entries'] as Array<{ action: string; details: Record<string, unknown> }>)
      .filter((e) => e.action.startsWith('group.'))
      .map((e) => ({ action: e.action, details: e.details }))
      .reverse();
  };
  const startConversation = async (locale?: string) => {
    const response = await app.inject({
      method: 'POST',
      url: '/v1/conversations',
      payload: locale === undefined ? {} : { locale },
    });
    expect(response.statusCode).toBe(201);
    const { conversationId } = response.json<{ conversationId: string }>();
    return (await stored(conversationId)).group_chat_id;
  };
  const stored = async (conversationId: string): Promise<Conversation> => {
    const conversation = await conversations.find(DEFAULT_TENANT_ID, conversationId);
    if (!conversation) throw new Error(`conversation ${conversationId} was not stored`);
    return conversation;
  };

  it('refuses the group routes without the service token', async () => {
    const missing = await app.inject({ method: 'GET', url: '/v1/admin/groups' });
    expect(missing.statusCode).toBe(401);
    expect(missing.json()).toMatchObject({ error: { code: 'TOKEN_MISSING' } });
    const wrong = await app.inject({
      method: 'PUT',
      url: `/v1/admin/groups/${GERMAN}`,
      headers: { authorization: 'Bearer wrong' },
      payload: { locales: ['de'] },
    });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toMatchObject({ error: { code: 'TOKEN_INVALID' } });
    expect((await call('GET', '/v1/admin/groups')).body).toEqual({ groups: [], nextCursor: null });
  });

  it('registers a group with defaults, replaces it on the next PUT, lists it and audits both', async () => {
    const created = await call('PUT', `/v1/admin/groups/${GERMAN}`, {
      title: 'Support DE',
      locales: ['de', 'de-AT', 'DE'],
    });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({
      chatId: GERMAN,
      title: 'Support DE',
      level: 1,
      locales: ['de', 'de-AT'],
      segments: [],
      active: true,
    });
    const replaced = await call('PUT', `/v1/admin/groups/${GERMAN}`, { level: 2 });
    expect(replaced.body).toMatchObject({ chatId: GERMAN, title: null, level: 2, locales: [] });
    expect(replaced.body['createdAt']).toBe(created.body['createdAt']);
    await call('PUT', `/v1/admin/groups/${FRENCH}`, { title: 'Support FR', locales: ['fr'] });

    const listed = await call('GET', '/v1/admin/groups');
    expect(listed.body['groups']).toEqual([
      expect.objectContaining({ chatId: FRENCH, level: 1, locales: ['fr'], active: true }),
      expect.objectContaining({ chatId: GERMAN, level: 2, locales: [], active: true }),
    ]);
    expect(await auditActions()).toEqual([
      {
        action: 'group.upsert',
        details: {
          chatId: GERMAN,
          title: 'Support DE',
          level: 1,
          locales: ['de', 'de-AT'],
          segments: [],
          active: true,
        },
      },
      expect.objectContaining({
        action: 'group.upsert',
        details: expect.objectContaining({ level: 2 }),
      }),
      expect.objectContaining({
        action: 'group.upsert',
        details: expect.objectContaining({ chatId: FRENCH }),
      }),
    ]);
  });

  it('answers INVALID_REQUEST for a chat id that is not a supergroup and for bad bodies', async () => {
    for (const chatId of [
      '1234567890',
      '-123456',
      'abc',
      '-1001.5',
      '-100',
      '-1001234',
      '-1000000000000',
      '-1001234567890123',
    ]) {
      const response = await call('PUT', `/v1/admin/groups/${chatId}`, { locales: ['de'] });
      expect(response.status, chatId).toBe(400);
      expect(response.body, chatId).toMatchObject({ error: { code: 'INVALID_REQUEST' } });
      // Labelled by where the mistake is: the path parameter, not the body.
      const issues = (response.body['error'] as { details: { issues: string[] } }).details.issues;
      expect(
        issues.every((issue) => issue.startsWith('chatId: ')),
        issues.join(),
      ).toBe(true);
    }
    expect((await call('DELETE', '/v1/admin/groups/42')).body).toMatchObject({
      error: { code: 'INVALID_REQUEST' },
    });
    for (const body of [
      { level: 0 },
      { level: 4 },
      { level: 1.5 },
      { locales: 'de' },
      { locales: ['de_AT'] },
      { locales: [''] },
      { locales: [`de-${'a'.repeat(8)}-${'b'.repeat(8)}-${'c'.repeat(8)}-${'d'.repeat(8)}`] },
      { locales: Array.from({ length: 21 }, (_, i) => `x${String.fromCharCode(97 + i)}`) },
      { title: '' },
      { segments: 'vip' },
      { segments: [''] },
      { segments: ['a'.repeat(33)] },
      { segments: ['vip<script>'] },
      { segments: [null] },
      { segments: Array.from({ length: 21 }, (_, i) => `s${i}`) },
      { active: 'yes' },
      { chatId: GERMAN },
    ]) {
      const response = await call('PUT', `/v1/admin/groups/${GERMAN}`, body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body).toMatchObject({
        error: { code: 'INVALID_REQUEST', details: { issues: expect.any(Array) } },
      });
    }
    // Nothing of it was stored.
    expect((await call('GET', '/v1/admin/groups')).body['groups']).toHaveLength(2);
  });

  it('routes new conversations by locale and keeps them there when the group is deactivated', async () => {
    expect(await startConversation('fr-CA')).toBe(FRENCH);
    // The German group is level 2 now: not a routing target.
    expect(await startConversation('de')).toBeNull();
    expect(await startConversation()).toBeNull();

    const first = await app.inject({
      method: 'POST',
      url: '/v1/conversations',
      payload: { locale: 'fr' },
    });
    const { conversationId } = first.json<{ conversationId: string }>();
    const deleted = await call('DELETE', `/v1/admin/groups/${FRENCH}`);
    expect(deleted.status).toBe(200);
    expect(deleted.body).toMatchObject({ chatId: FRENCH, active: false, locales: ['fr'] });
    expect(await startConversation('fr')).toBeNull();
    const kept = await stored(conversationId);
    expect(kept.group_chat_id).toBe(FRENCH);
    expect((await auditActions()).at(-1)).toEqual({
      action: 'group.deactivate',
      details: { chatId: FRENCH },
    });
  });

  it('stores, lists and audits the segments of a group, once each and as given', async () => {
    const VIP = -1005555555555;
    const saved = await call('PUT', `/v1/admin/groups/${VIP}`, {
      title: 'VIP',
      locales: ['en'],
      segments: ['vip', 'Key account', 'vip', 'VIP'],
    });
    expect(saved.status).toBe(200);
    expect(saved.body).toMatchObject({ chatId: VIP, segments: ['vip', 'Key account', 'VIP'] });
    const listed = (await call('GET', '/v1/admin/groups')).body['groups'] as Array<{
      chatId: number;
      segments: string[];
    }>;
    expect(listed.find((g) => g.chatId === VIP)?.segments).toEqual(['vip', 'Key account', 'VIP']);
    expect((await auditActions()).at(-1)).toEqual({
      action: 'group.upsert',
      details: expect.objectContaining({ chatId: VIP, segments: ['vip', 'Key account', 'VIP'] }),
    });
    const cleared = await call('PUT', `/v1/admin/groups/${VIP}`, { locales: ['en'] });
    expect(cleared.body).toMatchObject({ chatId: VIP, segments: [] });
    await call('DELETE', `/v1/admin/groups/${VIP}`);
  });

  it('answers NOT_FOUND when deactivating a group that was never registered', async () => {
    const response = await call('DELETE', '/v1/admin/groups/-1000000000042');
    expect(response.status).toBe(404);
    expect(response.body).toMatchObject({ error: { code: 'NOT_FOUND' } });
  });
});
