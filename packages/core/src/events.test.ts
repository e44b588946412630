import type { Message } from '@topicdesk/data';
import { conversationEventSchema, serverFrameSchema } from '@topicdesk/protocol';
import { describe, expect, it } from 'vitest';
import { messageEvent } from './events';

const createdAt = new Date('2025-05-06T07:08:09.123Z');

// The cast keeps the fixture valid as the messages table grows new columns.
function stored(fields: Partial<Message>): Message {
  const row: Partial<Message> = {
    id: 11,
    tenant_id: 'default',
    conversation_id: '9b2f3c1e-4a5d-4e6f-8a7b-1c2d3e4f5a6b',
    seq: 3,
    kind: 'visitor',
    text: 'hello',
    author_name: null,
    agent_id: null,
    client_id: null,
    telegram_chat_id: null,
    telegram_message_id: null,
    delivery: 'none',
    delivery_error: null,
    created_at: createdAt,
    edited_at: null,
    ...fields,
  };
  return row as Message;
}

describe('messageEvent', () => {
  it('makes the message frame of a visitor message, with its time in ISO 8601', () => {
    expect(messageEvent(stored({ kind: 'visitor', text: 'hi', seq: 1 }))).toEqual({
      type: 'message',
      seq: 1,
      kind: 'visitor',
      text: 'hi',
      at: '2025-05-06T07:08:09.123Z',
    });
  });

  it('names the author of an agent message', () => {
    const event = messageEvent(stored({ kind: 'agent', author_name: 'Maria' }));
    expect(event.author).toBe('Maria');
  });

  it('names the author of a system message that has one', () => {
    expect(messageEvent(stored({ kind: 'system', author_name: 'Topicdesk' })).author).toBe(
      'Topicdesk',
    );
  });

  it('never names the author of a visitor message, even if one is stored', () => {
    expect(messageEvent(stored({ kind: 'visitor', author_name: 'Ada' }))).not.toHaveProperty(
      'author',
    );
  });

  it('leaves author out when none is stored', () => {
    expect(messageEvent(stored({ kind: 'agent', author_name: null }))).not.toHaveProperty('author');
    expect(messageEvent(stored({ kind: 'system', author_name: null }))).not.toHaveProperty(
      'author',
    );
  });

  it('adds editedAt, in ISO 8601, once the message was edited', () => {
    const event = messageEvent(
      stored({ kind: 'agent', edited_at: new Date('2025-05-06T08:00:00.000Z') }),
    );
    expect(event.editedAt).toBe('2025-05-06T08:00:00.000Z');
    expect(messageEvent(stored({}))).not.toHaveProperty('editedAt');
  });

  it('marks a retracted message deleted (its stored text is already empty)', () => {
    const event = messageEvent(
      stored({ kind: 'agent', text: '', deleted_at: new Date('2025-05-06T09:00:00.000Z') }),
    );
    expect(event.deleted).toBe(true);
    expect(event.text).toBe('');
    expect(messageEvent(stored({ deleted_at: null }))).not.toHaveProperty('deleted');
  });

  it('passes the origin through when given, and leaves it out otherwise', () => {
    expect(messageEvent(stored({}), 'a1b2c3d4:7').origin).toBe('a1b2c3d4:7');
    expect(messageEvent(stored({}))).not.toHaveProperty('origin');
  });

  it('carries nothing from Telegram or the client: no ids, no delivery state', () => {
    const event = messageEvent(
      stored({
        kind: 'agent',
        author_name: 'Maria',
        agent_id: 5,
        client_id: 'c-9',
        telegram_chat_id: -1001234567890,
        telegram_message_id: 77,
        delivery: 'delivered',
      }),
    );
    expect(Object.keys(event).sort()).toEqual(['at', 'author', 'kind', 'seq', 'text', 'type']);
  });

  it('makes frames the protocol accepts, on the fanout (with origin) and on the socket (without)', () => {
    const message = stored({
      kind: 'agent',
      author_name: 'Maria',
      edited_at: new Date('2025-05-06T08:00:00.000Z'),
    });
    const { origin: _origin, ...frame } = messageEvent(message, 'a1b2c3d4:7');
    expect(conversationEventSchema.parse(messageEvent(message, 'a1b2c3d4:7'))).toBeDefined();
    expect(serverFrameSchema.parse(frame)).toEqual(frame);
    const retracted = stored({ text: '', deleted_at: new Date('2025-05-06T09:00:00.000Z') });
    expect(serverFrameSchema.parse(messageEvent(retracted))).toEqual(messageEvent(retracted));
  });
});
