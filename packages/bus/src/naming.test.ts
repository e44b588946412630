import { describe, expect, it } from 'vitest';
import { BusInvalidOptionError } from './errors';
import { createNaming } from './naming';

describe('createNaming', () => {
  const naming = createNaming('td_1-a');

  it('prefixes subjects with a dot and streams and durables with an underscore', () => {
    expect(naming.subject('conversation.sync')).toBe('td_1-a.conversation.sync');
    expect(naming.stream('SYNC')).toBe('td_1-a_SYNC');
    expect(naming.durable('bridge')).toBe('td_1-a_bridge');
  });

  it.each(['', 'a.b', 'a b', 'a*', 'a>', 'ä'])('refuses the namespace %j', (namespace) => {
    expect(() => createNaming(namespace)).toThrow(BusInvalidOptionError);
  });

  it.each(['', 'a..b', '.a', 'a.', 'a.*', 'a.>', 'a b'])('refuses the subject %j', (subject) => {
    expect(() => naming.subject(subject)).toThrow(BusInvalidOptionError);
  });

  it('refuses durable names that are not one token', () => {
    expect(() => naming.durable('a.b')).toThrow(BusInvalidOptionError);
  });
});
