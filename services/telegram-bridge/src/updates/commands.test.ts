import { describe, expect, it } from 'vitest';
import { parseCommand } from './commands';

describe('parseCommand', () => {
  it('reads a bare command', () => {
    expect(parseCommand('/claim')).toEqual({ name: 'claim', args: '' });
  });

  it('reads the arguments after it, trimmed, line breaks kept', () => {
    expect(parseCommand('/note  called back,\nwaiting for the invoice  ')).toEqual({
      name: 'note',
      args: 'called back,\nwaiting for the invoice',
    });
    expect(parseCommand('/t greeting')).toEqual({ name: 't', args: 'greeting' });
  });

  it('accepts the @bot suffix Telegram adds in groups, and any letter case', () => {
    expect(parseCommand('/CLAIM@topicdesk_bot')).toEqual({ name: 'claim', args: '' });
    expect(parseCommand('/stats@topicdesk_bot now')).toEqual({ name: 'stats', args: 'now' });
  });

  it('ignores whitespace around the command', () => {
    expect(parseCommand('  /help  ')).toEqual({ name: 'help', args: '' });
  });

  it('calls any other slash text an unknown command, so it never reaches a visitor', () => {
    expect(parseCommand('/foo')).toEqual({ name: 'unknown', args: '' });
    expect(parseCommand('/')).toEqual({ name: 'unknown', args: '' });
    expect(parseCommand('/claim-now')).toEqual({ name: 'unknown', args: '' });
    expect(parseCommand('/usr/local/bin is where it lives')).toEqual({
      name: 'unknown',
      args: '',
    });
  });

  it('is not a command when the text does not start with a slash', () => {
    expect(parseCommand('hello /claim')).toBeUndefined();
    expect(parseCommand('')).toBeUndefined();
  });
});
