/**
 * Opaque page cursors of the admin lists: the key of the last item of a page (values of columns
 * that never change, so a cursor stays valid while rows are added), as base64url JSON. A client
 * passes them back as they are; anything else is an InvalidCursorError.
 */

/** A cursor that is not one this API handed out (or one of another list). */
export class InvalidCursorError extends Error {
  override readonly name = 'InvalidCursorError';
  readonly code = 'INVALID_CURSOR';
  constructor(message = 'the cursor is not one this list handed out') {
    super(message);
  }
}

type KeyPart = string | number;

/** `list` names the list the cursor belongs to: a cursor of another list is refused. */
export function encodeCursor(list: string, key: readonly KeyPart[]): string {
  return Buffer.from(JSON.stringify([list, ...key])).toString('base64url');
}

/** The key `encodeCursor` wrote for `list`, checked part by part against `shape`. */
export function decodeCursor<const S extends readonly ('string' | 'number')[]>(
  list: string,
  cursor: string,
  shape: S,
): { [I in keyof S]: S[I] extends 'number' ? number : string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch (error) {
    throw new InvalidCursorError(`the cursor is not one this list handed out (${String(error)})`);
  }
  if (!Array.isArray(parsed) || parsed[0] !== list || parsed.length !== shape.length + 1)
    throw new InvalidCursorError();
  const key = parsed.slice(1) as unknown[];
  key.forEach((part, i) => {
    const ok =
      shape[i] === 'number'
        ? typeof part === 'number' && Number.isSafeInteger(part)
        : typeof part === 'string' && part.length > 0 && part.length <= 200;
    if (!ok) throw new InvalidCursorError();
  });
  return key as { [I in keyof S]: S[I] extends 'number' ? number : string };
}

/** One page of a list and the cursor of the next (null: this was the last). */
export interface CursorPage<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * A page from `limit + 1` rows read past the cursor: the extra row only says another page
 * follows, whose cursor is the key of this page's last item.
 */
export function pageFrom<T>(
  list: string,
  rows: readonly T[],
  limit: number,
  keyOf: (item: T) => readonly KeyPart[],
): CursorPage<T> {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return {
    items,
    nextCursor: rows.length > limit && last !== undefined ? encodeCursor(list, keyOf(last)) : null,
  };
}

/**
 * A page of a short list held in memory (agents, templates, groups, rules, sessions): the
 * items ordered by `keyOf`, those after the cursor's key. Keys are unique and never change.
 */
export function pageInMemory<T, K extends 'string' | 'number'>(
  list: string,
  all: readonly T[],
  key: { kind: K; of: (item: T) => K extends 'number' ? number : string },
  options: { cursor?: string | undefined; limit: number },
): CursorPage<T> {
  const sorted = [...all].sort((a, b) => compare(key.of(a), key.of(b)));
  const after =
    options.cursor === undefined ? undefined : decodeCursor(list, options.cursor, [key.kind])[0];
  const rest =
    after === undefined ? sorted : sorted.filter((item) => compare(key.of(item), after) > 0);
  return pageFrom(list, rest.slice(0, options.limit + 1), options.limit, (item) => [key.of(item)]);
}

function compare(a: string | number, b: string | number): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const left = String(a);
  const right = String(b);
  return left < right ? -1 : left > right ? 1 : 0;
}
