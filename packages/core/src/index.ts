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
// Agents and the scheduler (issue 13, lane B): the agent desk's and housekeeping's use cases,
// and the data types their callers (bridge, scheduler) see.
export {
  AgentDesk,
  type AgentDeskOptions,
  type DeskStats,
  type AgentIdentity,
  type TopicMessage,
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
export type { Conversation, DB, Kysely } from '@topicdesk/data';
