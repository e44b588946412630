import type { Conversation, Message, TopicState } from '@topicdesk/core';
import { describe, expect, it } from 'vitest';
import { planStep } from './topic-plan';
import { headerSignature, topicName } from './topic-presentation';
import { mergeBatch, PinHeader, TELEGRAM_TEXT_LIMIT } from './topic-sync';

const created = new Date('2025-01-02T03:04:05.000Z');

// Only the columns these functions read matter; the cast keeps the fixture valid as the
// tables grow new columns.
function message(seq: number, text: string): Message {
  const row: Partial<Message> = {
    id: seq,
    tenant_id: 'default',
    conversation_id: '00000000-0000-4000-8000-000000000001',
    seq,
    kind: 'visitor',
    text,
    author_name: null,
    agent_id: null,
    client_id: `c${seq}`,
    telegram_chat_id: null,
    telegram_message_id: null,
    delivery: 'pending',
    delivery_error: null,
    created_at: created,
    edited_at: null,
  };
  return row as Message;
}

const seqs = (batch: readonly Message[]) => batch.map((m) => m.seq);

describe('mergeBatch', () => {
  it('takes every pending message, oldest first, when they fit together', () => {
    const pending = [message(3, 'first'), message(4, 'second'), message(5, 'third')];
    expect(seqs(mergeBatch(pending))).toEqual([3, 4, 5]);
  });

  it('returns nothing for nothing pending', () => {
    expect(mergeBatch([])).toEqual([]);
  });

  it('counts the "\\n\\n" separator: two texts that fill 4,096 exactly go together', () => {
    const half = (TELEGRAM_TEXT_LIMIT - 2) / 2;
    const pending = [message(1, 'a'.repeat(half)), message(2, 'b'.repeat(half))];
    const batch = mergeBatch(pending);
    expect(seqs(batch)).toEqual([1, 2]);
    expect(batch.map((m) => m.text).join('\n\n')).toHaveLength(TELEGRAM_TEXT_LIMIT);
  });

  it('leaves out a message that would go one character over 4,096 with its separator', () => {
    const half = (TELEGRAM_TEXT_LIMIT - 2) / 2;
    const pending = [message(1, 'a'.repeat(half)), message(2, 'b'.repeat(half + 1))];
    expect(seqs(mergeBatch(pending))).toEqual([1]);
  });

  it('always takes the first message alone, even one longer than the limit', () => {
    const pending = [message(7, 'x'.repeat(TELEGRAM_TEXT_LIMIT + 500)), message(8, 'short')];
    expect(seqs(mergeBatch(pending))).toEqual([7]);
  });

  it('stops at the first message that does not fit, even if a later, shorter one would', () => {
    const pending = [message(1, 'a'.repeat(4000)), message(2, 'b'.repeat(200)), message(3, 'c')];
    expect(seqs(mergeBatch(pending))).toEqual([1]);
  });

  it('honours a smaller limit passed by the caller', () => {
    const pending = [message(1, 'abcd'), message(2, 'efgh'), message(3, 'ijkl')];
    // 4 + 2 + 4 = 10 fits; a third would need 16.
    expect(seqs(mergeBatch(pending, 10))).toEqual([1, 2]);
  });

  it('measures text in UTF-16 code units, so an emoji counts twice', () => {
    const emoji = '😀'.repeat(1024); // 2,048 code units
    const pending = [message(1, emoji), message(2, 'y'.repeat(2047))];
    // 2,048 + 2 + 2,047 = 4,097 code units: the second does not fit.
    expect(seqs(mergeBatch(pending))).toEqual([1]);
  });
});

/** An open conversation whose topic and header are up to date, its header not pinned yet. */
function settled(lastSeq: number): TopicState {
  const row: Partial<Conversation> = {
    id: '00000000-0000-4000-8000-000000000001',
    tenant_id: 'default',
    ticket: 'T-1',
    channel: 'web',
    status: 'open',
    visitor_name: null,
    locale: null,
    page_url: null,
    page_title: null,
    topic_id: 2,
    topic_closed: false,
    last_seq: lastSeq,
    created_at: created,
    claimed_by_name: null,
    priority: 'normal',
    header_message_id: 10,
    header_pinned: false,
    cosmetic_due_at: null,
  };
  const conversation = row as Conversation;
  conversation.header_text = headerSignature(conversation);
  conversation.topic_name = topicName(conversation);
  return { conversation, posts: [], pending: [] };
}

describe('planStep', () => {
  it('pins the header of a conversation that has its first message', () => {
    expect(planStep(settled(1), true, PinHeader.auto)).toEqual({ kind: 'pin' });
  });

  it('does not pin before the first message: its text, coming a moment later, goes first', () => {
    expect(planStep(settled(0), true, PinHeader.auto)).toBeUndefined();
  });

  it('never pins with `never`, nor while cosmetic work is left out', () => {
    expect(planStep(settled(1), true, PinHeader.never)).toBeUndefined();
    expect(planStep(settled(1), false, PinHeader.auto)).toBeUndefined();
  });

  it('creates no topic for an erased conversation whose topic was deleted', () => {
    const state = settled(3);
    const erased = { ...state.conversation, topic_id: null, status: 'closed' as const };
    expect(planStep({ ...state, conversation: erased }, true, PinHeader.auto)).toEqual({
      kind: 'create',
    });
    erased.erased_at = created;
    expect(planStep({ ...state, conversation: erased }, true, PinHeader.auto)).toBeUndefined();
  });

  it('renames a kept topic of an erased conversation after its post, then closes it', () => {
    const state = settled(3);
    const erased = { ...state.conversation, status: 'closed' as const, erased_at: created };
    expect(planStep({ ...state, conversation: erased }, true, PinHeader.auto)).toEqual({
      kind: 'header_edit',
    });
    erased.header_text = headerSignature(erased);
    expect(planStep({ ...state, conversation: erased }, false, PinHeader.auto)).toEqual({
      kind: 'rename',
    });
    erased.topic_name = topicName(erased);
    expect(planStep({ ...state, conversation: erased }, false, PinHeader.auto)).toEqual({
      kind: 'close',
    });
  });
});
