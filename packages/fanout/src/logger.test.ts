import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { noopLogger, type Logger } from './logger';

describe('Logger', () => {
  it('is satisfied by a pino logger as is', () => {
    const logger: Logger = pino({ level: 'silent' });
    expect(() => {
      logger.warn({ key: 'k' }, 'message');
    }).not.toThrow();
    noopLogger.error({}, 'ignored');
  });
});
