import { randomUUID } from 'node:crypto';
import {
  AgentRepository,
  appendMessage,
  AttachmentRepository,
  AuditRepository,
  BotChannelRepository,
  ConsoleLinkRepository,
  ConsoleSessionRepository,
  ConversationRepository,
  DataRequestRepository,
  DeadLetterRepository,
  DeliveryState,
  EscalationRepository,
  MessageRepository,
  NoteRepository,
  OutboxRepository,
  PriorityRuleRepository,
  RatingRepository,
  ReportRepository,
  SlaRepository,
  SupportGroupRepository,
  TelegramConversationRepository,
  TelegramPostRepository,
  TelegramUpdateRepository,
  TelegramUserRepository,
  TemplateRepository,
  type Agent,
  type Attachment,
  type BotChannel,
  type Conversation,
  type DB,
  type DeadLetterRow,
  type Kysely,
  type Message,
  type OutboxRow,
  type TelegramPost,
  type TelegramUser,
} from '../../src/index';

/**
 * The natural keys both tenants share: the same Telegram ids, topic, ticket, template key,
 * update id and lookup hash. A unique key without `tenant_id` makes the second tenant's seed
 * fail; a query without it finds the other tenant's row.
 */
export const SAME = {
  ticket: 'SUPP-ISOLATION-0001',
  groupChatId: -1001000000042,
  topicId: 77,
  agentTelegramUserId: 4242,
  agentTelegramMessageId: 900,
  botId: '123456',
  updateId: 5,
  clientId: 'client-1',
  lookupHash: 'lookup-hash-1',
  keyId: 'key-1',
  templateKey: 'welcome',
  bornAt: new Date('2026-01-05T10:00:00Z'),
} as const;

/** One tenant's rows, every kind a repository reads or writes, with the ids to address them. */
export interface Seeded {
  tenantId: string;
  /** In every text and name of the tenant's rows: found in an answer to the other, it leaked. */
  marker: string;
  conversation: Conversation;
  /** An open `telegram` conversation of `telegramUser`. */
  privateChat: Conversation;
  /** Delivered to the topic (carried by Telegram message 501). */
  visitorMessage: Message;
  agentMessage: Message;
  /** A visitor message still waiting for Telegram. */
  pendingMessage: Message;
  /** An agent message of the private chat not sent there yet. */
  privateNext: Message;
  /** A Telegram user without conversations. */
  orphanUser: TelegramUser;
  /** An agent message of the private chat, copied there and edited since. */
  privateReply: Message;
  agent: Agent;
  telegramUser: TelegramUser;
  /** The bot channel `telegramUser` came through. */
  botChannel: BotChannel;
  attachment: Attachment;
  pendingAttachment: Attachment;
  post: TelegramPost;
  deadLetter: DeadLetterRow;
  outbox: OutboxRow[];
  session: { id: string; secretHash: string };
  linkTokenHash: string;
}

