import { sandboxError } from './errors';

// Bot API parameters arrive as JSON values (grammY posts JSON) or as strings (query
// string, form encoding). Telegram reads every parameter by its declared type, so
// numbers may come as numeric strings and objects as JSON-encoded strings. These
// readers do the same, one parameter at a time, instead of guessing types up front
// (a `text` of "123" must stay a string).

export type Params = Record<string, unknown>;

const INTEGER = /^-?\d+$/;

function missing(name: string) {
  return sandboxError('PARAMETER_MISSING', { description: `Bad Request: ${name} is empty` });
}

function invalid(name: string) {
  return sandboxError('PARAMETER_INVALID', {
    description: `Bad Request: invalid ${name} specified`,
  });
}

function isAbsent(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}

export function optionalInt(params: Params, name: string): number | undefined {
  const value = params[name];
  if (isAbsent(value)) return undefined;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  if (typeof value === 'string' && INTEGER.test(value.trim())) {
    const parsed = Number(value.trim());
    if (Number.isSafeInteger(parsed)) return parsed;
  }
  throw invalid(name);
}

export function requiredInt(params: Params, name: string): number {
  const value = optionalInt(params, name);
  if (value === undefined) throw missing(name);
  return value;
}

export function optionalString(params: Params, name: string): string | undefined {
  const value = params[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw invalid(name);
}

export function optionalBool(params: Params, name: string): boolean | undefined {
  const value = params[name];
  if (isAbsent(value)) return undefined;
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === '1' || value === 1) return true;
  if (value === 'false' || value === '0' || value === 0) return false;
  throw invalid(name);
}

/** An object or array parameter, given as such or as a JSON-encoded string. */
export function optionalJson(params: Params, name: string): unknown {
  const value = params[name];
  if (isAbsent(value)) return undefined;
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch (error) {
    throw sandboxError('PARAMETER_INVALID', {
      description: `Bad Request: can't parse ${name} JSON object`,
      cause: error,
    });
  }
}

/**
 * `chat_id` as Telegram takes it: an integer, or "@username" (no sandbox chat has
 * a username, so that is always "chat not found").
 */
export function requiredChatId(params: Params, name = 'chat_id'): number {
  const value = params[name];
  if (isAbsent(value)) throw missing(name);
  if (typeof value === 'string' && value.startsWith('@')) throw sandboxError('CHAT_NOT_FOUND');
  try {
    return requiredInt(params, name);
  } catch (error) {
    throw sandboxError('CHAT_NOT_FOUND', { cause: error });
  }
}

export function optionalStringArray(params: Params, name: string): string[] | undefined {
  const value = optionalJson(params, name);
  if (value === undefined) return undefined;
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value;
  throw invalid(name);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
