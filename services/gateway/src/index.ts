export { closeVisitorSockets, gatewayPlugin, type GatewayDeps } from './app';
export {
  gatewayEnvSchema,
  loadGatewayConfig,
  trustProxySetting,
  type GatewayConfig,
} from './config';
export { ErrorCode, GatewayError } from './errors';
export { currentOpenApiDocument, registerGateway } from './openapi-document';