export async function seedTenant(
  db: Kysely<DB>,
  tenantId: string,
  marker: string,
): Promise<Seeded> {
  const at = SAME.bornAt;
  await db
    .insertInto('tenants')
    .values({
      id: tenantId,
      name: marker,
      site_key: `pk_${tenantId}`,
      webhook_secret: `wh_${tenantId}`,
    })
    .execute();
  const agent = await new AgentRepository(db).upsert({
    tenantId,
    telegramUserId: SAME.agentTelegramUserId,
    displayName: `${marker} agent`,
    role: 'owner',
    level: 1,
  });
  await db
    .updateTable('agents')
    .set({ presence: 'online', last_active_at: at, presence_changed_at: at })
    .where('id', '=', agent.id)
    .execute();
  await new SupportGroupRepository(db).upsert({
    tenantId,
    chatId: SAME.groupChatId,
    title: `${marker} group`,
    locales: ['en'],
  });
  const conversations = new ConversationRepository(db);
  const created = await conversations.create({
    tenantId,
    channel: 'web',
    visitorName: `${marker} visitor`,
    visitorEmail: `visitor@${marker.toLowerCase()}.example`,
    locale: 'en',
    pageUrl: `https://${marker.toLowerCase()}.example/pricing`,
    pageTitle: `${marker} pricing`,
    groupChatId: SAME.groupChatId,
  });
  await db
    .updateTable('conversations')
    .set({
      ticket: SAME.ticket,
      topic_id: SAME.topicId,
      topic_name: `${marker} topic`,
      header_message_id: 500,
      header_text: `${marker} header`,
      created_at: at,
      waiting_since: at,
      last_activity_at: at,
    })
    .where('id', '=', created.id)
    .execute();

  const append = (
    input: Omit<Parameters<typeof appendMessage>[1], 'tenantId' | 'conversationId'>,
  ) =>
    db
      .transaction()
      .execute((trx) => appendMessage(trx, { tenantId, conversationId: created.id, ...input }));
  const visitorMessage = (
    await append({
      kind: 'visitor',
      text: `${marker} visitor text`,
      clientId: SAME.clientId,
      delivery: DeliveryState.pending,
      at,
    })
  ).message;
  const agentMessage = (
    await append({
      kind: 'agent',
      text: `${marker} agent text`,
      authorName: `${marker} agent`,
      agentId: agent.id,
      telegramChatId: SAME.groupChatId,
      telegramMessageId: SAME.agentTelegramMessageId,
      delivery: DeliveryState.delivered,
      at: new Date(at.getTime() + 60_000),
    })
  ).message;
  const messages = new MessageRepository(db);
  await messages.markDelivered(tenantId, [visitorMessage.id], SAME.groupChatId, 501);
  await messages.edit(
    tenantId,
    agentMessage,
    `${marker} agent text, edited`,
    new Date(at.getTime() + 120_000),
  );
  // The visitor read the agent's message: the topic is to mark it seen (readAgentMessageToMark).
  await conversations.markRead(tenantId, created.id, agentMessage.seq);
  const pendingMessage = (
    await append({
      kind: 'visitor',
      text: `${marker} second visitor text`,
      clientId: `${SAME.clientId}-2`,
      delivery: DeliveryState.pending,
      at: new Date(at.getTime() + 180_000),
    })
  ).message;

  const attachments = new AttachmentRepository(db);
  const attachment = await attachments.create({
    id: randomUUID(),
    tenantId,
    conversationId: created.id,
    name: `${marker}.png`,
    declaredType: 'image/png',
    declaredSize: 1000,
  });
  await attachments.markReady(tenantId, attachment.id, { type: 'image/png', size: 900 });
  await attachments.attach(tenantId, [attachment.id], visitorMessage.id);
  const pendingAttachment = await attachments.create({
    id: randomUUID(),
    tenantId,
    conversationId: created.id,
    name: `${marker}-pending.pdf`,
    declaredType: 'application/pdf',
    declaredSize: 2000,
  });

  await new NoteRepository(db).add({
    tenantId,
    conversationId: created.id,
    agentId: agent.id,
    authorName: `${marker} agent`,
    text: `${marker} note`,
    telegramMessageId: 700,
  });
  const posts = new TelegramPostRepository(db);
  await posts.add([{ tenantId, conversationId: created.id, text: `${marker} post` }]);
  const [post] = await db
    .selectFrom('telegram_posts')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .execute();
  const templates = new TemplateRepository(db);
  await templates.upsert({
    tenantId,
    key: SAME.templateKey,
    locale: '',
    text: `${marker} welcome`,
    wsBanner: false,
    persist: true,
    telegram: true,
    pin: false,
    minIntervalMs: 0,
  });
  await templates.mark(tenantId, created.id, SAME.templateKey, at, 0);
  await new RatingRepository(db).add({
    tenantId,
    conversationId: created.id,
    score: 5,
    comment: `${marker} rating`,
    channel: 'web',
    at,
  });
  const escalations = new EscalationRepository(db);
  await escalations.record({
    tenantId,
    conversationId: created.id,
    fromLevel: 1,
    toLevel: 2,
    reason: `${marker} reason`,
    by: { type: 'agent', id: String(SAME.agentTelegramUserId) },
    from: { groupChatId: SAME.groupChatId, topicId: SAME.topicId - 1 },
    toGroupChatId: SAME.groupChatId,
    at,
  });
  const slas = new SlaRepository(db);
  await slas.setPolicy(tenantId, { normal: { first_response: 60, business_hours: false } }, 50);
  await slas.record({
    tenantId,
    conversationId: created.id,
    target: 'first_response',
    kind: 'breach',
    priority: 'normal',
    targetSeconds: 60,
    businessHours: false,
    at,
    escalate: true,
  });
  await new ReportRepository(db).setBusinessHours(tenantId, 'Europe/Berlin', [
    { day: 1, start: '09:00', end: '17:00' },
  ]);
  await new PriorityRuleRepository(db).replace(tenantId, [
    { pageUrlPrefix: `https://${marker.toLowerCase()}.example/`, priority: 'high' },
  ]);
  await new AuditRepository(db).record({
    tenantId,
    actorType: 'agent',
    actorId: String(SAME.agentTelegramUserId),
    action: 'conversation.claim',
    conversationId: created.id,
    details: { marker },
  });
  await new TelegramUpdateRepository(db).markProcessed(tenantId, SAME.botId, SAME.updateId);
  const deadLetter = await new DeadLetterRepository(db).add({
    tenant_id: tenantId,
    topic: 'conversationSync',
    durable: 'bridge-sync',
    reason: 'max_deliver',
    deliveries: 5,
    error_code: 'BRIDGE_TEST',
    error: `${marker} failure`,
    payload: Buffer.from(marker).toString('base64'),
    conversation_id: created.id,
  });
  const outbox = await new OutboxRepository(db).add([
    { tenantId, destination: 'fanout', topic: `conversation.${created.id}`, payload: { marker } },
  ]);

  // A bot channel (issue 19) whose user the private chat's Telegram user is.
  const botChannel = (await new BotChannelRepository(db).insert({
    id: randomUUID(),
    tenantId,
    name: `${marker} channel`,
    botId: SAME.botId,
    token: { keyId: SAME.keyId, nonce: `${marker}-token-nonce`, ciphertext: `${marker}-token` },
    secretHash: `${marker}-secret-hash`,
    at,
  }))!;

  // The private chat: a Telegram user (their id sealed), a closed conversation, a copy.
  const telegramUser = await new TelegramUserRepository(db).insert({
    id: randomUUID(),
    tenantId,
    botChannelId: botChannel.id,
    languageCode: 'en',
    at,
    lookupHash: SAME.lookupHash,
    keyId: SAME.keyId,
    nonce: `${marker}-nonce`,
    ciphertext: `${marker}-ciphertext`,
  });
  const privateChat = await conversations.create({
    tenantId,
    channel: 'telegram',
    visitorName: `${marker} telegram visitor`,
  });
  const links = new TelegramConversationRepository(db);
  await links.link({
    tenantId,
    conversationId: privateChat.id,
    telegramUserId: telegramUser.id,
    at,
  });
  const privateReply = (
    await db.transaction().execute((trx) =>
      appendMessage(trx, {
        tenantId,
        conversationId: privateChat.id,
        kind: 'agent',
        text: `${marker} private reply`,
        delivery: DeliveryState.delivered,
        at,
      }),
    )
  ).message;
  await links.markDelivered(tenantId, privateChat.id, privateReply, 800);
  const editedReply = await messages.edit(
    tenantId,
    privateReply,
    `${marker} private reply, edited`,
    new Date(at.getTime() + 60_000),
  );
  const privateNext = (
    await db.transaction().execute((trx) =>
      appendMessage(trx, {
        tenantId,
        conversationId: privateChat.id,
        kind: 'agent',
        text: `${marker} private next`,
        delivery: DeliveryState.delivered,
        at,
      }),
    )
  ).message;
  const orphanUser = await new TelegramUserRepository(db).insert({
    id: randomUUID(),
    tenantId,
    languageCode: null,
    at,
    lookupHash: `${SAME.lookupHash}-orphan`,
    keyId: SAME.keyId,
    nonce: `${marker}-nonce-2`,
    ciphertext: `${marker}-ciphertext-2`,
  });
  await new DataRequestRepository(db).addTombstone({
    tenantId,
    conversation: { id: randomUUID(), ticket: `SUPP-GONE-${marker}` },
    at,
    byType: 'admin',
    byId: null,
    topicPolicy: 'keep',
  });

  const session = { id: randomUUID(), secretHash: `${marker}-session-secret` };
  await new ConsoleSessionRepository(db).add({
    id: session.id,
    tenantId,
    secretHash: session.secretHash,
    agentId: agent.id,
    role: 'owner',
    userAgent: `${marker} browser`,
    now: at,
    expiresAt: new Date('2100-01-01T00:00:00Z'),
  });
  const linkTokenHash = `${marker}-link-token`;
  await new ConsoleLinkRepository(db).add({
    tenantId,
    tokenHash: linkTokenHash,
    agentId: agent.id,
    expiresAt: new Date('2100-01-01T00:00:00Z'),
  });

  const conversation = await conversations.get(tenantId, created.id);
  const reread = async (id: number) =>
    db.selectFrom('messages').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  return {
    tenantId,
    marker,
    conversation,
    privateChat: await conversations.get(tenantId, privateChat.id),
    visitorMessage: await reread(visitorMessage.id),
    agentMessage: await reread(agentMessage.id),
    pendingMessage,
    privateNext,
    orphanUser,
    privateReply: editedReply,
    agent: (await new AgentRepository(db).findById(tenantId, agent.id))!,
    telegramUser,
    botChannel,
    attachment: (await attachments.find(tenantId, created.id, [attachment.id]))[0]!,
    pendingAttachment,
    post: post!,
    deadLetter,
    outbox,
    session,
    linkTokenHash,
  };
}
