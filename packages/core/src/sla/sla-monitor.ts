import { SyncReason } from '@topicdesk/contracts';
import {
  AuditRepository,
  SlaRepository,
  TelegramPostRepository,
  type DueSlaTarget,
  type SlaEvent,
} from '@topicdesk/data';
import { meter, type Logger } from '@topicdesk/telemetry';
import type { AssignmentOptions } from '../agents/assignment';
import { Escalation } from '../agents/escalation';
import type { TenantRoster } from '../tenants/tenant-roster';
import { busOutbox } from '../outbox-relay';
import type { UnitOfWork, Work } from '../unit-of-work';
import { formatDuration } from '../durations';
import { slaPost, targetName } from './sla-posts';

const BATCH = 100;
/** A breach's escalation is tried on this many scheduler runs before it is given up. */
const ESCALATION_ATTEMPTS = 5;

/**
 * Moves a conversation whose SLA was breached up a level (SLA_AUTO_ESCALATE). The escalation use
 * case implements it; the monitor only says which conversation of which tenant, and why.
 */
export interface SlaEscalator {
  escalate(tenantId: string, conversationId: string, reason: string): Promise<void>;
}

/**
 * The escalator of SLA_AUTO_ESCALATE: moves the conversation one level up with the breach as
 * its reason (`by: 'sla'`), through the escalation of the conversation's tenant (`escalationOf`;
 * undefined when that tenant cannot escalate, e.g. no default group is known). A refusal (L3
 * already, closed meanwhile) is thrown with its code, so the breach's escalation records it and
 * is given up after its attempts.
 */
export function slaEscalator(
  escalationOf: (
    tenantId: string,
  ) => Promise<Pick<Escalation, 'escalate'> | undefined> | Pick<Escalation, 'escalate'> | undefined,
): SlaEscalator {
  return {
    async escalate(tenantId, conversationId, reason) {
      const escalation = await escalationOf(tenantId);
      if (!escalation)
        throw new Error(`tenant ${tenantId} has no default support group to escalate from`);
      const result = await escalation.escalate(conversationId, { reason, by: 'sla' });
      if (!result.ok) throw new Error(`${result.code}: ${result.text}`);
    },
  };
}

/**
 * SLA_AUTO_ESCALATE's escalator over every tenant: one level up through an `Escalation` of the
 * conversation's tenant, with that tenant's default group from the roster (SUPPORT_GROUP_ID for
 * the default tenant, its bundle's first support group for the others). A tenant without one
 * cannot escalate: its breach's escalation records why and is retried, then given up.
 */
export function tenantSlaEscalator(options: {
  uow: UnitOfWork;
  roster: Pick<TenantRoster, 'defaultGroupOf'>;
  /** ASSIGNMENT and AGENT_CAPACITY_DEFAULT: in auto mode the new level's agents are assigned. */
  assignment?: Omit<AssignmentOptions, 'defaultGroupId' | 'roster'> | undefined;
}): SlaEscalator {
  return slaEscalator(async (tenantId) => {
    const defaultGroupId = await options.roster.defaultGroupOf(tenantId);
    if (defaultGroupId === undefined) return undefined;
    return new Escalation(options.uow, {
      tenantId,
      defaultGroupId,
      assignment: options.assignment && { ...options.assignment, defaultGroupId },
    });
  });
}

export interface SlaMonitorOptions {
  uow: UnitOfWork;
  logger: Logger;
  /** SLA_AUTO_ESCALATE: breaches are escalated (when an escalator is given). */
  autoEscalate: boolean;
  escalator?: SlaEscalator | undefined;
  /** Due targets handled per unit of work. */
  batch?: number | undefined;
}

/** What one run did. */
export interface SlaRunResult {
  reminders: number;
  breaches: number;
  escalations: number;
}

/** Why a conversation is escalated, as the escalation's audit entry and topic note show it. */
export function escalationReason(event: Pick<SlaEvent, 'target' | 'target_seconds' | 'priority'>) {
  return `SLA breached: ${targetName(event.target)} target of ${formatDuration(event.target_seconds)} (${event.priority} priority)`;
}

