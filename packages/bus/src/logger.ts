import type { BusLogger } from './bus';

/** The default when no logger is given: warnings and errors to stderr as JSON lines. */
export const consoleBusLogger: BusLogger = {
  debug() {},
  info() {},
  warn(fields, message) {
    console.warn(JSON.stringify({ level: 'warn', component: 'bus', message, ...plain(fields) }));
  },
  error(fields, message) {
    console.error(JSON.stringify({ level: 'error', component: 'bus', message, ...plain(fields) }));
  },
};

/** Errors do not survive JSON.stringify; keep their name, code and message. */
function plain(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    out[key] =
      value instanceof Error
        ? { name: value.name, message: value.message, code: (value as { code?: unknown }).code }
        : value;
  }
  return out;
}
