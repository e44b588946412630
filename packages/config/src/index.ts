export { parseDuration } from './duration';
export {
  assignmentEnv,
  ConfigError,
  consoleEnv,
  consoleUrl,
  env,
  parseEnv,
  serviceEnv,
  tenantEnv,
} from './env';
