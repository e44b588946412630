export { loadStandaloneConfig, standaloneEnvSchema, type StandaloneConfig } from './config';
