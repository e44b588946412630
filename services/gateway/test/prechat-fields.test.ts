import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayUnderTest, type GatewayUnderTest } from './gateway-under-test';

// Issue 18, item 8: the widget's pre-chat form may send an e-mail address, which is personal
// data: the gateway stores it only where the operator enabled it (PRECHAT_FIELDS=email).

const start = (gateway: GatewayUnderTest, payload: object) =>
  gateway.app.inject({ method: 'POST', url: '/v1/conversations', payload });

const stored = (gateway: GatewayUnderTest, id: string) =>
  gateway.infra.database.db
    .selectFrom('conversations')
    .select(['visitor_name', 'visitor_email'])
    .where('id', '=', id)
    .executeTakeFirstOrThrow();

describe('POST /v1/conversations with an e-mail address', () => {
  let enabled: GatewayUnderTest;
  let disabled: GatewayUnderTest;

  beforeAll(async () => {
    [enabled, disabled] = await Promise.all([
      startGatewayUnderTest({
        namespace: 'gateway-prechat-enabled-test',
        env: { PRECHAT_FIELDS: 'email' },
      }),
      startGatewayUnderTest({
        namespace: 'gateway-prechat-disabled-test',
        env: { LIMIT_CONVERSATIONS_PER_DAY: '1' },
      }),
    ]);
  });

  afterAll(async () => {
    await Promise.all([enabled?.close(), disabled?.close()]);
  });

  it('stores the trimmed address with the conversation where PRECHAT_FIELDS has email', async () => {
    const response = await start(enabled, { name: 'Ada', email: '  ada@example.com ' });
    expect(response.statusCode).toBe(201);
    const { conversationId } = response.json<{ conversationId: string }>();
    expect(await stored(enabled, conversationId)).toEqual({
      visitor_name: 'Ada',
      visitor_email: 'ada@example.com',
    });
  });

  it('refuses an address that is not one, naming the field, also where it is enabled', async () => {
    const response = await start(enabled, { email: 'ada@example' });
    expect(response.statusCode).toBe(400);
    const { error } = response.json<{ error: { code: string; details: { issues: string[] } } }>();
    expect(error.code).toBe('INVALID_REQUEST');
    expect(error.details.issues).toEqual(['email: an e-mail address such as ada@example.com']);
  });

  it('refuses any address with 400 INVALID_REQUEST naming PRECHAT_FIELDS where it is not enabled, before the day’s quota', async () => {
    const response = await start(disabled, { name: 'Ada', email: 'ada@example.com' });
    expect(response.statusCode).toBe(400);
    const { error } = response.json<{ error: { code: string; details: { issues: string[] } } }>();
    expect(error.code).toBe('INVALID_REQUEST');
    expect(error.details.issues).toHaveLength(1);
    expect(error.details.issues[0]).toMatch(/^email: .*PRECHAT_FIELDS=email/);
    const count = await disabled.infra.database.db
      .selectFrom('conversations')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(0);

    // The name is accepted as ever, and the refusal did not spend the address's one conversation.
    const withName = await start(disabled, { name: 'Ada' });
    expect(withName.statusCode).toBe(201);
    const { conversationId } = withName.json<{ conversationId: string }>();
    expect(await stored(disabled, conversationId)).toEqual({
      visitor_name: 'Ada',
      visitor_email: null,
    });
  });
});
