import { nameField } from '@topicdesk/protocol';
import {
  AgentRepository,
  AuditRepository,
  MessageRepository,
  TemplateRepository,
  type Conversation,
  type DB,
  type Kysely,
} from '@topicdesk/data';
import type { AgentRef, ConversationService } from '../conversation.service';
import type { Work } from '../unit-of-work';
import type { Assignment } from './assignment';
import type { Escalation } from './escalation';
import { sentence } from './sentence';
import { teamStats, teamStatsText } from './team-stats';
import { changePresence, changePriority, presenceOf, presenceText } from './presence';

/** The agents' commands; anything else starting with "/" is `unknown` and never reaches a visitor. */
export const AGENT_COMMANDS = [
  'claim',
  'unclaim',
  'close',
  'reopen',
  'note',
  't',
  'delete',
  'help',
  'whoami',
  'name',
  'stats',
  'online',
  'away',
  'offline',
  'status',
  'priority',
  'escalate',
] as const;
export type AgentCommandName = (typeof AGENT_COMMANDS)[number] | 'unknown';

export interface AgentCommand {
  name: AgentCommandName;
  /** Everything after the command, trimmed ('' when nothing). */
  args: string;
}

/** What an update did, as the bridge reports and counts it. */
export type DeskOutcome =
  'stored' | 'edited' | 'duplicate' | 'command' | 'refused' | `ignored:${string}`;

/** The header buttons' actions, which the commands of the same name share. */
export type DeskAction = 'claim' | 'unclaim' | 'close' | 'reopen';

/** What the visitor sees when an agent is not registered. */
export const UNKNOWN_AGENT_NAME = 'Support';

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
  '/name <name> — the name visitors see you by',
  '/priority high|normal|low — this conversation’s priority (orders the queue)',
  '/escalate [reason] — move it one level up (L1 → L2 → L3); the next level’s agents take over',
  '/stats — open and waiting conversations, who is online with their load',
  '/online, /away, /offline — your status; /status shows it and your load',
  '/help — this list',
  'Anything else you write here goes to the visitor.',
].join('\n');

export const CLOSED_NOTHING_SENT =
  'This conversation is closed; nothing was sent. /reopen it to answer.';

/** A command being run by an agent in a topic, with the conversation locked. */
export interface CommandRun {
  readonly work: Work;
  readonly service: ConversationService;
  /** Locked for the command's unit of work. */
  readonly conversation: Conversation;
  readonly agent: AgentRef;
  readonly args: string;
  readonly chatId: number;
  readonly messageId: number;
  /** The message the command replies to, if it replies to one. */
  readonly replyToMessageId: number | undefined;
  /** Posts a bot answer in the topic, as a reply to the command. */
  say(text: string, outcome?: 'command' | 'refused'): Promise<DeskOutcome>;
  /** Relays the agent's text to the visitor, claiming the conversation if nobody has. */
  relay(text: string): Promise<void>;
  /** Automatic assignment (a no-op in manual mode). */
  readonly assignment: Assignment;
  /** AGENT_CAPACITY_DEFAULT. */
  readonly defaultCapacity: number;
  /** Escalation (/escalate). */
  readonly escalation: Escalation;
}

type AgentCommandHandler = (run: CommandRun) => Promise<DeskOutcome>;

/** What a command in a topic does: an answer to anyone in the topic, or an agent's action. */
export type TopicCommand =
  | { kind: 'answer'; text: string; outcome: 'command' | 'refused' }
  | { kind: 'agent'; run: AgentCommandHandler };

const agentCommand = (run: AgentCommandHandler): TopicCommand => ({ kind: 'agent', run });

