import { InvalidCoordinationArgumentError } from './errors';
import type { Budget } from './types';

const NAMESPACE_PATTERN = /^[A-Za-z0-9_-]+$/;
const MAX_KEY_LENGTH = 512;

export function validateNamespace(namespace: string): string {
  if (typeof namespace !== 'string' || !NAMESPACE_PATTERN.test(namespace)) {
    throw new InvalidCoordinationArgumentError(
      `namespace must match ${String(NAMESPACE_PATTERN)}, got ${JSON.stringify(namespace)}`,
    );
  }
  return namespace;
}

/** Keys and conversation ids: any non-empty string up to 512 characters. */
export function validateKey(what: string, key: string): string {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH) {
    throw new InvalidCoordinationArgumentError(
      `${what} must be a non-empty string of at most ${String(MAX_KEY_LENGTH)} characters`,
    );
  }
  return key;
}

/** A finite number >= 1, rounded up to whole milliseconds / units. */
export function validatePositive(what: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 1) {
    throw new InvalidCoordinationArgumentError(
      `${what} must be a finite number >= 1, got ${String(value)}`,
    );
  }
  return Math.ceil(value);
}

/**
 * Validates budgets and merges exact duplicates. Two budgets with the same key but a different
 * limit or window would share one log with two meanings, so they are refused.
 */
export function normalizeBudgets(budgets: readonly Budget[]): Budget[] {
  const byKey = new Map<string, Budget>();
  for (const budget of budgets) {
    const normalized: Budget = {
      key: validateKey('budget key', budget.key),
      limit: validatePositive(`limit of budget "${budget.key}"`, budget.limit),
      windowMs: validatePositive(`windowMs of budget "${budget.key}"`, budget.windowMs),
    };
    const seen = byKey.get(normalized.key);
    if (seen === undefined) {
      byKey.set(normalized.key, normalized);
    } else if (seen.limit !== normalized.limit || seen.windowMs !== normalized.windowMs) {
      throw new InvalidCoordinationArgumentError(
        `budget "${normalized.key}" appears twice with different limits`,
      );
    }
  }
  return [...byKey.values()];
}
