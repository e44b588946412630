import { z } from 'zod';

/**
 * The paging of every admin list: `limit` and an opaque `cursor` (the `nextCursor` of the page
 * before, passed back as it is; a cursor the list did not hand out is 400 INVALID_CURSOR).
 */
export function pageQuery(options: { max: number; default: number }) {
  return {
    cursor: z.string().min(1).max(512).optional(),
    limit: z.coerce.number().int().min(1).max(options.max).default(options.default),
  };
}

/** The lists of settings (agents, templates, groups, rules, sessions): short, 100 a page at most. */
export const settingsPageQuery = z.object(pageQuery({ max: 100, default: 100 }));

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;

/**
 * A bound of a range of times: an ISO 8601 instant with its offset, or a UTC date, which as a
 * lower bound (`from`) means its start and as an upper bound (`to`) its end (the day included).
 */
function bound(end: boolean) {
  return z.union([
    z
      .string()
      .regex(DATE)
      .refine((v) => !Number.isNaN(Date.parse(`${v}T00:00:00Z`)), 'not a date')
      .transform((v) => new Date(Date.parse(`${v}T00:00:00Z`) + (end ? DAY_MS : 0))),
    z.iso.datetime({ offset: true }).transform((v) => new Date(v)),
  ]);
}
export const fromBound = bound(false);
export const toBound = bound(true);
