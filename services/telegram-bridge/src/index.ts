export { createBridge, type Bridge, type BridgeDeps } from './bridge';
export { bridgeEnvSchema, loadBridgeConfig, updatesMode, type BridgeConfig } from './config';
export { mergeBatch, TopicSync } from './sync/topic-sync';
export { headerText, parseCallbackData, topicName, topicStatus } from './sync/topic-presentation';
export { UpdateProcessor } from './updates/update-processor';
