import type { AddressInfo } from 'node:net';
import { UnitOfWork } from '@topicdesk/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectVisitor, startGatewayUnderTest, type GatewayUnderTest } from './gateway-under-test';

const connect = connectVisitor;

// Issue 18, item 8: the widget's `read` frame reaches core; a seq the conversation never had is
// refused with an error frame and the socket stays open.
describe('the read frame', () => {
  let gateway: GatewayUnderTest;
  let url: string;

  beforeAll(async () => {
    gateway = await startGatewayUnderTest({ namespace: 'gateway-read-test' });
    await gateway.app.listen({ port: 0, host: '127.0.0.1' });
    url = `http://127.0.0.1:${(gateway.app.server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await gateway?.close();
  });

  const readSeq = async (tenantId: string, id: string) =>
    (await gateway.conversations.find(tenantId, id))?.visitor_read_seq;

  it('records what the visitor read and refuses a seq beyond the last message', async () => {
    const started = await gateway.app.inject({
      method: 'POST',
      url: '/v1/conversations',
      payload: {},
    });
    const { conversationId, token } = started.json<{ conversationId: string; token: string }>();
    const tenantId = 'default';
    const uow = new UnitOfWork(gateway.infra.database.db, { publish: () => Promise.resolve() });
    const reply = await uow.run((work) =>
      gateway.conversations.postAgentMessage(work, {
        tenantId,
        telegramUserId: 42,
        conversationId,
        text: 'Hello, how can I help?',
        authorName: 'Alice',
        agentId: null,
        telegramChatId: -1001000000001,
        telegramMessageId: 7,
      }),
    );
    const socket = await connect(url, token);
    await socket.next('status');

    socket.ws.send(JSON.stringify({ type: 'read', seq: reply.seq + 1 }));
    expect(await socket.next('error')).toEqual({
      type: 'error',
      code: 'INVALID_REQUEST',
      message: 'seq is beyond the last message of the conversation',
      seq: reply.seq + 1,
      lastSeq: reply.seq,
    });
    expect(await readSeq(tenantId, conversationId)).toBe(0);

    // The socket stays open, and a seq it holds is recorded.
    socket.ws.send(JSON.stringify({ type: 'read', seq: reply.seq }));
    await expect.poll(() => readSeq(tenantId, conversationId)).toBe(reply.seq);
    expect(socket.ws.readyState).toBe(socket.ws.OPEN);

    socket.ws.send(JSON.stringify({ type: 'read', seq: 0 }));
    expect(await socket.next('error')).toMatchObject({
      code: 'INVALID_REQUEST',
      issues: [expect.stringContaining('seq')],
    });
    expect(socket.frames).toEqual([]);
    socket.ws.close();
  });
});
