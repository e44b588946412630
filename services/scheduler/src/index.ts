export { loadSchedulerConfig, schedulerEnvSchema, type SchedulerConfig } from './config';
export {
  AUTO_CLOSE_NOTE,
  autoCloseJob,
  startScheduler,
  type Job,
  type SchedulerDeps,
} from './scheduler';
