// @topicdesk/grammy: live support from Topicdesk's agents inside a grammY bot you already run.
export {
  topicdesk,
  parseCommand,
  type PerUser,
  type TopicdeskControl,
  type TopicdeskFlavor,
  type TopicdeskOptions,
} from './plugin.js';
export {
  parseCallbackData,
  SUPPORT_CALLBACK_DATA,
  supportButton,
  supportKeyboard,
  type TopicdeskButton,
} from './buttons.js';
export {
  backoffMs,
  TopicdeskClient,
  TopicdeskError,
  TopicdeskUnavailableError,
  type ClientOptions,
  type RetryOptions,
  type TurnAnswer,
  type TurnInput,
} from './client.js';
export { SupportSessions } from './sessions.js';
