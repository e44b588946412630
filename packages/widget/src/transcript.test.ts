import { describe, expect, it } from 'vitest';
import { defaultStrings } from './strings';
import { archived, transcriptName, transcriptText } from './transcript';
import type { ChatItem } from './timeline';

const at = '2026-12-06T09:15:42.000Z';
const items: ChatItem[] = [
  { id: 's:1', seq: 1, kind: 'visitor', text: 'Where is my order?', at },
  { id: 's:2', seq: 2, kind: 'system', text: 'Dana joined the conversation.', at },
  { id: 's:3', seq: 3, kind: 'agent', author: 'Dana', text: 'It ships today.\nTracking soon.', at },
  { id: 's:4', seq: 4, kind: 'agent', text: 'gone', deleted: true, at },
  { id: 'c:x', clientId: 'x', kind: 'visitor', text: 'never sent', at, state: 'failed' },
];

describe('transcriptText', () => {
  it('writes the ticket, then each stored message with its UTC time and author, leaving out unsent ones', () => {
    expect(transcriptText(items, defaultStrings, 'SUPP-AB12')).toBe(
      [
        'Support · Ticket SUPP-AB12',
        '',
        '[2026-12-06 09:15 UTC] You:',
        'Where is my order?',
        '',
        '[2026-12-06 09:15 UTC] —:',
        'Dana joined the conversation.',
        '',
        '[2026-12-06 09:15 UTC] Dana:',
        'It ships today.\nTracking soon.',
        '',
        '[2026-12-06 09:15 UTC] Support:',
        'This message was deleted',
        '',
      ].join('\n'),
    );
  });

  it('names the file after the ticket, with nothing a file system might mind', () => {
    expect(transcriptName('SUPP-AB12')).toBe('SUPP-AB12.txt');
    expect(transcriptName('a/b')).toBe('a_b.txt');
    expect(transcriptName(undefined)).toBe('conversation.txt');
  });
});

describe('archived', () => {
  it('keeps the stored messages read-only under ids of their own, ended by a line with the ticket', () => {
    const kept = archived(items, 'SUPP-AB12', defaultStrings);
    expect(kept.map((i) => i.text)).toEqual([
      'Where is my order?',
      'Dana joined the conversation.',
      'It ships today.\nTracking soon.',
      'gone',
      'Conversation SUPP-AB12 ended',
    ]);
    expect(kept.every((i) => i.state === undefined && i.clientId === undefined)).toBe(true);
    expect(new Set(kept.map((i) => i.id)).size).toBe(5);
    expect(kept.some((i) => items.some((j) => j.id === i.id))).toBe(false);
  });

  it('keeps nothing of a conversation that never started', () => {
    expect(archived(items.slice(4), undefined, defaultStrings)).toEqual([]);
  });
});
