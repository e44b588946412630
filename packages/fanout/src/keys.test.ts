import { describe, expect, it } from 'vitest';
import { coordinationKeys } from './keys';

describe('coordinationKeys', () => {
  it('prefixes every key and channel with the namespace', () => {
    const keys = coordinationKeys('td');
    expect(keys.conversationChannel('c1')).toBe('td:conv:c1');
    expect(keys.budgetLog('tg:group:-100')).toBe('td:budget:tg:group:-100');
    expect(keys.budgetBlock('tg:group:-100')).toBe('td:budget-block:tg:group:-100');
    expect(keys.quotaLog('ip:1.2.3.4')).toBe('td:quota:ip:1.2.3.4');
    expect(keys.lock('c1')).toBe('td:lock:c1');
    expect(keys.due('c1')).toBe('td:due:c1');
    expect(keys.dedupe('u1')).toBe('td:dedupe:u1');
  });

  it('keeps block keys apart from every budget key', () => {
    const keys = coordinationKeys('td');
    expect(keys.budgetBlock('x')).not.toBe(keys.budgetLog('x:block'));
    expect(keys.budgetBlock('x').startsWith('td:budget:')).toBe(false);
  });

  it('refuses a namespace that could break out of its prefix', () => {
    expect(() => coordinationKeys('a:b')).toThrow(/namespace/);
  });
});
