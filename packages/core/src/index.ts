/** The one tenant of a fresh install; services name it through core, not the data package. */
export { DEFAULT_TENANT_ID } from '@topicdesk/data';
export { messageEvent } from './events';
export {
  AttachmentService,
  storedKey,
  uploadKey,
  type AttachmentServiceOptions,
  type MessageWithFiles,
} from './attachments/attachment.service';
export { AttachmentError, AttachmentErrorCode } from '@topicdesk/storage';
export { escalationGroup, routeToGroup, type RoutableGroup } from './group-routing';
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
export {
  channelScope,
  decodeUserKey,
  expandUserKey,
  generateUserKey,
  isSealedUpdate,
  updateAad,
  UserKeyError,
  UserKeyring,
  type SealedToken,
  type UserKey,
} from './private-chat/user-keyring';
export { keyringCipher } from './private-chat/user-cipher';
export { parsePrivateCallbackData, privateCallbackData } from './private-chat/buttons';
export {
  BotChannels,
  BotChannelTokens,
  BotChannelTokenError,
  botChannelView,
  botIdOfToken,
  type BotChannelsOptions,
  type BotChannelView,
  type ChannelTurn,
  type ChannelTurnResult,
} from './private-chat/bot-channels.service';

// Agents and the scheduler (issue 13, lane B): the agent desk's and housekeeping's use cases,
// and the data types their callers (bridge, scheduler) see.
export {
  AgentDesk,
  type AgentDeskOptions,
  DEFAULT_CAPACITY,
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
export {
  Assignment,
  AssignmentMode,
  assignedPost,
  pickAgent,
  type AssignmentOptions,
  type Candidate,
  type Placement,
} from './agents/assignment';
export { awayWhenIdle, isPresence, presenceText, type PresenceReport } from './agents/presence';
export {
  Escalation,
  EscalationRefusal,
  TOP_LEVEL,
  TRANSCRIPT_MESSAGES,
  type EscalateBy,
  type EscalationOptions,
  type EscalationResult,
} from './agents/escalation';
export { teamStats, teamStatsText, type TeamStats } from './agents/team-stats';
export { Housekeeping, type Retention, type TopicPolicy } from './housekeeping.service';

// The data types services see (they never import the data package).
export type {
  Attachment,
  Conversation,
  DB,
  Kysely,
  Message,
  BotChannel,
  TelegramUser,
  TelegramUserSecret,
} from '@topicdesk/data';

// The gateway (lane E): the admin API's use cases, and what the gateway names of the data
// (Conversation, DB, Kysely and Message are exported above).
export {
  AdminService,
  RoleRankError,
  type AgentSettings,
  type GroupSettings,
  type Page,
  type TemplateSettings,
} from './admin.service';
export { AgentPresence, ConversationClosedError, ConversationPriority } from '@topicdesk/data';
export type {
  Agent,
  AuditEntry,
  DeadLetterRow,
  PriorityRule,
  SupportGroup,
  SystemTemplate,
} from '@topicdesk/data';

// The bridge's sync (topic delivery bookkeeping) and its wiring.
export { TopicDeliveryService, type TelegramPlacement } from './topic-delivery.service';
export { ServedGroups } from './served-groups';
// (Conversation, DB, Kysely and Message: with the private chat's types above.)
export type { TelegramPost, TopicState } from '@topicdesk/data';

// CSAT and reports (issue 14): ratings from both visitor channels, the admin API's reports and
// business hours, and the figures' histograms.
export { Ratings, ratingPost, type RateInput, type RateOutcome } from './ratings.service';
export {
  ALWAYS_OPEN,
  Reports,
  type BusinessHoursSettings,
  type Report,
  type ReportBound,
  type ReportRequest,
} from './reports.service';
export { conversationMetrics, SUPPORT_SECONDS_BUCKETS, teamMetrics } from './metrics';
export { ReportGrouping } from '@topicdesk/data';
export type { BusinessInterval, ConversationRating, ReportFigures } from '@topicdesk/data';

// SLAs (issue 14): targets per priority (admin API), the scheduler's reminders, breach notices
// and automatic escalation (through an escalator the caller gives).
export {
  DEFAULT_REMIND_AT_PERCENT,
  NO_SLA,
  SlaSettingsService,
  type SlaSettings,
  type SlaTargets,
} from './sla/sla-settings.service';
export {
  escalationReason,
  SlaMonitor,
  slaEscalator,
  tenantSlaEscalator,
  type SlaEscalator,
  type SlaMonitorOptions,
  type SlaRunResult,
} from './sla/sla-monitor';
export { formatDuration } from './durations';
export { slaPost } from './sla/sla-posts';
export type { DueSlaTarget, SlaEvent } from '@topicdesk/data';
// Console access (issue 15): roles and what each may do, sign-in links, sessions.
export { isRole, may, Permission, Role, ROLE_PERMISSIONS, ROLES, roleRank } from './console/access';
export {
  agentActorId,
  ConsoleAccess,
  SignInRefusal,
  SignInRefusedError,
  type ConsoleLinkOutcome,
  type ConsoleSessionView,
  type Principal,
  type SessionLifetimes,
} from './console/console-access.service';
// The console's reads (issue 15): conversation list and transcripts, the live overview and
// its activity channel, cursor pages of the admin lists.
export {
  ConsoleReads,
  TRANSCRIPT_AUDIT_LIMIT,
  type AuditFilters,
  type ConversationFilters,
  type CursorRequest,
  type Overview,
  type Transcript,
  type TranscriptMessage,
} from './console/console-reads.service';
export {
  decodeCursor,
  encodeCursor,
  InvalidCursorError,
  pageFrom,
  pageInMemory,
  type CursorPage,
} from './console/cursor';
export { activityChannel, ActivitySignal, type ActivityEvent } from './console/activity';
export { ConversationListStatus } from '@topicdesk/data';
export type { Note } from '@topicdesk/data';
// Data-subject requests (issue 15): export and erasure of a conversation or a private-chat user.
export {
  DataRequestError,
  DataRequestRefusal,
  DataRequests,
  erasedPost,
  type DataRequestsOptions,
  type EraseResult,
  type TelegramUserExport,
} from './data-requests/data-requests.service';
export {
  EXPORT_FORMAT,
  exportTranscript,
  type ConversationExport,
} from './data-requests/export-view';
export type { ConversationTombstone } from '@topicdesk/data';

// Tenants (issue 16): the platform API's service, each replica's tenant cache, and the envelope
// encryption of tenants' secrets.
export {
  fingerprint,
  newDataKey,
  parseKek,
  TenantKeyring,
  TenantSecretsError,
  TenantSecretsErrorCode,
  type Kek,
  type SealedBundle,
} from './tenants/envelope';
export {
  TENANT_SECRET_NAMES,
  type TenantSecretName,
  type TenantSecrets,
  type TenantSecretsChange,
} from './tenants/tenant-secrets';
export {
  TENANT_ID_PATTERN,
  TenantError,
  TenantRefusal,
  TenantService,
  tenantView,
  type NewTenant,
  type TenantPatch,
  type TenantView,
} from './tenants/tenant.service';
export {
  rewrapTenantKeys,
  TenantDirectory,
  type TenantConfig,
  type TenantDirectoryOptions,
} from './tenants/tenant-directory';
export { directoryRoster, type TenantRoster } from './tenants/tenant-roster';
export { telegramHeaderSecret } from './tenants/telegram-webhook';
export { ServiceTokenIndex, type ServiceTokenIndexOptions } from './tenants/service-token-index';
