import {
  AttachmentService,
  Escalation,
  slaEscalator,
  UnitOfWork,
  type SlaEscalator,
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

/** What the process wires into the jobs besides its environment. */
export interface SchedulerExtras {
  /** Escalates conversations whose SLA was breached (SLA_AUTO_ESCALATE); default: one level up. */
  slaEscalator?: SlaEscalator | undefined;
}

/**
 * SLA_AUTO_ESCALATE's escalator: one level up (core's `Escalation`), which needs to know the
 * default group (SUPPORT_GROUP_ID) to find a conversation's level group; without it, none.
 */
function defaultEscalator(deps: SchedulerDeps, config: SchedulerConfig): SlaEscalator | undefined {
  if (config.SUPPORT_GROUP_ID === undefined) return undefined;
  return slaEscalator(
    new Escalation(new UnitOfWork(deps.db, deps.relay), {
      defaultGroupId: config.SUPPORT_GROUP_ID,
      assignment: { mode: config.ASSIGNMENT, defaultCapacity: config.AGENT_CAPACITY_DEFAULT },
    }),
  );
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
  const jobs = [
    unclaimedReminderJob(deps, config.UNCLAIMED_REMINDERS),
    slaJob(deps, {
      autoEscalate: config.SLA_AUTO_ESCALATE,
      escalator: extras.slaEscalator ?? defaultEscalator(deps, config),
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
        defaultGroupId: config.SUPPORT_GROUP_ID,
      }),
    );
  return jobs;
}
