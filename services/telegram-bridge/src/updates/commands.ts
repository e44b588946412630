/** Agent commands; anything else starting with "/" is `unknown` and never reaches a visitor. */
export const COMMANDS = [
  'claim',
  'unclaim',
  'close',
  'reopen',
  'note',
  't',
  'delete',
  'help',
  'whoami',
  'stats',
] as const;
export type CommandName = (typeof COMMANDS)[number] | 'unknown';

export interface Command {
  name: CommandName;
  /** Everything after the command, trimmed ('' when nothing). */
  args: string;
}

/** Parses `/name@bot args`; undefined when the text is not a command. */
export function parseCommand(text: string): Command | undefined {
  const match = /^\/([A-Za-z0-9_]+)(?:@[A-Za-z0-9_]+)?(?:\s+([\s\S]*))?$/.exec(text.trim());
  if (!match) return text.trim().startsWith('/') ? { name: 'unknown', args: '' } : undefined;
  const name = (match[1] as string).toLowerCase();
  return {
    name: (COMMANDS as readonly string[]).includes(name) ? (name as CommandName) : 'unknown',
    args: (match[2] ?? '').trim(),
  };
}

export const HELP_TOPIC = [
  'Commands in a conversation topic:',
  '/claim — take the conversation',
  '/unclaim — give it back',
  '/close — close it (the visitor is told)',
  '/reopen — reopen it',
  '/note <text> — an internal note, never sent to the visitor',
  '/t <name> — send the saved reply <name>',
  '/delete — as a reply to an agent message: retract it from the visitor',
  '/whoami — how visitors see you',
  '/help — this list',
  'Anything else you write here goes to the visitor.',
].join('\n');

export const HELP_GENERAL = [
  'Each conversation has its own topic; answer there.',
  'In General: /stats — open and unclaimed conversations, today’s median first response; /help — this text.',
].join('\n');
