import { describe, expect, it } from 'vitest';
import { Timeline, type ServerMessage } from './timeline';

const at = '2026-01-01T10:00:00.000Z';
const msg = (
  seq: number,
  kind: ServerMessage['kind'],
  text: string,
  author?: string,
): ServerMessage => ({
  seq,
  kind,
  text,
  at,
  ...(author ? { author } : {}),
});

describe('Timeline', () => {
  it('keeps the files of a message: local previews until the ack, then the stored links', () => {
    const t = new Timeline();
    const local = {
      id: '00000000-0000-4000-8000-000000000001',
      name: 'a.png',
      type: 'image/png',
      size: 10,
      width: 2,
      height: 1,
      url: 'blob:preview',
      urlExpiresAt: at,
    };
    const item = t.compose('', 'c1', [local]);
    expect(item.attachments).toEqual([local]);
    t.ack('c1', 1);
    const stored = { ...local, url: 'https://files.example/a.png' };
    t.links([{ ...msg(1, 'visitor', ''), attachments: [stored] }, msg(2, 'agent', 'x')]);
    expect(t.items()[0]?.attachments).toEqual([stored]);
    // A link for a message this tab does not hold is no message; an agent's file comes along.
    t.receive({ ...msg(3, 'agent', 'see this', 'Support'), attachments: [stored] });
    expect(t.items().map((i) => [i.seq, i.attachments?.length])).toEqual([
      [1, 1],
      [3, 1],
    ]);
  });

  it('dedupes stored messages by seq and resumes after the last gap-free seq', () => {
    const t = new Timeline();
    expect(t.receive(msg(1, 'agent', 'a', 'Support'))).toBeDefined();
    expect(t.receive(msg(1, 'agent', 'a', 'Support'))).toBeUndefined();
    t.receive(msg(3, 'agent', 'c', 'Support'));
    expect(t.lastSeq).toBe(1);
    t.receive(msg(2, 'agent', 'b', 'Support'));
    expect(t.lastSeq).toBe(3);
    expect(
      t
        .items()
        .filter((i) => i.kind === 'agent')
        .map((i) => i.text),
    ).toEqual(['a', 'b', 'c']);
  });

  it('moves an acked message to its seq, keeps its id, and applies an early receipt', () => {
    const t = new Timeline();
    const item = t.compose('hello', 'c1');
    expect(t.items()).toEqual([item]);
    t.markSending(item);
    expect(item.state).toBe('sending');
    t.receipt(1, 'delivered');
    t.ack('c1', 1);
    expect(item).toMatchObject({ id: 'c:c1', seq: 1, state: 'delivered' });
    expect(t.pending()).toEqual([]);
    expect(t.lastSeq).toBe(1);
  });

  it('takes its own message coming back on resume for the unacked one, without a duplicate', () => {
    const t = new Timeline();
    const item = t.compose('same text', 'c1');
    t.markSending(item);
    expect(t.receive(msg(1, 'visitor', 'same text'))).toBeUndefined();
    expect(t.items()).toHaveLength(1);
    t.ack('c1', 1);
    expect(t.items()).toEqual([item]);
    expect(item.state).toBe('sent');
  });

  it("gives another tab's identical message back its own bubble when the ack says otherwise", () => {
    const t = new Timeline();
    const item = t.compose('ok', 'c1');
    t.markSending(item);
    t.receive(msg(1, 'visitor', 'ok'));
    t.ack('c1', 2);
    expect(t.items().map((i) => [i.seq, i.text, i.id])).toEqual([
      [1, 'ok', 's:1'],
      [2, 'ok', 'c:c1'],
    ]);
  });

  it('does not adopt a message that was never sent (typed offline)', () => {
    const t = new Timeline();
    t.compose('queued', 'c1');
    expect(t.receive(msg(1, 'visitor', 'queued'))).toBeDefined();
    expect(t.items()).toHaveLength(2);
  });

  it('keeps the typed order for resending and drops messages that cannot succeed', () => {
    const t = new Timeline();
    t.compose('one', 'c1');
    t.compose('two', 'c2');
    t.compose('three', 'c3');
    t.fail('c2', 'MESSAGE_TOO_LONG', false);
    t.fail('c3', 'UNAVAILABLE', true);
    expect(t.pending().map((i) => i.text)).toEqual(['one', 'three']);
    expect(t.find('c3')?.state).toBe('retrying');
    expect(t.find('c2')?.state).toBe('failed');
    expect(t.retry('c2')).toBeUndefined();
  });

  it('never lets a late "retrying" receipt undo "delivered"', () => {
    const t = new Timeline();
    t.ack('x', 1);
    t.receive(msg(1, 'visitor', 'v'));
    t.receipt(1, 'delivered');
    t.receipt(1, 'retrying');
    expect(t.items()[0]?.state).toBe('delivered');
  });

  it('names the agent who wrote last', () => {
    const t = new Timeline();
    t.receive(msg(1, 'visitor', 'hi'));
    t.receive(msg(2, 'agent', 'hello', 'Alice'));
    t.receive(msg(3, 'system', 'Bob joined the conversation.'));
    t.receive(msg(4, 'agent', 'me too', 'Bob'));
    expect(t.lastAgent()).toBe('Bob');
  });

  it('applies edits and retractions', () => {
    const t = new Timeline();
    t.receive(msg(1, 'agent', 'tpyo', 'Support'));
    t.edit(1, 'typo', at);
    expect(t.items()[0]).toMatchObject({ text: 'typo', editedAt: at });
    t.edit(1, '', at, true);
    expect(t.items()[0]?.deleted).toBe(true);
  });

  it('takes a refusal that frees with time off the outbox, with when; a plain refusal stays retryable', () => {
    const t = new Timeline();
    t.compose('first', 'a');
    t.refuseUnsent('INVALID_REQUEST');
    expect(t.find('a')).toMatchObject({
      state: 'failed',
      code: 'INVALID_REQUEST',
      retryable: true,
    });
    t.compose('second', 'b');
    t.refuseUnsent('CONVERSATION_LIMIT', '2026-12-07T09:00:00.000Z');
    expect(t.find('b')).toMatchObject({
      state: 'failed',
      retryable: false,
      retryAt: '2026-12-07T09:00:00.000Z',
    });
    expect(t.pending()).toEqual([]);
    t.retryUnsent();
    expect(t.unsent().map((i) => i.state)).toEqual(['retrying', 'retrying']);
  });
});
