import { describe, expect, it } from 'vitest';
import { parseCommand } from './commands';
import { parsePresenceData, presenceData, presenceKeyboard } from './presence';

describe('presence commands and buttons', () => {
  it('reads the presence commands, /status and /priority with its argument', () => {
    expect(parseCommand('/online')).toEqual({ name: 'online', args: '' });
    expect(parseCommand('/away@topicdesk_bot')).toEqual({ name: 'away', args: '' });
    expect(parseCommand('/status')).toEqual({ name: 'status', args: '' });
    expect(parseCommand('/priority HIGH')).toEqual({ name: 'priority', args: 'HIGH' });
  });

  it('round-trips the /status buttons and refuses any other callback data', () => {
    for (const presence of ['online', 'away', 'offline'] as const)
      expect(parsePresenceData(presenceData(presence))).toBe(presence);
    expect(parsePresenceData('tp:busy')).toBeUndefined();
    expect(parsePresenceData('td:claim:00000000-0000-0000-0000-000000000000')).toBeUndefined();
    expect(parsePresenceData(undefined)).toBeUndefined();
  });

  it('offers one button per presence, each within Telegram’s 64 bytes of callback data', () => {
    const buttons = presenceKeyboard().inline_keyboard.flat();
    expect(buttons.map((b) => b.text)).toEqual(['🟢 Online', '🌙 Away', '⚫ Offline']);
    for (const button of buttons)
      expect(Buffer.byteLength((button as { callback_data: string }).callback_data)).toBeLessThan(
        64,
      );
  });
});