/**
 * The scheduler's SLA job: posts each due reminder and breach notice to the conversation's topic,
 * once (an `sla_events` row written in the same unit of work; replicas inserting the same row
 * wait for each other and only one posts), counts and audits breaches, and, with
 * SLA_AUTO_ESCALATE, hands each breach to the escalator once (a pending escalation is claimed
 * with SKIP LOCKED and marked done in the same transaction; a failure is retried on later runs,
 * a bounded number of times).
 */
export class SlaMonitor {
  readonly #breaches = meter().createCounter('topicdesk_sla_breaches_total', {
    description: 'SLA targets breached (breach notices posted), by target and priority',
  });

  constructor(private readonly options: SlaMonitorOptions) {}

  /** Whether breaches are handed to an escalator. */
  get escalates(): boolean {
    return this.options.autoEscalate && this.options.escalator !== undefined;
  }

  async run(now: Date): Promise<SlaRunResult> {
    const result: SlaRunResult = { reminders: 0, breaches: 0, escalations: 0 };
    const batch = this.options.batch ?? BATCH;
    for (;;) {
      const found = await this.options.uow.run(async (work) => {
        const due = await new SlaRepository(work.trx).due(now, batch);
        for (const target of due) {
          if (!(await this.#post(work, target, now))) continue;
          if (target.kind === 'breach') result.breaches += 1;
          else result.reminders += 1;
        }
        return due.length;
      });
      if (found < batch) break;
    }
    if (this.escalates) result.escalations = await this.#escalate(batch);
    return result;
  }

  /** Records the event and posts it; false when it was posted already. */
  async #post(work: Work, due: DueSlaTarget, at: Date): Promise<boolean> {
    const { tenantId, conversationId } = due;
    const breach = due.kind === 'breach';
    const recorded = await new SlaRepository(work.trx).record({
      tenantId,
      conversationId,
      target: due.target,
      kind: due.kind,
      priority: due.priority,
      targetSeconds: due.targetSeconds,
      businessHours: due.businessHours,
      at,
      escalate: breach && this.escalates,
    });
    if (!recorded) return false;
    await new TelegramPostRepository(work.trx).add([{ tenantId, conversationId, ...slaPost(due) }]);
    work.emit(
      busOutbox(tenantId, 'conversationSync', {
        tenantId,
        conversationId,
        reason: SyncReason.STATUS_CHANGED,
      }),
    );
    if (breach) {
      await new AuditRepository(work.trx).record({
        tenantId,
        actorType: 'system',
        actorId: 'scheduler',
        action: 'conversation.sla_breach',
        conversationId,
        details: {
          target: due.target,
          priority: due.priority,
          targetSeconds: due.targetSeconds,
          businessHours: due.businessHours,
        },
      });
      work.afterCommit(() => this.#breaches.add(1, { target: due.target, priority: due.priority }));
    }
    return true;
  }

  /**
   * One pass over the pending escalations: each is claimed, escalated and marked in one
   * transaction, so replicas never escalate the same breach twice (only a crash between the
   * escalator's commit and this one's can repeat it). What fails waits for the next run.
   */
  async #escalate(batch: number): Promise<number> {
    const escalator = this.options.escalator;
    if (!escalator) return 0;
    return this.options.uow.run(async (work) => {
      const slas = new SlaRepository(work.trx);
      let escalated = 0;
      for (const event of await slas.claimPendingEscalations(batch)) {
        try {
          await escalator.escalate(event.tenant_id, event.conversation_id, escalationReason(event));
          await slas.setEscalation(event.tenant_id, event, { done: true });
          escalated += 1;
        } catch (error) {
          const giveUp = event.escalation_attempts + 1 >= ESCALATION_ATTEMPTS;
          this.options.logger.warn(
            {
              err: error,
              tenantId: event.tenant_id,
              conversationId: event.conversation_id,
              target: event.target,
              giveUp,
            },
            giveUp ? 'SLA escalation failed; giving up' : 'SLA escalation failed; retrying later',
          );
          await slas.setEscalation(event.tenant_id, event, {
            done: false,
            error: error instanceof Error ? error.message : String(error),
            giveUp,
          });
        }
      }
      return escalated;
    });
  }
}
