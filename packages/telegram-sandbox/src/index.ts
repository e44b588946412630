export { startSandbox, type RunningSandbox, type StartSandboxOptions } from './server';
export { sandboxPlugin, type SandboxPluginOptions } from './plugin';
export {
  SandboxState,
  type BotApiResponse,
  type CallFilter,
  type CallLogEntry,
  type EditUserMessageInput,
  type InjectMessageInput,
  type MessageFilter,
  type OpenedMiniApp,
  type OpenMiniAppInput,
  type PressButtonInput,
  type SandboxEvents,
  type SandboxStateOptions,
} from './state';
export { DEFAULT_LIMITS, RATE_LIMITED_METHODS, type Limits } from './limits';
export {
  SANDBOX_ERRORS,
  SandboxError,
  type BotApiErrorBody,
  type ResponseParameters,
  type SandboxErrorCode,
} from './errors';
export { ParseMode } from './parse-mode';
export { signInitData } from './world/callbacks';
export {
  ServiceKind,
  type BotView,
  type ChatView,
  type MessageView,
  type StateSummary,
  type TopicView,
  type WebhookView,
} from './views';
export {
  DEFAULT_SUPERGROUP_ID,
  GENERAL_THREAD_ID,
  MemberStatus,
  TOPIC_ICON_COLORS,
  type BotMembership,
  type CallbackAnswer,
  type MemberRights,
  type InjectedUser,
  type MessageVersion,
} from './world/records';
export { FileKind, MAX_DOWNLOAD_BYTES } from './world/files';
export type { InjectedMedia } from './world/media';
export * from './telegram.types';
