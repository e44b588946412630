import type { PrivateChatRequest } from '@topicdesk/core';
import type { Update } from 'grammy/types';

/** Whether an update comes from a private chat with the bot (a user, not the support group). */
export function isPrivateChatUpdate(update: Update): boolean {
  const chat =
    update.message?.chat ?? update.edited_message?.chat ?? update.callback_query?.message?.chat;
  return chat?.type === 'private';
}

export const PrivateCommand = {
  start: 'start',
  support: 'support',
  end: 'end',
  help: 'help',
  unknown: 'unknown',
} as const;
export type PrivateCommand = (typeof PrivateCommand)[keyof typeof PrivateCommand];

/** Parses `/name@bot args` of the private chat; undefined when the text is not a command. */
export function parsePrivateCommand(
  text: string,
): { name: PrivateCommand; args: string } | undefined {
  const trimmed = text.trim();
  if (!trimmed.startsWith('/')) return undefined;
  const match = /^\/([A-Za-z0-9_]+)(?:@[A-Za-z0-9_]+)?(?:\s+([\s\S]*))?$/.exec(trimmed);
  const name = match?.[1]?.toLowerCase();
  const known = name !== undefined && name !== 'unknown' && name in PrivateCommand;
  return {
    name: known ? (name as PrivateCommand) : PrivateCommand.unknown,
    args: (match?.[2] ?? '').trim(),
  };
}

/** What a message in the private chat asks for: a command, a text to relay, or neither. */
export function messageRequest(message: { message_id: number; text?: string }): PrivateChatRequest {
  const { text } = message;
  // Stickers, voice notes, locations…: nothing is stored or relayed (photos and documents are
  // files, taken before this).
  if (text === undefined) return { kind: 'not_text' };
  const command = parsePrivateCommand(text);
  if (!command) return { kind: 'text', messageId: message.message_id, text };
  switch (command.name) {
    case 'start':
      // `/start support` is the deep link of a "talk to support" button elsewhere.
      return command.args === 'support' ? { kind: 'support' } : { kind: 'greeting' };
    case 'support':
      return { kind: 'support' };
    case 'end':
      return { kind: 'end' };
    case 'help':
      return { kind: 'help', known: true };
    case 'unknown':
      return { kind: 'help', known: false };
    default: {
      const never: never = command.name;
      throw new Error(`unhandled command ${String(never)}`);
    }
  }
}

/** Telegram's language_code, if it looks like one (it only picks templates). */
export function normalizeLanguage(code: string | undefined): string | null {
  if (!code || code.length > 16 || !/^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$/.test(code)) return null;
  return code.toLowerCase();
}
