export { parseDuration } from './duration';
export { ConfigError, env, parseEnv, serviceEnv } from './env';
