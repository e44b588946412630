import {
  AttachmentService,
  directoryRoster,
  TenantDirectory,
  TenantKeyring,
  tenantSlaEscalator,
  UnitOfWork,
  type SlaEscalator,
  type TenantRoster,
} from '@topicdesk/core';
import { createAttachmentRuntime } from '@topicdesk/storage';
import type { SchedulerConfig } from './config';
import {
  assignmentJob,
  attachmentOrphanJob,
  autoCloseJob,
  idleAwayJob,
  retentionJob,
  slaJob,
  unclaimedReminderJob,
  type Job,
  type SchedulerDeps,
} from './scheduler';

/**
 * How long the scheduler trusts what it read of a tenant (status, default group): it does not
 * listen to `tenant.changed`, so a change reaches its passes within this.
 */
const TENANT_MAX_AGE_MS = 60_000;

/** What the process wires into the jobs besides its environment. */
export interface SchedulerExtras {
  /** Escalates conversations whose SLA was breached (SLA_AUTO_ESCALATE); default: one level up. */
  slaEscalator?: SlaEscalator | undefined;
  /** The tenants as the passes see them; default: the tenants table, through a directory. */
  roster?: TenantRoster | undefined;
}

/** The tenants of the scheduler: the default one from its environment, the others from their rows. */
export function schedulerRoster(deps: SchedulerDeps, config: SchedulerConfig): TenantRoster {
  return directoryRoster({
    directory: new TenantDirectory({
      db: deps.db,
      keyring: TenantKeyring.fromEnv(config.TENANT_KEK, config.TENANT_KEKS_PREVIOUS),
      logger: deps.logger,
      maxAgeMs: TENANT_MAX_AGE_MS,
    }),
    envDefaultGroupId: config.SUPPORT_GROUP_ID,
    logger: deps.logger,
  });
}

/** Every job of the scheduler, configured from its environment. */
export function schedulerJobs(
  deps: SchedulerDeps,
  config: SchedulerConfig,
  extras: SchedulerExtras = {},
): Job[] {
  const attachments = new AttachmentService({
    uow: new UnitOfWork(deps.db, deps.relay),
    ...createAttachmentRuntime(config, { dataDir: config.DATA_DIR, port: config.PORT }),
    urlTtlMs: config.ATTACHMENTS_URL_TTL,
    logger: deps.logger,
  });
  const roster = extras.roster ?? schedulerRoster(deps, config);
  if (config.SLA_AUTO_ESCALATE && config.SUPPORT_GROUP_ID === undefined && !extras.slaEscalator)
    deps.logger.warn(
      "SLA_AUTO_ESCALATE is on but SUPPORT_GROUP_ID is not set for the scheduler: the default tenant's breaches cannot be escalated",
    );
  const jobs = [
    unclaimedReminderJob(deps, config.UNCLAIMED_REMINDERS),
    slaJob(deps, {
      autoEscalate: config.SLA_AUTO_ESCALATE,
      escalator:
        extras.slaEscalator ??
        tenantSlaEscalator({
          uow: new UnitOfWork(deps.db, deps.relay),
          roster,
          assignment: { mode: config.ASSIGNMENT, defaultCapacity: config.AGENT_CAPACITY_DEFAULT },
        }),
    }),
    autoCloseJob(deps, config.AUTO_CLOSE_AFTER),
    retentionJob(
      deps,
      config.RETENTION_DAYS * 86_400_000,
      config.RETENTION_TOPIC_POLICY,
      attachments,
    ),
    attachmentOrphanJob(deps, attachments, config.ATTACHMENTS_ORPHAN_AFTER),
  ];
  if (config.AGENT_IDLE_AWAY_MINUTES > 0)
    jobs.push(idleAwayJob(deps, config.AGENT_IDLE_AWAY_MINUTES * 60_000));
  // After the closes and the idle moves above, so places they freed are filled in this run.
  if (config.ASSIGNMENT === 'auto')
    jobs.push(
      assignmentJob(deps, {
        mode: config.ASSIGNMENT,
        defaultCapacity: config.AGENT_CAPACITY_DEFAULT,
        roster,
      }),
    );
  return jobs;
}
