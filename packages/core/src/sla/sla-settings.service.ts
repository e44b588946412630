import {
  AuditRepository,
  ConversationPriority,
  SlaRepository,
  type SlaPolicy,
  type SlaTargetSet,
} from '@topicdesk/data';
import type { UnitOfWork } from '../unit-of-work';

/** Reminders go out at this share of a target unless the policy says otherwise. */
export const DEFAULT_REMIND_AT_PERCENT = 80;

/** One priority's targets as the admin API shows them (seconds; null: no such target). */
export interface SlaTargets {
  firstResponseSeconds: number | null;
  resolutionSeconds: number | null;
  /** Count only the seconds inside the tenant's business hours. */
  businessHours: boolean;
}

/** A tenant's SLA: targets by priority (a priority left out has none). */
export interface SlaSettings {
  /** Reminders at this percentage of a target; null: breach notices only. */
  remindAtPercent: number | null;
  targets: Partial<Record<ConversationPriority, SlaTargets>>;
  updatedAt: Date | null;
}

export const NO_SLA: SlaSettings = {
  remindAtPercent: DEFAULT_REMIND_AT_PERCENT,
  targets: {},
  updatedAt: null,
};

const PRIORITIES = Object.values(ConversationPriority);

function settingsOf(policy: SlaPolicy): SlaSettings {
  const targets: SlaSettings['targets'] = {};
  for (const priority of PRIORITIES) {
    const set = policy.targets[priority];
    if (set)
      targets[priority] = {
        firstResponseSeconds: set.first_response ?? null,
        resolutionSeconds: set.resolution ?? null,
        businessHours: set.business_hours,
      };
  }
  return { remindAtPercent: policy.remind_at_percent, targets, updatedAt: policy.updated_at };
}

/**
 * The SLA targets of the admin API (`/v1/admin/settings/sla`). Reading writes nothing; a change is
 * audited (`sla.update`). A priority with a target leaves the fixed unclaimed reminders to the
 * SLA's own (the scheduler's SLA job).
 */
export class SlaSettingsService {
  constructor(private readonly uow: UnitOfWork) {}

  async get(tenantId: string): Promise<SlaSettings> {
    const policy = await new SlaRepository(this.uow.db).policy(tenantId);
    return policy ? settingsOf(policy) : NO_SLA;
  }

  /** Replaces the tenant's targets; `targets` without any priority turns the SLA off. */
  set(
    tenantId: string,
    actor: string,
    settings: Pick<SlaSettings, 'remindAtPercent' | 'targets'>,
  ): Promise<SlaSettings> {
    const stored: Partial<Record<ConversationPriority, SlaTargetSet>> = {};
    for (const priority of PRIORITIES) {
      const set = settings.targets[priority];
      if (!set || (set.firstResponseSeconds === null && set.resolutionSeconds === null)) continue;
      stored[priority] = {
        ...(set.firstResponseSeconds === null ? {} : { first_response: set.firstResponseSeconds }),
        ...(set.resolutionSeconds === null ? {} : { resolution: set.resolutionSeconds }),
        business_hours: set.businessHours,
      };
    }
    return this.uow.run(async (work) => {
      const policy = await new SlaRepository(work.trx).setPolicy(
        tenantId,
        stored,
        settings.remindAtPercent,
      );
      await new AuditRepository(work.trx).record({
        tenantId,
        actorType: 'admin',
        actorId: actor,
        action: 'sla.update',
        details: { remindAtPercent: settings.remindAtPercent, targets: settings.targets },
      });
      return settingsOf(policy);
    });
  }
}
