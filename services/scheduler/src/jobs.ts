import type { SchedulerConfig } from './config';
import {
  autoCloseJob,
  retentionJob,
  unclaimedReminderJob,
  type Job,
  type SchedulerDeps,
} from './scheduler';

/** Every job of the scheduler, configured from its environment. */
export function schedulerJobs(deps: SchedulerDeps, config: SchedulerConfig): Job[] {
  return [
    unclaimedReminderJob(deps, config.UNCLAIMED_REMINDERS),
    autoCloseJob(deps, config.AUTO_CLOSE_AFTER),
    retentionJob(deps, config.RETENTION_DAYS * 86_400_000, config.RETENTION_TOPIC_POLICY),
  ];
}
