import {
  AgentTeamRepository,
  DEFAULT_TENANT_ID,
  TelegramPostRepository,
  type AgentLoad,
  type PostEntity,
} from '@topicdesk/data';
import { ConversationService, type AgentRef } from '../conversation.service';
import type { TenantRoster } from '../tenants/tenant-roster';
import type { UnitOfWork, Work } from '../unit-of-work';
import { sentence } from './sentence';

/** How often `drain` tries for the tenant's assignment lock before leaving the queue to others. */
const LOCK_ATTEMPTS = 8;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** ASSIGNMENT: `manual` (agents claim, today's behaviour) or `auto` (the desk assigns). */
export const AssignmentMode = { auto: 'auto', manual: 'manual' } as const;
export type AssignmentMode = (typeof AssignmentMode)[keyof typeof AssignmentMode];

export interface AssignmentOptions {
  mode: AssignmentMode;
  /** AGENT_CAPACITY_DEFAULT: capacity of agents without one of their own. */
  defaultCapacity: number;
  /** SUPPORT_GROUP_ID, where conversations without a group of their own live (if known). */
  defaultGroupId?: number | undefined;
  /**
   * Passes over every tenant (the scheduler's): each tenant's default group comes from here
   * instead of `defaultGroupId`, and tenants not served (suspended, deleted) are skipped.
   */
  roster?: TenantRoster | undefined;
  /** Conversations looked at per pass (the queue's head). */
  batch?: number | undefined;
}

/** An online agent as the picking rule sees them. */
export interface Candidate {
  agentId: number;
  telegramUserId: number;
  name: string;
  capacity: number;
  load: number;
  lastAssignedAt: Date | null;
  /** The group they serve (null: all). */
  groupChatId: number | null;
  /** The level they serve (null: all). */
  level: number | null;
}

/** Where a conversation lives: its group (null: the default group) and that group's level. */
export interface Placement {
  groupChatId: number | null;
  level: number;
}

/**
 * The picking rule: among the agents who serve the conversation's group and level and have a
 * free place, the one with the most free places; ties go to the one who has waited longest
 * since their last assignment (never first), then to the one registered first.
 */
export function pickAgent(
  candidates: readonly Candidate[],
  placement: Placement,
  defaultGroupId?: number,
): Candidate | undefined {
  const group = placement.groupChatId ?? defaultGroupId ?? null;
  const serving = candidates.filter(
    (c) =>
      c.capacity - c.load > 0 &&
      (c.groupChatId === null || c.groupChatId === group) &&
      (c.level === null || c.level === placement.level),
  );
  const waited = (c: Candidate) => c.lastAssignedAt?.getTime() ?? Number.NEGATIVE_INFINITY;
  return serving.sort(
    (a, b) =>
      b.capacity - b.load - (a.capacity - a.load) || waited(a) - waited(b) || a.agentId - b.agentId,
  )[0];
}

/** An agent's capacity: their own, else the default. */
export function capacityOf(load: AgentLoad, defaultCapacity: number): number {
  return load.agent.capacity ?? defaultCapacity;
}

/** The topic's note that a conversation was assigned, mentioning the agent (Telegram notifies). */
export function assignedPost(agent: { name: string; telegramUserId: number }): {
  text: string;
  entities: PostEntity[];
} {
  const before = '📌 Assigned to ';
  return {
    text: sentence(`${before}${agent.name}`),
    entities: [
      {
        type: 'text_mention',
        offset: before.length,
        length: agent.name.length,
        user: { id: agent.telegramUserId, first_name: agent.name },
      },
    ],
  };
}

/**
 * Automatic assignment (ASSIGNMENT=auto). A pass takes the tenant's assignment lock (passes of
 * one tenant run one at a time, across replicas), reads the online agents' free capacity, locks
 * the head of the queue (priority, then age; SKIP LOCKED) and gives each conversation to the
 * agent the picking rule names, as a claim in the same unit of work: a conversation is held by
 * one agent at a time, however many bridges and schedulers run passes. Passes run when a
 * conversation starts, when an agent frees a place (close, unclaim) or comes online, and on the
 * scheduler's interval (what a pass missed, it catches).
 */
export class Assignment {
  readonly #service: ConversationService;

  constructor(
    private readonly uow: UnitOfWork,
    private readonly options: AssignmentOptions,
  ) {
    this.#service = new ConversationService(uow);
  }

  get auto(): boolean {
    return this.options.mode === AssignmentMode.auto;
  }

  /**
   * A pass in its own unit of work; how many conversations it assigned. While another pass of
   * the tenant runs, it waits outside any transaction and tries again a few times (a burst of new
   * conversations must not hold a connection each while queueing for the lock); when it never
   * gets its turn, the scheduler's next pass takes the queue.
   */
  async drain(tenantId: string = DEFAULT_TENANT_ID): Promise<number> {
    if (!this.auto) return 0;
    for (let attempt = 0; attempt < LOCK_ATTEMPTS; attempt++) {
      const assigned = await this.uow.run(async (work) =>
        (await new AgentTeamRepository(work.trx).trySerializeAssignment(tenantId))
          ? this.#pass(work, tenantId)
          : undefined,
      );
      if (assigned !== undefined) return assigned;
      await sleep(Math.min(400, 20 * 2 ** attempt) * (0.5 + Math.random()));
    }
    return 0;
  }

  /**
   * A pass for every served tenant with a queue (the scheduler's job): at most `batch`
   * conversations of each per call, so one tenant's backlog does not hold up the others'.
   */
  async drainAll(): Promise<number> {
    if (!this.auto) return 0;
    const tenants = await new AgentTeamRepository(this.uow.db).queuedTenants();
    const { roster } = this.options;
    let total = 0;
    for (const tenantId of tenants) {
      if (roster && !(await roster.served(tenantId))) continue;
      total += await this.drain(tenantId);
    }
    return total;
  }

  /**
   * A pass inside the caller's unit of work (after a close, unclaim or /online). `skip`: an
   * agent who just gave that conversation back does not get it again in this pass.
   */
  async drainIn(
    work: Work,
    tenantId: string,
    skip?: { conversationId: string; telegramUserId: number },
  ): Promise<number> {
    if (!this.auto) return 0;
    await new AgentTeamRepository(work.trx).serializeAssignment(tenantId);
    return this.#pass(work, tenantId, skip);
  }

  /** The pass itself, with the tenant's assignment lock held. */
  async #pass(
    work: Work,
    tenantId: string,
    skip?: { conversationId: string; telegramUserId: number },
  ): Promise<number> {
    const team = new AgentTeamRepository(work.trx);
    const candidates: Candidate[] = (await team.loads(tenantId, { onlineOnly: true })).map((l) => ({
      agentId: l.agent.id,
      telegramUserId: l.agent.telegram_user_id,
      name: l.agent.display_name,
      capacity: capacityOf(l, this.options.defaultCapacity),
      load: l.load,
      lastAssignedAt: l.lastAssignedAt,
      groupChatId: l.agent.group_chat_id,
      level: l.agent.level,
    }));
    if (!candidates.some((c) => c.capacity > c.load)) return 0;
    const { roster } = this.options;
    const defaultGroupId = roster
      ? await roster.defaultGroupOf(tenantId)
      : this.options.defaultGroupId;
    const queue = await team.lockQueue(tenantId, this.options.batch ?? 50);
    let assigned = 0;
    const at = new Date();
    for (const { conversation, level } of queue) {
      const eligible =
        skip?.conversationId === conversation.id
          ? candidates.filter((c) => c.telegramUserId !== skip.telegramUserId)
          : candidates;
      const agent = pickAgent(
        eligible,
        { groupChatId: conversation.group_chat_id, level },
        defaultGroupId,
      );
      if (!agent) continue;
      const ref: AgentRef = {
        agentId: agent.agentId,
        telegramUserId: agent.telegramUserId,
        name: agent.name,
      };
      await this.#service.claim(work, {
        tenantId,
        conversationId: conversation.id,
        agent: ref,
        assignedBy: { type: 'system', id: 'assignment' },
      });
      // The claim's sync sends this post too (it is read after the commit).
      await new TelegramPostRepository(work.trx).add([
        { tenantId, conversationId: conversation.id, ...assignedPost(ref) },
      ]);
      agent.load += 1;
      agent.lastAssignedAt = at;
      assigned += 1;
    }
    return assigned;
  }
}
