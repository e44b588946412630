export { parseDuration } from './duration';
export { assignmentEnv, ConfigError, env, parseEnv, serviceEnv } from './env';
