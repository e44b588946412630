import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor, InvalidCursorError, pageFrom, pageInMemory } from './cursor';

describe('page cursors', () => {
  it('gives back the key it was made of, for its own list only', () => {
    const cursor = encodeCursor('audit', [42]);
    expect(decodeCursor('audit', cursor, ['number'])).toEqual([42]);
    expect(() => decodeCursor('dead-letters', cursor, ['number'])).toThrow(InvalidCursorError);
    expect(decodeCursor('c', encodeCursor('c', ['17', 'x']), ['string', 'string'])).toEqual([
      '17',
      'x',
    ]);
  });

  it('refuses what it did not make: garbage, another shape, unsafe numbers, empty strings', () => {
    // Each refused for the list `audit`, whose key is one id.
    const refused = [
      'not base64 json',
      Buffer.from('{"a":1}').toString('base64url'),
      encodeCursor('audit', [1, 2]),
      encodeCursor('audit', ['1']),
      encodeCursor('audit', [1.5]),
      encodeCursor('audit', [2 ** 60]),
    ];
    for (const cursor of refused)
      expect({ cursor, error: refusal(() => decodeCursor('audit', cursor, ['number'])) }).toEqual({
        cursor,
        error: expect.objectContaining({ code: 'INVALID_CURSOR' }),
      });
    expect(refusal(() => decodeCursor('c', encodeCursor('c', ['']), ['string']))).toBeInstanceOf(
      InvalidCursorError,
    );
  });

  it('says a page follows only when the extra row was there, naming the last item kept', () => {
    const rows = [{ id: 9 }, { id: 7 }, { id: 4 }];
    const full = pageFrom('audit', rows, 2, (r) => [r.id]);
    expect(full.items).toEqual([{ id: 9 }, { id: 7 }]);
    expect(decodeCursor('audit', full.nextCursor!, ['number'])).toEqual([7]);
    expect(pageFrom('audit', rows, 3, (r) => [r.id]).nextCursor).toBeNull();
  });

  it('pages a list in memory by its key, unshaken by items added before the cursor', () => {
    const key = { kind: 'number' as const, of: (n: { id: number }) => n.id };
    const items = [{ id: 3 }, { id: 1 }, { id: 2 }];
    const first = pageInMemory('agents', items, key, { limit: 2 });
    expect(first.items.map((i) => i.id)).toEqual([1, 2]);
    const second = pageInMemory('agents', [{ id: 0 }, ...items], key, {
      limit: 2,
      cursor: first.nextCursor!,
    });
    expect(second).toEqual({ items: [{ id: 3 }], nextCursor: null });
    expect(pageInMemory('agents', [], key, { limit: 2, cursor: first.nextCursor! }).items).toEqual(
      [],
    );
    expect(() =>
      pageInMemory('agents', items, key, { limit: 2, cursor: encodeCursor('agents', ['x']) }),
    ).toThrow(InvalidCursorError);
  });
});

function refusal(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}
