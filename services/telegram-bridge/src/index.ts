export { createBridge, type Bridge, type BridgeDeps } from './bridge';
export { bridgeEnvSchema, loadBridgeConfig, updatesMode, type BridgeConfig } from './config';
export { mergeBatch, TopicSync } from './topic-sync';
export { headerText, parseCallbackData, topicName, topicStatus } from './topic-presentation';
export { UpdateProcessor } from './update-processor';