/** The commands in a conversation's topic. */
export const TOPIC_COMMANDS: Record<AgentCommandName, TopicCommand> = {
  help: { kind: 'answer', text: HELP_TOPIC, outcome: 'command' },
  stats: agentCommand(async (run) =>
    run.say(
      teamStatsText(await teamStats(run.work.trx, run.conversation.tenant_id, run.defaultCapacity)),
    ),
  ),
  escalate: agentCommand(async (run) => {
    // Done, the escalation's own post answers the command (in the topic it was written in: a
    // topic the conversation left is no longer its topic, so `say` would post elsewhere).
    const result = await run.escalation.escalateIn(run.work, run.conversation, {
      reason: run.args,
      by: run.agent,
      replyTo: run.messageId,
    });
    return result.ok ? 'command' : run.say(result.text, 'refused');
  }),
  whoami: agentCommand((run) =>
    run.say(
      run.agent.agentId !== null
        ? `${sentence(`You are ${run.agent.name}`)} Visitors see you as “${run.agent.name}”.`
        : `You are not registered as an agent. Visitors see you as “${run.agent.name}”. An admin can add you with a display name.`,
    ),
  ),
  name: agentCommand(async (run) => {
    const named = await nameAgent(run.work, run.conversation.tenant_id, run.agent, run.args);
    return run.say(named.text, named.ok ? 'command' : 'refused');
  }),
  claim: agentCommand((run) => actAndSay(run, 'claim')),
  unclaim: agentCommand((run) => actAndSay(run, 'unclaim')),
  close: agentCommand((run) => actAndSay(run, 'close')),
  reopen: agentCommand((run) => actAndSay(run, 'reopen')),
  note: agentCommand(async (run) => {
    if (!run.args) return run.say('Write the note after the command: /note <text>', 'refused');
    await run.service.note(run.work, {
      tenantId: run.conversation.tenant_id,
      conversationId: run.conversation.id,
      agent: run.agent,
      text: run.args,
      telegramMessageId: run.messageId,
    });
    return run.say('📝 Note saved for agents; the visitor does not see it.');
  }),
  online: agentCommand((run) => presenceAndSay(run, 'online')),
  away: agentCommand((run) => presenceAndSay(run, 'away')),
  offline: agentCommand((run) => presenceAndSay(run, 'offline')),
  status: agentCommand(async (run) => {
    const report = await presenceOf(
      run.work.trx,
      run.conversation.tenant_id,
      run.agent.telegramUserId,
      run.defaultCapacity,
    );
    return report
      ? run.say(`You are ${presenceText(report)}.`)
      : run.say('You are not a registered agent, so you have no status.', 'refused');
  }),
  priority: agentCommand(async (run) => {
    const changed = await changePriority(run.work, run.conversation, run.agent, run.args);
    return run.say(changed.text, changed.ok ? 'command' : 'refused');
  }),
  t: agentCommand(sendSavedReply),
  delete: agentCommand(retract),
  unknown: agentCommand((run) => run.say(`Unknown command. ${HELP_TOPIC}`, 'refused')),
};

/** The admin API's rule for agents' display names. */
export const AGENT_DISPLAY_NAME = nameField(64);

/**
 * `/name <name>`: an agent sets the name visitors see. It registers an unregistered agent (the
 * desk only lets those who may answer get here) and keeps a registered one's role and state.
 */
export async function nameAgent(
  work: Work,
  tenantId: string,
  agent: AgentRef,
  args: string,
): Promise<{ ok: boolean; text: string }> {
  const parsed = AGENT_DISPLAY_NAME.safeParse(args);
  if (!parsed.success)
    return {
      ok: false,
      text: 'Write the name visitors should see after the command: /name Dana (1–64 characters, no control characters).',
    };
  const agents = new AgentRepository(work.trx);
  const existing = await agents.findByTelegramUser(tenantId, agent.telegramUserId);
  await agents.upsert({
    tenantId,
    telegramUserId: agent.telegramUserId,
    displayName: parsed.data,
    role: existing?.role,
    active: existing?.active,
  });
  await new AuditRepository(work.trx).record({
    tenantId,
    actorType: 'agent',
    actorId: String(agent.telegramUserId),
    action: 'agent.name',
    details: { from: existing?.display_name ?? null, to: parsed.data },
  });
  return { ok: true, text: `Visitors now see you as “${parsed.data}”.` };
}

async function presenceAndSay(
  run: CommandRun,
  presence: 'online' | 'away' | 'offline',
): Promise<DeskOutcome> {
  const changed = await changePresence(run.work, {
    tenantId: run.conversation.tenant_id,
    agent: run.agent,
    presence,
    assignment: run.assignment,
    defaultCapacity: run.defaultCapacity,
  });
  return run.say(changed.text, changed.ok ? 'command' : 'refused');
}

async function actAndSay(run: CommandRun, action: DeskAction): Promise<DeskOutcome> {
  const result = await act(
    run.work,
    run.service,
    run.conversation,
    action,
    run.agent,
    run.assignment,
  );
  await run.say(result.text);
  return result.ok ? 'command' : 'refused';
}

/** /t <name>: the saved reply reply.<name> in the conversation's locale, sent as the agent. */
async function sendSavedReply(run: CommandRun): Promise<DeskOutcome> {
  const { conversation, agent } = run;
  if (!run.args) return run.say(await savedRepliesList(run.work.trx, conversation), 'refused');
  if (conversation.status === 'closed') return run.say(CLOSED_NOTHING_SENT, 'refused');
  const template = await new TemplateRepository(run.work.trx).resolve(
    conversation.tenant_id,
    `reply.${run.args}`,
    conversation.locale,
  );
  if (!template) {
    const list = await savedRepliesList(run.work.trx, conversation);
    return run.say(`No saved reply named “${run.args}”. ${list}`, 'refused');
  }
  const text = template.text
    .replace(/\{ticket\}/g, conversation.ticket)
    .replace(/\{agent\}/g, agent.name);
  await run.relay(text);
  return run.say(`↪️ Sent to the visitor:\n${text}`);
}

