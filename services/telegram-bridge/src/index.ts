export { createBridge, type Bridge, type BridgeDeps } from './bridge';
export { bridgeEnvSchema, loadBridgeConfig, updatesMode, type BridgeConfig } from './config';
export { mergeBatch, topicName, TopicSync } from './topic-sync';
export { UpdateProcessor } from './update-processor';
