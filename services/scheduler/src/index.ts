export { schedulerClock } from './clock';
export { loadSchedulerConfig, schedulerEnvSchema, type SchedulerConfig } from './config';
export { schedulerJobs, type SchedulerExtras } from './jobs';
export {
  autoCloseJob,
  retentionJob,
  slaJob,
  startScheduler,
  unclaimedReminderJob,
  type Job,
  type SchedulerDeps,
} from './scheduler';
