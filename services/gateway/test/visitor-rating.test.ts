import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConversationService, DEFAULT_TENANT_ID, UnitOfWork } from '@topicdesk/core';
import { startGatewayUnderTest, type GatewayUnderTest } from './gateway-under-test';

// Issue 14: the widget's visitor rates a closed conversation once (CSAT); the agents see the
// rating in the topic (a bot post), the audit log records it.

describe('POST /v1/conversations/:id/rating', () => {
  let gateway: GatewayUnderTest;

  beforeAll(async () => {
    gateway = await startGatewayUnderTest({ namespace: 'gateway-rating-test' });
  });

  afterAll(async () => {
    await gateway?.close();
  });

  const start = async () => {
    const response = await gateway.app.inject({
      method: 'POST',
      url: '/v1/conversations',
      payload: {},
    });
    return response.json<{ conversationId: string; token: string }>();
  };
  const rate = (c: { conversationId: string; token: string }, payload: unknown) =>
    gateway.app.inject({
      method: 'POST',
      url: `/v1/conversations/${c.conversationId}/rating`,
      headers: { authorization: `Bearer ${c.token}` },
      payload: payload as Record<string, unknown>,
    });
  const profile = async (c: { conversationId: string; token: string }) =>
    (
      await gateway.app.inject({
        method: 'GET',
        url: `/v1/conversations/${c.conversationId}`,
        headers: { authorization: `Bearer ${c.token}` },
      })
    ).json<Record<string, unknown>>();
  const close = (conversationId: string) => {
    const uow = new UnitOfWork(gateway.infra.database.db, { publish: () => Promise.resolve() });
    return uow.run((work) =>
      new ConversationService(uow).close(work, {
        tenantId: DEFAULT_TENANT_ID,
        conversationId,
        actor: { type: 'agent', id: '1' },
        reason: 'agent',
        templateKey: 'closed_note',
      }),
    );
  };
  const posts = (conversationId: string) =>
    gateway.infra.database.db
      .selectFrom('telegram_posts')
      .select('text')
      .where('conversation_id', '=', conversationId)
      .orderBy('id')
      .execute();

  it('refuses a rating while the conversation is open (CONVERSATION_OPEN)', async () => {
    const c = await start();
    const response = await rate(c, { score: 4 });
    expect(response.statusCode).toBe(409);
    expect(response.json().error.code).toBe('CONVERSATION_OPEN');
    expect((await profile(c))['rating']).toBeNull();
  });

  it('stores one rating of a closed conversation, posts it to the topic as text, and audits it', async () => {
    const c = await start();
    await close(c.conversationId);
    const comment = '  <b>Quick</b> and kind\nthanks  ';
    const response = await rate(c, { score: 4, comment });
    expect(response.statusCode).toBe(201);
    const rating = response.json();
    expect(rating).toEqual({
      score: 4,
      comment: '<b>Quick</b> and kind\nthanks',
      at: expect.any(String),
    });
    expect((await profile(c))['rating']).toEqual(rating);
    // The comment is the visitor's text: posted as plain text (the bridge sends no parse_mode).
    expect((await posts(c.conversationId)).map((p) => p.text)).toContain(
      '★★★★☆ The visitor rated this conversation 4/5.\nComment: <b>Quick</b> and kind\nthanks',
    );
    const again = await rate(c, { score: 1 });
    expect(again.statusCode).toBe(409);
    expect(again.json().error).toMatchObject({
      code: 'ALREADY_RATED',
      details: { rating: { score: 4 } },
    });
    const audit = await gateway.infra.database.db
      .selectFrom('audit_log')
      .select(['actor_type', 'details'])
      .where('conversation_id', '=', c.conversationId)
      .where('action', '=', 'conversation.rate')
      .execute();
    expect(audit).toEqual([{ actor_type: 'visitor', details: { rating: 4, commented: true } }]);
  });

  it('refuses a bad score or comment with INVALID_REQUEST, and a blank comment is none', async () => {
    const c = await start();
    await close(c.conversationId);
    for (const body of [
      {},
      { score: 0 },
      { score: 6 },
      { score: 4.5 },
      { score: '5' },
      { score: 5, comment: 'a\u0000b' },
      { score: 5, comment: 'x'.repeat(1001) },
      { score: 5, extra: true },
    ]) {
      const response = await rate(c, body);
      expect(response.statusCode, JSON.stringify(body).slice(0, 40)).toBe(400);
      expect(response.json().error.code).toBe('INVALID_REQUEST');
    }
    const blank = await rate(c, { score: 5, comment: ' \u200b ' });
    expect(blank.statusCode).toBe(201);
    expect(blank.json()).toMatchObject({ score: 5, comment: null });
  });

  it('needs the conversation’s own token', async () => {
    const [mine, other] = [await start(), await start()];
    await close(mine.conversationId);
    const response = await rate(
      { conversationId: mine.conversationId, token: other.token },
      { score: 5 },
    );
    expect(response.statusCode).toBe(403);
  });
});
