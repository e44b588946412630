export { parseDuration } from './duration';
export { ConfigError, env, parseEnv } from './env';
