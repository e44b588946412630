import {
  BridgeStatusRequestSchema,
  BridgeStatusSchema,
  ConversationSyncSchema,
  MiniAppVerifyReplySchema,
  MiniAppVerifyRequestSchema,
  SetupReplySchema,
  SetupRequestSchema,
  TopicRemovalSchema,
  TelegramUpdateSchema,
  TenantChangedSchema,
  VisitorTypingSchema,
  type DescMessage,
} from '@topicdesk/contracts';

/**
 * A JetStream topic: stored in a work-queue stream until its one durable consumer (shared by
 * every replica) acknowledges it. For events that must not be lost.
 */
export interface DurableTopic<S extends DescMessage = DescMessage> {
  readonly kind: 'durable';
  /** Relative subject, e.g. `conversation.sync`; on the wire `<namespace>.conversation.sync`. */
  readonly subject: string;
  /** Relative stream name, e.g. `SYNC`; on the server `<namespace>_SYNC`. One subject per stream. */
  readonly stream: string;
  readonly schema: S;
}

/** A core NATS subject: fire-and-forget, lost when nobody listens. For ephemeral signals. */
export interface SignalTopic<S extends DescMessage = DescMessage> {
  readonly kind: 'signal';
  /** Relative subject, e.g. `typing.visitor`; on the wire `<namespace>.typing.visitor`. */
  readonly subject: string;
  readonly schema: S;
}

export type Topic = DurableTopic | SignalTopic;

/** The catalogue of everything that crosses the bus. Add a topic here, never inline. */
export const topics = {
  /** Bring a conversation to Telegram (create/close/reopen its topic, send pending messages). */
  conversationSync: {
    kind: 'durable',
    subject: 'conversation.sync',
    stream: 'SYNC',
    schema: ConversationSyncSchema,
  },
  /** An update received by the bridge webhook, processed by a bridge consumer. */
  telegramUpdate: {
    kind: 'durable',
    subject: 'telegram.update',
    stream: 'TELEGRAM_UPDATES',
    schema: TelegramUpdateSchema,
  },
  /** Delete a purged conversation's forum topic (scheduler → bridge). */
  topicRemoval: {
    kind: 'durable',
    subject: 'topic.removal',
    stream: 'TOPIC_REMOVAL',
    schema: TopicRemovalSchema,
  },
  /** The visitor is typing (gateway → bridge). */
  visitorTyping: {
    kind: 'signal',
    subject: 'typing.visitor',
    schema: VisitorTypingSchema,
  },
  /** The console's setup checks (gateway → bridge, a queue group of the bridges). */
  setupRequest: {
    kind: 'signal',
    subject: 'setup.request',
    schema: SetupRequestSchema,
  },
  /** Their answer (bridge → every gateway; the one waiting for its request id takes it). */
  setupReply: {
    kind: 'signal',
    subject: 'setup.reply',
    schema: SetupReplySchema,
  },
  /** A Mini App's initData to verify (gateway → bridge, a queue group of the bridges). */
  miniAppVerifyRequest: {
    kind: 'signal',
    subject: 'mini-app.verify',
    schema: MiniAppVerifyRequestSchema,
  },
  /** The verdict (bridge → every gateway; the one waiting for its request id takes it). */
  miniAppVerifyReply: {
    kind: 'signal',
    subject: 'mini-app.verified',
    schema: MiniAppVerifyReplySchema,
  },
  /** A tenant changed (platform API → every gateway and bridge, each dropping its cache entry). */
  tenantChanged: {
    kind: 'signal',
    subject: 'tenant.changed',
    schema: TenantChangedSchema,
  },
  /** A gateway with no fresh bridge status asks for one (gateway → every bridge replica). */
  bridgeStatusRequest: {
    kind: 'signal',
    subject: 'bridge.status.request',
    schema: BridgeStatusRequestSchema,
  },
  /** A bridge replica's bots and send queue, every few seconds (bridge → every gateway). */
  bridgeStatus: {
    kind: 'signal',
    subject: 'bridge.status',
    schema: BridgeStatusSchema,
  },
} as const satisfies Record<string, Topic>;

export type TopicName = keyof typeof topics;

/** The durable topics of the catalogue; their streams are created when a NATS bus starts. */
export const durableTopics: readonly DurableTopic[] = Object.values(topics).filter(
  (topic): topic is (typeof topics)[TopicName] & DurableTopic => topic.kind === 'durable',
);
