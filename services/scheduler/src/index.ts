export { schedulerClock } from './clock';
export { loadSchedulerConfig, schedulerEnvSchema, type SchedulerConfig } from './config';
export { schedulerJobs } from './jobs';
export {
  autoCloseJob,
  retentionJob,
  startScheduler,
  unclaimedReminderJob,
  type Job,
  type SchedulerDeps,
} from './scheduler';
