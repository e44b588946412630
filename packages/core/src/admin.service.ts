import type { Bus } from '@topicdesk/bus';
import {
  AgentRepository,
  AgentTeamRepository,
  PriorityRuleRepository,
  type AgentLoad,
  type PriorityRule,
  type PriorityRuleInput,
  AuditRepository,
  DeadLetterRepository,
  SupportGroupRepository,
  TemplateRepository,
  type Agent,
  type AgentInput,
  type AuditEntry,
  type DeadLetterRow,
  type SupportGroup,
  type SupportGroupInput,
  type SystemTemplate,
  type TemplateInput,
} from '@topicdesk/data';
import { isRole, roleRank, type Role } from './console/access';
import { publishDeadLetter } from './dead-letters';
import type { UnitOfWork, Work } from './unit-of-work';

/** An agent as an admin registers them (a Telegram user behind a display name). */
export type AgentSettings = Omit<AgentInput, 'tenantId'>;
/** A system message template or saved reply (`reply.<name>`) in one locale ('' the default). */
export type TemplateSettings = Omit<TemplateInput, 'tenantId'>;
/** A support group besides SUPPORT_GROUP_ID: its segments, locales and escalation level. */
export type GroupSettings = Omit<SupportGroupInput, 'tenantId'>;

/** A change to an agent above the acting role's rank, or granting a role above it. */
export class RoleRankError extends Error {
  override readonly name = 'RoleRankError';
}

/** Refuses when `actingRole` is below `role` (an unknown stored role counts as the lowest). */
function assertRank(actingRole: Role | undefined, role: string, what: string): void {
  if (actingRole === undefined) return;
  const rank = isRole(role) ? roleRank(role) : Number.MAX_SAFE_INTEGER;
  if (rank < roleRank(actingRole))
    throw new RoleRankError(`the ${actingRole} role may not ${what} ${role}`);
}

/** One page of a newest-first list: at most `limit` entries with an id below `before`. */
export interface Page {
  limit: number;
  before?: number | undefined;
}

/**
 * The admin API's use cases: agents, templates, support groups, the audit log and dead letters.
 * Every change commits together with its audit entry (`actor`: who made it, e.g. the service
 * token). Templates and groups are read from Postgres on every use, so a change applies at once
 * on every replica.
 */
export class AdminService {
  constructor(
    private readonly uow: UnitOfWork,
    /** Replays of dead letters publish here. */
    private readonly bus: Bus,
  ) {}

  agents(tenantId: string): Promise<Agent[]> {
    return new AgentRepository(this.uow.db).list(tenantId);
  }

  /** Every active or inactive agent with their load (open conversations they hold). */
  async agentLoads(tenantId: string): Promise<AgentLoad[]> {
    const loads = await new AgentTeamRepository(this.uow.db).loads(tenantId, {});
    const inactive = (await this.agents(tenantId)).filter((a) => !a.active);
    return [...loads, ...inactive.map((agent) => ({ agent, load: 0, lastAssignedAt: null }))].sort(
      (a, b) => a.agent.id - b.agent.id,
    );
  }

  priorityRules(tenantId: string): Promise<PriorityRule[]> {
    return new PriorityRuleRepository(this.uow.db).list(tenantId);
  }

  /** Replaces every priority rule (they apply to conversations started from now on). */
  savePriorityRules(
    tenantId: string,
    actor: string,
    rules: readonly PriorityRuleInput[],
  ): Promise<PriorityRule[]> {
    return this.uow.run(async (work) => {
      const saved = await new PriorityRuleRepository(work.trx).replace(tenantId, rules);
      await audit(work, tenantId, actor, 'priority_rules.update', { rules });
      return saved;
    });
  }

  /**
   * `actingRole`: the caller's; an agent ranked above it, or a role above it, is refused
   * (RoleRankError), so an admin cannot make an owner or change one.
   */
  saveAgent(
    tenantId: string,
    actor: string,
    agent: AgentSettings,
    actingRole?: Role,
  ): Promise<Agent> {
    return this.uow.run(async (work) => {
      assertRank(actingRole, agent.role ?? 'agent', 'grant the role');
      const existing = await new AgentRepository(work.trx).findByTelegramUser(
        tenantId,
        agent.telegramUserId,
      );
      if (existing) assertRank(actingRole, existing.role, 'change an agent whose role is');
      const saved = await new AgentRepository(work.trx).upsert({ tenantId, ...agent });
      await audit(work, tenantId, actor, 'agent.upsert', { ...agent });
      return saved;
    });
  }

