export * from './infra';
export { freePort, repoRoot, ServiceProcess, type ServiceProcessOptions } from './process';
export { startConversation, VisitorClient, type Frame, type StartedConversation } from './visitor';
