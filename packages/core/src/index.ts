export { messageEvent, type ConversationEvent } from './events';
export { routeToGroup, type RoutableGroup } from './group-routing';
export { isLanguageTag, LANGUAGE_TAG_MAX_LENGTH, withoutInvisibles } from './text-rules';
export {
  OutboxRelay,
  busOutbox,
  fanoutOutbox,
  type BusTopicName,
  type OutboxRelayOptions,
} from './outbox-relay';
export {
  ConversationService,
  type AgentMessageInput,
  type Actor,
  type AgentRef,
  type CloseInput,
  type StartConversationInput,
  type VisitorMessageInput,
} from './conversation.service';
export {
  createInfrastructure,
  startServiceRuntime,
  type ServiceRuntime,
  type ServiceRuntimeOptions,
  type Infrastructure,
  type InfrastructureOptions,
} from './runtime/infrastructure';
export {
  createServer,
  onShutdownSignal,
  type Readiness,
  type ServerOptions,
} from './runtime/server';
export { exitOnStartupError } from './runtime/startup';
export {
  renderTemplate,
  SystemMessageKey,
  SystemMessages,
  type EmitInput,
} from './system-messages';
export { DeadLetterTopicError, storeDeadLetter } from './dead-letters';
export { UnitOfWork, detachedPublisher, type Publisher, type Work } from './unit-of-work';

// Private chat (lane privchat): the intake of Telegram private-chat visitors and the
// bookkeeping of what their chat was sent; the types the bridge's private chat needs.
export {
  PrivateChatIntake,
  type PrivateChatAnswer,
  type PrivateChatButton,
  type PrivateChatIntakeOptions,
  type PrivateChatOutcome,
  type PrivateChatRequest,
  type PrivateChatResult,
} from './private-chat/intake.service';
export { PrivateChatDeliveries, type PrivateChatStep } from './private-chat/delivery.service';
export {
  PrivateChatUsers,
  type PrivateChatVisitor,
  type UserCipher,
} from './private-chat/users.service';
export type {
  Conversation,
  DB,
  Kysely,
  Message,
  TelegramUser,
  TelegramUserSecret,
} from '@topicdesk/data';

// The gateway (lane E): the admin API's use cases, and what the gateway names of the data
// (Conversation, DB, Kysely and Message are exported above).
export {
  AdminService,
  type AgentSettings,
  type GroupSettings,
  type Page,
  type TemplateSettings,
} from './admin.service';
export { ConversationClosedError, DEFAULT_TENANT_ID } from '@topicdesk/data';
export type {
  Agent,
  AuditEntry,
  DeadLetterRow,
  SupportGroup,
  SystemTemplate,
} from '@topicdesk/data';
