export * from './infra';
export { freePort, repoRoot, ServiceProcess, type ServiceProcessOptions } from './process';
export { LocalServer } from './local-servers';
export { ReconnectingVisitor, type ReconnectingVisitorOptions } from './reconnecting-visitor';
export { TcpProxy, type TcpProxyOptions } from './tcp-proxy';
export { startConversation, VisitorClient, type Frame, type StartedConversation } from './visitor';
export { startTestS3, S3RVER_CREDENTIALS, type TestS3 } from './s3-server';
export { EICAR, startFakeClamd, type FakeClamd } from './fake-clamd';
export { executable, jpegWithGps, oggOpus, PDF } from './attachment-fixtures';
