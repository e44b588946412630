export * from './schema';
export * from './tenant.schema';
export * from './errors';
export { createDatabase, type Database, type DatabaseOptions } from './database';
export { migrateToLatest, pendingMigrations } from './migrator';
export {
  appendMessage,
  appendVisitorMessage,
  type AppendMessageInput,
  type AppendMessageResult,
  type VisitorAppendInput,
  type VisitorAppendResult,
} from './conversation-log';
export {
  pendingInTopic,
  readAgentMessageToMark,
  readTopicState,
  readTopicStates,
  type TopicState,
} from './topic-state';
export {
  ConversationRepository,
  newTicket,
  type NewConversationInput,
} from './repositories/conversation.repository';
export { MessageRepository, type NewMessageInput } from './repositories/message.repository';
export { AgentRepository, type AgentInput } from './repositories/agent.repository';
export {
  AgentTeamRepository,
  type AgentLoad,
  type QueuedConversation,
} from './repositories/agent-team.repository';
export {
  EscalationRepository,
  type EscalationInput,
  type MovedTopic,
} from './repositories/escalation.repository';
export { AuditRepository, type AuditInput } from './repositories/audit.repository';
export {
  TenantRepository,
  type NewTenantInput,
  type StoredSecrets,
  type TenantChange,
} from './repositories/tenant.repository';
export { OutboxRepository, type OutboxInput } from './repositories/outbox.repository';
export { TelegramUpdateRepository } from './repositories/telegram-update.repository';
export {
  localeFallbacks,
  TemplateRepository,
  type TemplateInput,
} from './repositories/template.repository';
export { NoteRepository, type NoteInput } from './repositories/note.repository';
export {
  TelegramPostRepository,
  type TelegramPostInput,
} from './repositories/telegram-post.repository';
export {
  TelegramUserRepository,
  type NewTelegramUserInput,
  type TelegramUserSecret,
} from './repositories/telegram-user.repository';
export {
  BotChannelRepository,
  type NewBotChannelInput,
} from './repositories/bot-channel.repository';
export {
  TelegramConversationRepository,
  type TelegramConversationLink,
} from './repositories/telegram-conversation.repository';
export {
  SupportGroupRepository,
  type SupportGroupInput,
} from './repositories/support-group.repository';
export {
  PriorityRuleRepository,
  type PriorityRuleInput,
} from './repositories/priority-rule.repository';
export type { Kysely, Transaction } from 'kysely';
export { DeadLetterRepository } from './repositories/dead-letter.repository';
export { RatingRepository, type RatingInput } from './repositories/rating.repository';
export {
  ReportGrouping,
  ReportRepository,
  type ReportFigures,
  type ReportQuery,
} from './repositories/report.repository';
export {
  SlaRepository,
  type DueSlaTarget,
  type SlaEventInput,
} from './repositories/sla.repository';
export {
  AttachmentRepository,
  type CheckedFile,
  type NewAttachmentInput,
} from './repositories/attachment.repository';
export {
  ConsoleLinkRepository,
  type NewConsoleLinkInput,
} from './repositories/console-link.repository';
export {
  ConsoleSessionRepository,
  type ConsoleSessionWithAgent,
  type NewConsoleSessionInput,
} from './repositories/console-session.repository';
export {
  ConsoleReadRepository,
  ConversationListStatus,
  type AuditQuery,
  type ConversationListQuery,
  type CreationKey,
  type ListedConversation,
  type OnlineAgent,
  type OverviewFigures,
} from './repositories/console-read.repository';
export {
  DataRequestRepository,
  type ConversationRecord,
  type TombstoneInput,
} from './repositories/data-request.repository';
