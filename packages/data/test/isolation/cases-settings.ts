import { randomUUID } from 'node:crypto';
import {
  OutboxRepository,
  PriorityRuleRepository,
  RatingRepository,
  ReportRepository,
  SlaRepository,
  SupportGroupRepository,
  TelegramConversationRepository,
  TelegramUpdateRepository,
  TelegramUserRepository,
  TemplateRepository,
} from '../../src/index';
import { SAME } from './seed';
import { FAR, NOW, read, SCHEDULER, SINCE, sweep, write } from './case-kit';
import type { IsolationCase } from './walk';

const RELAY = "the outbox relay's sweep over rows it claimed; each row names its tenant";
const ROTATION =
  'the re-encryption of Telegram user ids after a rotation of the deployment key; each row names its tenant';

const secret = (hash: string) => ({
  lookupHash: hash,
  keyId: 'key-2',
  nonce: 'nonce',
  ciphertext: 'ciphertext',
});

/** Settings of a tenant (templates, groups, rules, SLA, hours), the outbox, Telegram's side. */
export const settingsCases: Record<string, IsolationCase> = {
  'OutboxRepository.add': write(OutboxRepository, (r, { t, target }) =>
    r.add([
      { tenantId: t, destination: 'bus', topic: 'x', payload: { id: target.conversation.id } },
    ]),
  ),
  'OutboxRepository.hasStale': sweep(OutboxRepository, RELAY, (r) => r.hasStale(FAR)),
  'OutboxRepository.claimStale': sweep(OutboxRepository, RELAY, (r) => r.claimStale(FAR, 100)),
  'OutboxRepository.delete': sweep(OutboxRepository, RELAY, (r) => r.delete([])),
  'OutboxRepository.deleteUnclaimed': sweep(OutboxRepository, RELAY, (r) => r.deleteUnclaimed([])),
  'OutboxRepository.recordFailure': sweep(OutboxRepository, RELAY, (r) =>
    r.recordFailure(0, 'nothing'),
  ),
  'OutboxRepository.stats': sweep(
    OutboxRepository,
    'a metric of the whole deployment (a gauge without a tenant label)',
    (r) => r.stats(),
  ),

  'PriorityRuleRepository.list': read(PriorityRuleRepository, (r, { t }) => r.list(t)),
  'PriorityRuleRepository.replace': write(PriorityRuleRepository, (r, { t }) =>
    r.replace(t, [{ locale: 'de', priority: 'low' }]),
  ),

  'RatingRepository.add': write(RatingRepository, (r, { t, target }) =>
    r.add({
      tenantId: t,
      conversationId: target.privateChat.id,
      score: 1,
      channel: 'telegram',
      at: NOW(),
    }),
  ),
  'RatingRepository.find': read(RatingRepository, (r, { t, target }) =>
    r.find(t, target.conversation.id),
  ),

  'ReportRepository.figures': read(ReportRepository, (r, { t }) =>
    r.figures({ tenantId: t, from: SINCE, to: FAR, timeZone: 'UTC', schedule: null, now: FAR }),
  ),
  'ReportRepository.localMidnight': sweep(
    ReportRepository,
    'date arithmetic in SQL; reads no table',
    (r) => r.localMidnight('2026-01-05', 'Europe/Berlin', 1),
  ),
  'ReportRepository.businessHours': read(ReportRepository, (r, { t }) => r.businessHours(t)),
  'ReportRepository.setBusinessHours': write(ReportRepository, (r, { t }) =>
    r.setBusinessHours(t, 'UTC', [{ day: 2, start: '08:00', end: '12:00' }]),
  ),
  'ReportRepository.clearBusinessHours': write(ReportRepository, (r, { t }) =>
    r.clearBusinessHours(t),
  ),

  'SlaRepository.policy': read(SlaRepository, (r, { t }) => r.policy(t)),
  'SlaRepository.setPolicy': write(SlaRepository, (r, { t }) =>
    r.setPolicy(t, { high: { resolution: 600, business_hours: true } }, null),
  ),
  'SlaRepository.due': sweep(SlaRepository, SCHEDULER, (r) => r.due(FAR, 100)),
  'SlaRepository.record': write(SlaRepository, (r, { t, target }) =>
    r.record({
      tenantId: t,
      conversationId: target.conversation.id,
      target: 'resolution',
      kind: 'reminder',
      priority: 'normal',
      targetSeconds: 600,
      businessHours: false,
      at: NOW(),
    }),
  ),
  'SlaRepository.events': read(SlaRepository, (r, { t, target }) =>
    r.events(t, target.conversation.id),
  ),
  'SlaRepository.claimPendingEscalations': sweep(SlaRepository, SCHEDULER, (r) =>
    r.claimPendingEscalations(100),
  ),
  'SlaRepository.setEscalation': write(SlaRepository, (r, { t, target }) =>
    r.setEscalation(
      t,
      { conversation_id: target.conversation.id, target: 'first_response' },
      { done: true },
    ),
  ),

  'SupportGroupRepository.list': read(SupportGroupRepository, (r, { t }) => r.list(t)),
  'SupportGroupRepository.find': read(SupportGroupRepository, (r, { t }) =>
    r.find(t, SAME.groupChatId),
  ),
  'SupportGroupRepository.upsert': write(SupportGroupRepository, (r, { t }) =>
    r.upsert({ tenantId: t, chatId: SAME.groupChatId, title: 'renamed', level: 2 }),
  ),
  'SupportGroupRepository.deactivate': write(SupportGroupRepository, (r, { t }) =>
    r.deactivate(t, SAME.groupChatId),
  ),
  'SupportGroupRepository.activeForRouting': read(SupportGroupRepository, (r, { t }) =>
    r.activeForRouting(t),
  ),

  'TelegramConversationRepository.link': write(TelegramConversationRepository, (r, c) =>
    r.link({
      tenantId: c.t,
      conversationId: c.target.conversation.id,
      telegramUserId: c.target.telegramUser.id,
      at: NOW(),
    }),
  ),
  'TelegramConversationRepository.setEndButtonSeq': write(TelegramConversationRepository, (r, c) =>
    r.setEndButtonSeq(c.t, c.target.privateChat.id, c.target.privateNext.seq),
  ),
  'TelegramConversationRepository.find': read(TelegramConversationRepository, (r, c) =>
    r.find(c.t, c.target.privateChat.id),
  ),
  'TelegramConversationRepository.openOf': read(TelegramConversationRepository, (r, c) =>
    r.openOf(c.t, c.target.telegramUser.id),
  ),
  'TelegramConversationRepository.nextUndelivered': read(TelegramConversationRepository, (r, c) =>
    r.nextUndelivered(c.t, c.target.privateChat.id, 0),
  ),
  'TelegramConversationRepository.markDelivered': write(TelegramConversationRepository, (r, c) =>
    r.markDelivered(c.t, c.target.privateChat.id, c.target.privateNext, 801),
  ),
  'TelegramConversationRepository.staleCopy': read(TelegramConversationRepository, (r, c) =>
    r.staleCopy(c.t, c.target.privateChat.id),
  ),
  'TelegramConversationRepository.markCopySynced': write(TelegramConversationRepository, (r, c) =>
    r.markCopySynced(c.t, c.target.privateReply.id, c.target.privateReply.edited_at, false),
  ),
  'TelegramConversationRepository.markRatingPrompted': write(
    TelegramConversationRepository,
    (r, c) => r.markRatingPrompted(c.t, c.target.privateChat.id, NOW()),
  ),
  'TelegramConversationRepository.lagging': sweep(
    TelegramConversationRepository,
    "the bridge's private-chat sweep over every tenant; each row names its tenant",
    (r) => r.lagging(FAR, 100),
  ),

  'TelegramUpdateRepository.markProcessed': write(TelegramUpdateRepository, (r, { t }) =>
    r.markProcessed(t, SAME.botId, SAME.updateId + 1),
  ),
  'TelegramUpdateRepository.isProcessed': read(TelegramUpdateRepository, (r, { t }) =>
    r.isProcessed(t, SAME.botId, SAME.updateId),
  ),

  'TelegramUserRepository.findByLookup': read(TelegramUserRepository, (r, { t }) =>
    r.findByLookup(t, [SAME.lookupHash]),
  ),
  'TelegramUserRepository.find': read(TelegramUserRepository, (r, { t, target }) =>
    r.find(t, target.telegramUser.id),
  ),
  'TelegramUserRepository.insert': write(TelegramUserRepository, (r, { t }) =>
    r.insert({ id: randomUUID(), tenantId: t, languageCode: null, at: NOW(), ...secret('new') }),
  ),
  'TelegramUserRepository.rekey': write(TelegramUserRepository, (r, { t, target }) =>
    r.rekey(t, target.telegramUser.id, SAME.keyId, secret('rekeyed')),
  ),
  'TelegramUserRepository.touch': write(TelegramUserRepository, (r, { t, target }) =>
    r.touch(t, target.telegramUser.id, 'fr', NOW()),
  ),
  'TelegramUserRepository.encryptedWithOtherKey': sweep(TelegramUserRepository, ROTATION, (r) =>
    r.encryptedWithOtherKey('key-2', null, 100),
  ),
  'TelegramUserRepository.countWithOtherKey': sweep(TelegramUserRepository, ROTATION, (r) =>
    r.countWithOtherKey('key-2'),
  ),
  'TelegramUserRepository.purgeOrphans': sweep(TelegramUserRepository, SCHEDULER, (r) =>
    r.purgeOrphans(FAR),
  ),
  'TelegramUserRepository.deleteIfOrphan': write(TelegramUserRepository, (r, { t, target }) =>
    r.deleteIfOrphan(t, target.orphanUser.id),
  ),

  'TemplateRepository.resolve': read(TemplateRepository, (r, { t }) =>
    r.resolve(t, SAME.templateKey, 'en'),
  ),
  'TemplateRepository.list': read(TemplateRepository, (r, { t }) => r.list(t)),
  'TemplateRepository.upsert': write(TemplateRepository, (r, { t }) =>
    r.upsert({
      tenantId: t,
      key: SAME.templateKey,
      locale: '',
      text: 'changed',
      wsBanner: true,
      persist: false,
      telegram: false,
      pin: false,
      minIntervalMs: 0,
    }),
  ),
  'TemplateRepository.delete': write(TemplateRepository, (r, { t }) =>
    r.delete(t, SAME.templateKey, ''),
  ),
  'TemplateRepository.mark': write(TemplateRepository, (r, { t, target }) =>
    r.mark(t, target.conversation.id, SAME.templateKey, NOW(), 0),
  ),
};
