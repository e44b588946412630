import { randomUUID } from 'node:crypto';
import {
  AgentRepository,
  AgentTeamRepository,
  AttachmentRepository,
  AuditRepository,
  BotChannelRepository,
  ConsoleLinkRepository,
  ConsoleReadRepository,
  ConsoleSessionRepository,
  DataRequestRepository,
  DeadLetterRepository,
} from '../../src/index';
import { SAME } from './seed';
import { FAR, NOW, on, read, SCHEDULER, SINCE, sweep, write } from './case-kit';
import { advisoryLocks, type IsolationCase } from './walk';

/** Agents and their team, files, the audit log, the console, data requests, dead letters. */
export const peopleCases: Record<string, IsolationCase> = {
  'AgentRepository.findByTelegramUser': read(AgentRepository, (r, { t }) =>
    r.findByTelegramUser(t, SAME.agentTelegramUserId),
  ),
  'AgentRepository.findById': read(AgentRepository, (r, { t, target }) =>
    r.findById(t, target.agent.id),
  ),
  'AgentRepository.upsert': write(AgentRepository, (r, { t }) =>
    r.upsert({ tenantId: t, telegramUserId: SAME.agentTelegramUserId, displayName: 'renamed' }),
  ),
  'AgentRepository.list': read(AgentRepository, (r, { t }) => r.list(t)),

  'AgentTeamRepository.setPresence': write(AgentTeamRepository, (r, { t }) =>
    r.setPresence(t, SAME.agentTelegramUserId, 'away', NOW()),
  ),
  'AgentTeamRepository.touch': write(AgentTeamRepository, (r, { t }) =>
    r.touch(t, SAME.agentTelegramUserId, NOW()),
  ),
  'AgentTeamRepository.awayWhenIdle': sweep(AgentTeamRepository, SCHEDULER, (r) =>
    r.awayWhenIdle(FAR, NOW()),
  ),
  'AgentTeamRepository.loads': read(AgentTeamRepository, (r, { t }) => r.loads(t, {})),
  'AgentTeamRepository.serializeAssignment': on('lock', AgentTeamRepository, async (r, c) => {
    await r.serializeAssignment(c.t);
    return advisoryLocks(c.db);
  }),
  'AgentTeamRepository.trySerializeAssignment': on('lock', AgentTeamRepository, async (r, c) => {
    await r.trySerializeAssignment(c.t);
    return advisoryLocks(c.db);
  }),
  'AgentTeamRepository.lockQueue': read(AgentTeamRepository, (r, { t }) => r.lockQueue(t, 10)),
  'AgentTeamRepository.queuedTenants': sweep(
    AgentTeamRepository,
    'the assignment job asks which tenants have a queue, then works per tenant',
    (r) => r.queuedTenants(),
  ),
  'AgentTeamRepository.setPriority': write(AgentTeamRepository, (r, { t, target }) =>
    r.setPriority(t, target.conversation.id, 'high', NOW()),
  ),

  'AttachmentRepository.create': write(AttachmentRepository, (r, { t, target }) =>
    r.create({
      id: randomUUID(),
      tenantId: t,
      conversationId: target.conversation.id,
      name: 'x.png',
      declaredType: 'image/png',
      declaredSize: 10,
    }),
  ),
  'AttachmentRepository.ofConversation': read(AttachmentRepository, (r, { t, target }) =>
    r.ofConversation(t, target.conversation.id),
  ),
  'AttachmentRepository.conversationBytes': read(AttachmentRepository, (r, { t, target }) =>
    r.conversationBytes(t, target.conversation.id),
  ),
  'AttachmentRepository.find': read(AttachmentRepository, (r, { t, target }) =>
    r.find(t, target.conversation.id, [target.attachment.id, target.pendingAttachment.id]),
  ),
  'AttachmentRepository.markReady': write(AttachmentRepository, (r, { t, target }) =>
    r.markReady(t, target.pendingAttachment.id, { type: 'application/pdf', size: 5 }),
  ),
  'AttachmentRepository.markRefused': write(AttachmentRepository, (r, { t, target }) =>
    r.markRefused(t, target.pendingAttachment.id, 'ATTACHMENT_INFECTED'),
  ),
  'AttachmentRepository.attach': write(AttachmentRepository, async (r, { t, target }) => {
    await r.markReady(t, target.pendingAttachment.id, { type: 'application/pdf', size: 5 });
    return r.attach(t, [target.pendingAttachment.id], target.pendingMessage.id);
  }),
  'AttachmentRepository.deleteUnattached': sweep(AttachmentRepository, SCHEDULER, (r) =>
    r.deleteUnattached(FAR, 100),
  ),
  'AttachmentRepository.ofMessage': read(AttachmentRepository, (r, { t, target }) =>
    r.ofMessage(t, target.visitorMessage.id),
  ),
  'AttachmentRepository.forMessages': read(AttachmentRepository, (r, { t, target }) =>
    r.forMessages(t, [target.visitorMessage.id, target.agentMessage.id]),
  ),

  'AuditRepository.record': write(AuditRepository, (r, { t, target }) =>
    r.record({
      tenantId: t,
      actorType: 'admin',
      action: 'conversation.close',
      conversationId: target.conversation.id,
    }),
  ),
  'AuditRepository.list': read(AuditRepository, (r, { t }) => r.list(t, { limit: 50 })),

  'BotChannelRepository.insert': write(BotChannelRepository, (r, { t }) =>
    r.insert({
      id: randomUUID(),
      tenantId: t,
      name: 'another',
      botId: '987654',
      token: { keyId: SAME.keyId, nonce: 'n', ciphertext: 'c' },
      secretHash: 'new-channel-secret-hash',
      at: NOW(),
    }),
  ),
  'BotChannelRepository.list': read(BotChannelRepository, (r, { t }) => r.list(t)),
  'BotChannelRepository.find': read(BotChannelRepository, (r, { t, target }) =>
    r.find(t, target.botChannel.id),
  ),
  'BotChannelRepository.bySecretHash': sweep(
    BotChannelRepository,
    "authentication by a channel's secret (256 random bits), which names the channel and so its tenant",
    async (r) => [await r.bySecretHash('ALPHA-secret-hash')],
  ),
  'BotChannelRepository.remove': write(BotChannelRepository, (r, { t, target }) =>
    r.remove(t, target.botChannel.id, NOW()),
  ),
  'BotChannelRepository.usersInSupport': read(BotChannelRepository, (r, { t, target }) =>
    r.usersInSupport(t, target.botChannel.id),
  ),

  'ConsoleLinkRepository.add': write(ConsoleLinkRepository, (r, { t, target }) =>
    r.add({ tenantId: t, tokenHash: randomUUID(), agentId: target.agent.id, expiresAt: FAR }),
  ),
  'ConsoleLinkRepository.addSpent': write(ConsoleLinkRepository, (r, { t, target }) =>
    r.addSpent({
      tenantId: t,
      tokenHash: 'mini-app:spent',
      agentId: target.agent.id,
      expiresAt: FAR,
      usedAt: NOW(),
    }),
  ),
  'ConsoleLinkRepository.consume': write(ConsoleLinkRepository, (r, { t, target }) =>
    r.consume(t, target.linkTokenHash, NOW()),
  ),
  'ConsoleLinkRepository.find': read(ConsoleLinkRepository, (r, { t, target }) =>
    r.find(t, target.linkTokenHash),
  ),
  'ConsoleLinkRepository.deleteExpired': write(ConsoleLinkRepository, (r, { t }) =>
    r.deleteExpired(t, FAR),
  ),

  'ConsoleReadRepository.conversations': read(ConsoleReadRepository, (r, { t }) =>
    r.conversations(t, { limit: 50, q: 'text' }),
  ),
  'ConsoleReadRepository.findConversation': read(
    ConsoleReadRepository,
    async (r, { t, target }) => [
      await r.findConversation(t, target.conversation.id),
      await r.findConversation(t, SAME.ticket),
    ],
  ),
  'ConsoleReadRepository.edits': read(ConsoleReadRepository, (r, { t, target }) =>
    r.edits(t, [target.agentMessage.id, target.privateReply.id]),
  ),
  'ConsoleReadRepository.agentUsers': read(ConsoleReadRepository, (r, { t, target }) =>
    r.agentUsers(t, [target.agent.id]),
  ),
  'ConsoleReadRepository.audit': read(ConsoleReadRepository, (r, { t, target }) =>
    r.audit(t, { conversationId: target.conversation.id, limit: 50 }),
  ),
  'ConsoleReadRepository.overview': read(ConsoleReadRepository, (r, { t }) => r.overview(t, SINCE)),
  'ConsoleReadRepository.onlineAgents': read(ConsoleReadRepository, (r, { t }) =>
    r.onlineAgents(t),
  ),

  'ConsoleSessionRepository.add': write(ConsoleSessionRepository, (r, { t, target }) =>
    r.add({
      id: randomUUID(),
      tenantId: t,
      secretHash: randomUUID(),
      agentId: target.agent.id,
      role: 'owner',
      userAgent: null,
      now: NOW(),
      expiresAt: FAR,
    }),
  ),
  'ConsoleSessionRepository.findBySecret': read(ConsoleSessionRepository, (r, { t, target }) =>
    r.findBySecret(t, target.session.secretHash),
  ),
  'ConsoleLinkRepository.tenantOfToken': sweep(
    ConsoleLinkRepository,
    'a sign-in link names no tenant: the gateway finds its tenant, then consumes it scoped',
    async (r) => {
      const tenantId = await r.tenantOfToken(randomUUID());
      if (tenantId !== undefined) throw new Error('an unknown token found a tenant');
      return tenantId;
    },
  ),
  'ConsoleSessionRepository.tenantOfSecret': sweep(
    ConsoleSessionRepository,
    "a cookie names no tenant: the gateway finds the session's tenant, then reads it scoped",
    async (r) => {
      const tenantId = await r.tenantOfSecret(randomUUID());
      if (tenantId !== undefined) throw new Error('an unknown secret found a tenant');
      return tenantId;
    },
  ),
  'ConsoleSessionRepository.listActive': read(ConsoleSessionRepository, (r, { t }) =>
    r.listActive(t, NOW()),
  ),
  'ConsoleSessionRepository.touch': write(ConsoleSessionRepository, (r, { t, target }) =>
    r.touch(t, target.session.id, NOW()),
  ),
  'ConsoleSessionRepository.revoke': write(ConsoleSessionRepository, (r, { t, target }) =>
    r.revoke(t, target.session.id, NOW()),
  ),

  'DataRequestRepository.find': read(DataRequestRepository, async (r, { t, target }) => [
    await r.find(t, target.conversation.id),
    await r.find(t, SAME.ticket),
  ]),
  'DataRequestRepository.lock': read(DataRequestRepository, (r, { t, target }) =>
    r.lock(t, target.conversation.id),
  ),
  'DataRequestRepository.tombstone': read(DataRequestRepository, (r, { t, target }) =>
    r.tombstone(t, `SUPP-GONE-${target.marker}`),
  ),
  // The conversation handed in comes back as it was given; everything else is read here.
  'DataRequestRepository.record': read(DataRequestRepository, async (r, { t, target }) => {
    const { conversation: _given, ...found } = await r.record(t, target.privateChat);
    return found;
  }),
  'DataRequestRepository.erase': write(DataRequestRepository, (r, { t, target }) =>
    r.erase(t, target.privateChat, NOW(), true),
  ),
  'DataRequestRepository.addTombstone': write(DataRequestRepository, (r, { t, target }) =>
    r.addTombstone({
      tenantId: t,
      conversation: { id: target.conversation.id, ticket: target.conversation.ticket },
      at: NOW(),
      byType: 'admin',
      byId: null,
      topicPolicy: 'delete',
    }),
  ),
  'DataRequestRepository.forgetTelegramUser': write(DataRequestRepository, (r, { t, target }) =>
    r.forgetTelegramUser(t, target.telegramUser.id),
  ),
  'DataRequestRepository.ofTelegramUser': read(DataRequestRepository, (r, { t, target }) =>
    r.ofTelegramUser(t, target.telegramUser.id),
  ),

  'DeadLetterRepository.add': write(DeadLetterRepository, (r, { t, target }) =>
    r.add({
      tenant_id: t,
      topic: 'conversationSync',
      durable: 'bridge-sync',
      reason: 'terminal',
      deliveries: 1,
      error_code: 'X',
      error: 'x',
      payload: '',
      conversation_id: target.conversation.id,
    }),
  ),
  'DeadLetterRepository.list': read(DeadLetterRepository, (r, { t }) => r.list(t, { limit: 50 })),
  'DeadLetterRepository.find': read(DeadLetterRepository, (r, { t, target }) =>
    r.find(t, target.deadLetter.id),
  ),
  'DeadLetterRepository.markReplayed': write(DeadLetterRepository, (r, { t, target }) =>
    r.markReplayed(t, target.deadLetter.id, NOW()),
  ),
};
