import { describe, expect, it } from 'vitest';
import {
  CoordinationError,
  CoordinationErrorCode,
  CoordinationUnavailableError,
  LockLostError,
} from './errors';

describe('CoordinationError.is', () => {
  it('recognises errors of this package by code, also as plain data', () => {
    const err = new CoordinationUnavailableError('down', { cause: new Error('ECONNREFUSED') });
    expect(err.name).toBe('CoordinationUnavailableError');
    expect(CoordinationError.is(err)).toBe(true);
    expect(CoordinationError.is(err, CoordinationErrorCode.Unavailable)).toBe(true);
    expect(CoordinationError.is(err, CoordinationErrorCode.Closed)).toBe(false);
    expect(CoordinationError.is({ code: 'COORDINATION_LOCK_LOST' })).toBe(true);
    expect(CoordinationError.is(new Error('x'))).toBe(false);
    expect(CoordinationError.is(undefined)).toBe(false);
    expect(new LockLostError('c1')).toMatchObject({ code: 'COORDINATION_LOCK_LOST', key: 'c1' });
  });
});
