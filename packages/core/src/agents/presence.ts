import {
  AgentPresence,
  AgentRepository,
  AgentTeamRepository,
  AuditRepository,
  ConversationPriority,
  type Conversation,
  type DB,
  type Kysely,
} from '@topicdesk/data';
import { SyncReason } from '@topicdesk/contracts';
import type { AgentRef } from '../conversation.service';
import { busOutbox } from '../outbox-relay';
import type { UnitOfWork, Work } from '../unit-of-work';
import { capacityOf, type Assignment } from './assignment';

/** An agent's presence with their load, as /status and the presence commands show it. */
export interface PresenceReport {
  presence: AgentPresence;
  load: number;
  capacity: number;
}

const PRESENCE_ICON: Record<AgentPresence, string> = {
  online: '🟢',
  away: '🌙',
  offline: '⚫',
};

export const NOT_REGISTERED_FOR_PRESENCE =
  'Only registered agents have a status; /name <name> registers you.';

/** "🟢 online · 1 of 3 open conversations" */
export function presenceText(report: PresenceReport): string {
  return `${PRESENCE_ICON[report.presence]} ${report.presence} · ${report.load} of ${report.capacity} open conversations`;
}

/** An agent's presence and load; undefined when they are not a registered, active agent. */
export async function presenceOf(
  db: Kysely<DB>,
  tenantId: string,
  telegramUserId: number,
  defaultCapacity: number,
): Promise<PresenceReport | undefined> {
  const [load] = await new AgentTeamRepository(db).loads(tenantId, { telegramUserId });
  if (!load) return undefined;
  return {
    presence: load.agent.presence,
    load: load.load,
    capacity: capacityOf(load, defaultCapacity),
  };
}

/**
 * /online, /away, /offline (commands or the /status buttons): sets and audits the agent's
 * presence; an agent who comes online is given waiting conversations at once (in auto mode).
 */
export async function changePresence(
  work: Work,
  input: {
    tenantId: string;
    agent: AgentRef;
    presence: AgentPresence;
    assignment: Assignment;
    defaultCapacity: number;
  },
): Promise<{ ok: boolean; text: string }> {
  const { tenantId, agent, presence } = input;
  if (agent.agentId === null) return { ok: false, text: NOT_REGISTERED_FOR_PRESENCE };
  const before = await new AgentRepository(work.trx).findByTelegramUser(
    tenantId,
    agent.telegramUserId,
  );
  const updated = await new AgentTeamRepository(work.trx).setPresence(
    tenantId,
    agent.telegramUserId,
    presence,
    new Date(),
  );
  if (!before || !updated) return { ok: false, text: NOT_REGISTERED_FOR_PRESENCE };
  await new AuditRepository(work.trx).record({
    tenantId,
    actorType: 'agent',
    actorId: String(agent.telegramUserId),
    action: 'agent.presence',
    details: { from: before.presence, to: presence },
  });
  if (presence === AgentPresence.online) await input.assignment.drainIn(work, tenantId);
  const report = await presenceOf(work.trx, tenantId, agent.telegramUserId, input.defaultCapacity);
  return { ok: true, text: `You are now ${report ? presenceText(report) : presence}.` };
}

/** `/priority high|normal|low` in a topic: orders the queue; shown in the header. Audited. */
export async function changePriority(
  work: Work,
  conversation: Conversation,
  agent: AgentRef,
  args: string,
): Promise<{ ok: boolean; text: string }> {
  const priority = args.trim().toLowerCase();
  if (!isPriority(priority))
    return {
      ok: false,
      text: `This conversation's priority is ${conversation.priority}. Set it with /priority high, /priority normal or /priority low.`,
    };
  if (priority === conversation.priority)
    return { ok: false, text: `The priority is ${priority} already.` };
  const { tenant_id: tenantId, id: conversationId } = conversation;
  await new AgentTeamRepository(work.trx).setPriority(
    tenantId,
    conversationId,
    priority,
    new Date(),
  );
  await new AuditRepository(work.trx).record({
    tenantId,
    actorType: 'agent',
    actorId: String(agent.telegramUserId),
    action: 'conversation.priority',
    conversationId,
    details: { from: conversation.priority, to: priority },
  });
  work.emit(
    busOutbox(tenantId, 'conversationSync', {
      tenantId,
      conversationId,
      reason: SyncReason.STATUS_CHANGED,
    }),
  );
  return { ok: true, text: `Priority set to ${priority}.` };
}

function isPriority(value: string): value is ConversationPriority {
  return Object.hasOwn(ConversationPriority, value);
}

export function isPresence(value: string): value is AgentPresence {
  return Object.hasOwn(AgentPresence, value);
}

/**
 * The idle job: online agents silent since before `idleSince` go away, each audited. One
 * conditional update, so schedulers running it at once never move (or audit) an agent twice.
 */
export function awayWhenIdle(uow: UnitOfWork, idleSince: Date, at: Date): Promise<number> {
  return uow.run(async (work) => {
    const moved = await new AgentTeamRepository(work.trx).awayWhenIdle(idleSince, at);
    const audit = new AuditRepository(work.trx);
    for (const agent of moved)
      await audit.record({
        tenantId: agent.tenant_id,
        actorType: 'system',
        actorId: 'scheduler',
        action: 'agent.presence',
        details: { telegramUserId: agent.telegram_user_id, from: 'online', to: 'away', idle: true },
      });
    return moved.length;
  });
}
