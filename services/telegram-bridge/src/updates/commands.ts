import { AGENT_COMMANDS, type AgentCommand, type AgentCommandName } from '@topicdesk/core';

// The command names and what they do in a topic are core's (the agent desk's command table);
// the bridge reads them from the text and answers the General topic itself.
export type CommandName = AgentCommandName;
export type Command = AgentCommand;

/** Parses `/name@bot args`; undefined when the text is not a command. */
export function parseCommand(text: string): Command | undefined {
  const match = /^\/([A-Za-z0-9_]+)(?:@[A-Za-z0-9_]+)?(?:\s+([\s\S]*))?$/.exec(text.trim());
  if (!match) return text.trim().startsWith('/') ? { name: 'unknown', args: '' } : undefined;
  const name = (match[1] as string).toLowerCase();
  return {
    name: (AGENT_COMMANDS as readonly string[]).includes(name) ? (name as CommandName) : 'unknown',
    args: (match[2] ?? '').trim(),
  };
}

export const HELP_GENERAL = [
  'Each conversation has its own topic; answer there.',
  'In General or a topic: /stats — open and waiting conversations, who is online with their load (in General also today’s median first response); /name <name> — the name visitors see you by; /help — this text.',
  'Here or in a topic: /online, /away, /offline — your status; /status — your status and load, with buttons.',
].join('\n');