  /** Keeps the agent's row (their name stays on what they wrote); false if there is none. */
  deactivateAgent(
    tenantId: string,
    actor: string,
    telegramUserId: number,
    actingRole?: Role,
  ): Promise<boolean> {
    return this.uow.run(async (work) => {
      const agents = new AgentRepository(work.trx);
      const existing = await agents.findByTelegramUser(tenantId, telegramUserId);
      if (!existing) return false;
      assertRank(actingRole, existing.role, 'deactivate an agent whose role is');
      await agents.upsert({
        tenantId,
        telegramUserId,
        displayName: existing.display_name,
        role: existing.role,
        active: false,
      });
      await audit(work, tenantId, actor, 'agent.deactivate', { telegramUserId });
      return true;
    });
  }

  templates(tenantId: string): Promise<SystemTemplate[]> {
    return new TemplateRepository(this.uow.db).list(tenantId);
  }

  /** Saves all of them or none. */
  saveTemplates(
    tenantId: string,
    actor: string,
    templates: readonly TemplateSettings[],
  ): Promise<void> {
    return this.uow.run(async (work) => {
      for (const template of templates) {
        await new TemplateRepository(work.trx).upsert({ tenantId, ...template });
        await audit(work, tenantId, actor, 'template.update', {
          key: template.key,
          locale: template.locale,
          flags: {
            wsBanner: template.wsBanner,
            persist: template.persist,
            telegram: template.telegram,
            pin: template.pin,
          },
          minIntervalMs: template.minIntervalMs,
        });
      }
    });
  }

  /** False if there is no such template. */
  deleteTemplate(tenantId: string, actor: string, key: string, locale: string): Promise<boolean> {
    return this.uow.run(async (work) => {
      if (!(await new TemplateRepository(work.trx).delete(tenantId, key, locale))) return false;
      await audit(work, tenantId, actor, 'template.delete', { key, locale });
      return true;
    });
  }

  groups(tenantId: string): Promise<SupportGroup[]> {
    return new SupportGroupRepository(this.uow.db).list(tenantId);
  }

  /** Registers or replaces a group: it routes the next conversation on every replica. */
  saveGroup(tenantId: string, actor: string, group: GroupSettings): Promise<SupportGroup> {
    return this.uow.run(async (work) => {
      const saved = await new SupportGroupRepository(work.trx).upsert({ tenantId, ...group });
      await audit(work, tenantId, actor, 'group.upsert', { ...group });
      return saved;
    });
  }

  /**
   * Deactivates rather than deletes: the group's conversations keep their topics there.
   * Undefined if there is no such group.
   */
  deactivateGroup(
    tenantId: string,
    actor: string,
    chatId: number,
  ): Promise<SupportGroup | undefined> {
    return this.uow.run(async (work) => {
      const group = await new SupportGroupRepository(work.trx).deactivate(tenantId, chatId);
      if (group) await audit(work, tenantId, actor, 'group.deactivate', { chatId });
      return group;
    });
  }

  /** Newest first. */
  auditLog(tenantId: string, page: Page): Promise<AuditEntry[]> {
    return new AuditRepository(this.uow.db).list(tenantId, {
      limit: page.limit,
      beforeId: page.before,
    });
  }

  /** Newest first; `pending`: only those not replayed yet. */
  deadLetters(tenantId: string, page: Page & { pending: boolean }): Promise<DeadLetterRow[]> {
    return new DeadLetterRepository(this.uow.db).list(tenantId, page);
  }

  /**
   * Publishes a dead letter again on its topic once its cause is fixed, then records the replay
   * and its audit entry. Undefined if there is no such dead letter; DeadLetterTopicError if it
   * names a topic this version does not have.
   */
  async replayDeadLetter(
    tenantId: string,
    actor: string,
    id: number,
  ): Promise<DeadLetterRow | undefined> {
    const row = await new DeadLetterRepository(this.uow.db).find(tenantId, id);
    if (!row) return undefined;
    // Published before the transaction: it must not hold a connection while NATS answers.
    await publishDeadLetter(this.bus, row);
    return this.uow.run(async (work) => {
      const replayed = await new DeadLetterRepository(work.trx).markReplayed(
        tenantId,
        id,
        new Date(),
      );
      if (replayed)
        await audit(work, tenantId, actor, 'dead_letter.replay', { id, topic: row.topic });
      return replayed;
    });
  }
}

function audit(
  work: Work,
  tenantId: string,
  actorId: string,
  action: string,
  details: Record<string, unknown>,
): Promise<void> {
  return new AuditRepository(work.trx).record({
    tenantId,
    actorType: 'admin',
    actorId,
    action,
    details,
  });
}