/** /delete, as a reply to an agent message: the visitor no longer sees it. */
async function retract(run: CommandRun): Promise<DeskOutcome> {
  // In a topic, a message that replies to nothing still points at the topic's first message.
  const stored =
    run.replyToMessageId === undefined
      ? undefined
      : await new MessageRepository(run.work.trx).findAgentMessage(
          run.conversation.tenant_id,
          run.chatId,
          run.replyToMessageId,
        );
  if (!stored || stored.conversation_id !== run.conversation.id)
    return run.say(
      'Reply to an agent message with /delete to retract it from the visitor.',
      'refused',
    );
  const retracted = await run.service.retract(run.work, {
    tenantId: run.conversation.tenant_id,
    message: stored,
    agent: run.agent,
  });
  if (!retracted) return run.say('That message was retracted already.', 'refused');
  return run.say('🗑 Retracted: the visitor no longer sees that message.');
}

async function savedRepliesList(trx: Kysely<DB>, conversation: Conversation): Promise<string> {
  const names = (await new TemplateRepository(trx).list(conversation.tenant_id))
    .filter((t) => t.key.startsWith('reply.'))
    .map((t) => t.key.slice('reply.'.length));
  const unique = [...new Set(names)];
  return unique.length > 0
    ? `Saved replies: ${unique.join(', ')}.`
    : 'No saved replies yet; an admin adds them as templates named reply.<name>.';
}

/**
 * Claim / unclaim / close / reopen of a locked conversation, shared by commands and header
 * buttons: whether it changed anything, and the answer for the agent. A close or unclaim frees
 * a place: in auto mode, waiting conversations are assigned in the same unit of work.
 */
export async function act(
  work: Work,
  service: ConversationService,
  conversation: Conversation,
  action: DeskAction,
  agent: AgentRef,
  assignment?: Assignment,
): Promise<{ ok: boolean; text: string }> {
  const result = await applyAction(work, service, conversation, action, agent);
  if (result.ok && assignment && (action === 'close' || action === 'unclaim')) {
    await assignment.drainIn(work, conversation.tenant_id, {
      conversationId: conversation.id,
      telegramUserId: agent.telegramUserId,
    });
  }
  return result;
}

async function applyAction(
  work: Work,
  service: ConversationService,
  conversation: Conversation,
  action: DeskAction,
  agent: AgentRef,
): Promise<{ ok: boolean; text: string }> {
  const base = { tenantId: conversation.tenant_id, conversationId: conversation.id };
  const actor = { type: 'agent', id: String(agent.telegramUserId) } as const;
  switch (action) {
    case 'claim': {
      if (conversation.status === 'closed')
        return { ok: false, text: 'This conversation is closed; /reopen it first.' };
      if (conversation.claimed_by_telegram_user_id === agent.telegramUserId)
        return { ok: false, text: 'You have claimed it already.' };
      if (conversation.claimed_at) {
        const by = conversation.claimed_by_name ?? 'another agent';
        return { ok: false, text: `Already claimed by ${by}; they can /unclaim it.` };
      }
      await service.claim(work, { ...base, agent });
      return { ok: true, text: sentence(`✋ Claimed by ${agent.name}`) };
    }
    case 'unclaim': {
      if (!conversation.claimed_at)
        return { ok: false, text: 'Nobody has claimed this conversation.' };
      if (conversation.claimed_by_telegram_user_id !== agent.telegramUserId) {
        const by = conversation.claimed_by_name ?? 'the claiming agent';
        return { ok: false, text: `Only ${by} can unclaim it.` };
      }
      await service.unclaim(work, { ...base, agent });
      return { ok: true, text: '↩️ Unclaimed: the conversation is open for anyone.' };
    }
    case 'close': {
      const closed = await service.close(work, {
        ...base,
        actor,
        reason: 'agent',
        templateKey: 'closed_note',
      });
      return closed
        ? { ok: true, text: `${sentence(`✅ Closed by ${agent.name}`)} The visitor was told.` }
        : { ok: false, text: 'This conversation is already closed.' };
    }
    case 'reopen': {
      const reopened = await service.reopen(work, { ...base, actor });
      if (reopened) return { ok: true, text: sentence(`🔄 Reopened by ${agent.name}`) };
      return conversation.erased_at
        ? { ok: false, text: "The visitor's data was erased: this conversation stays closed." }
        : { ok: false, text: 'This conversation is open.' };
    }
    default: {
      const never: never = action;
      throw new Error(`unhandled action ${String(never)}`);
    }
  }
}
