/** The one tenant of a fresh install; services name it through core, not the data package. */
export { DEFAULT_TENANT_ID } from '@topicdesk/data';
export { messageEvent } from './events';
export { routeToGroup, type RoutableGroup } from './group-routing';
// The text rules live in the protocol (the gateway checks the fields with them); the bridge
// shows the same fields through core.
export { isLanguageTag, LANGUAGE_TAG_MAX_LENGTH, withoutInvisibles } from '@topicdesk/protocol';
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

// Agents and the scheduler (issue 13, lane B): the agent desk's and housekeeping's use cases,
// and the data types their callers (bridge, scheduler) see.
export {
  AgentDesk,
  type AgentDeskOptions,
  type DeskStats,
  type AgentIdentity,
  type TopicMessage,
  type UnknownAgentName,
  type UpdateRef,
} from './agents/agent-desk.service';
export {
  AGENT_COMMANDS,
  type AgentCommand,
  type AgentCommandName,
  type DeskAction,
  type DeskOutcome,
} from './agents/topic-commands';
export { Housekeeping, type TopicPolicy } from './housekeeping.service';

// The data types services see (they never import the data package).
export type {
  Conversation,
  DB,
  Kysely,
  Message,
  TelegramUser,
  TelegramUserSecret,
} from '@topicdesk/data';
