export { parseDuration } from './duration';
export {
  assignmentEnv,
  ConfigError,
  consoleEnv,
  consoleUrl,
  env,
  metricsEnv,
  parseEnv,
  serviceEnv,
  tenantEnv,
} from './env';
