import { describe, expect, it } from 'vitest';
import {
  dataCommand,
  forgetCallbackData,
  FORGET_CONFIRM_MS,
  parseForgetCallback,
} from './data-requests';

describe('the data commands of the private chat', () => {
  it('takes /mydata and /forget, with or without the bot name, and nothing else', () => {
    expect(dataCommand('/mydata')).toBe('mydata');
    expect(dataCommand(' /FORGET@support_bot ')).toBe('forget');
    expect(dataCommand('/forget me')).toBeUndefined();
    expect(dataCommand('please /forget')).toBeUndefined();
    expect(dataCommand('/support')).toBeUndefined();
    expect(dataCommand(undefined)).toBeUndefined();
  });

  it('carries when the confirmation was offered in the button, within 64 bytes', () => {
    const at = new Date('2026-12-06T10:00:00.000Z');
    const data = forgetCallbackData(at);
    expect(Buffer.byteLength(data)).toBeLessThanOrEqual(64);
    expect(parseForgetCallback(data)).toEqual(at);
    expect(FORGET_CONFIRM_MS).toBe(600_000);
  });

  it('ignores other buttons and malformed confirmation data', () => {
    expect(parseForgetCallback('td:pc:support')).toBeUndefined();
    expect(parseForgetCallback('td:pc:forget:')).toBeUndefined();
    expect(parseForgetCallback('td:pc:forget:abc')).toBeUndefined();
    expect(parseForgetCallback('td:pc:forget:-5')).toBeUndefined();
    expect(parseForgetCallback(undefined)).toBeUndefined();
  });
});
