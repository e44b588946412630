import { describe, expect, it } from 'vitest';
import { isConsoleCommand } from './console-sign-in';

describe('isConsoleCommand', () => {
  it('takes /console, addressed to the bot or not, in any case', () => {
    expect(isConsoleCommand('/console')).toBe(true);
    expect(isConsoleCommand(' /console@topicdesk_bot ')).toBe(true);
    expect(isConsoleCommand('/CONSOLE')).toBe(true);
  });

  it('leaves everything else to the private chat', () => {
    expect(isConsoleCommand(undefined)).toBe(false);
    expect(isConsoleCommand('/console please')).toBe(false);
    expect(isConsoleCommand('/consoles')).toBe(false);
    expect(isConsoleCommand('console')).toBe(false);
  });
});
