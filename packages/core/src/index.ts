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
} from './infrastructure';
export { createServer, onShutdownSignal, type Readiness, type ServerOptions } from './server';
export { exitOnStartupError } from './startup';
export {
  renderTemplate,
  SystemMessageKey,
  SystemMessages,
  type EmitInput,
} from './system-messages';
export { DeadLetterTopicError, replayDeadLetter, storeDeadLetter } from './dead-letters';
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

// The bridge's sync (topic delivery bookkeeping) and its wiring.
export { TopicDeliveryService, type TelegramPlacement } from './topic-delivery.service';
export { ServedGroups } from './served-groups';
export { DEFAULT_TENANT_ID } from '@topicdesk/data';
// (Conversation, DB, Kysely and Message: with the private chat's types above.)
export type { TelegramPost, TopicState } from '@topicdesk/data';
