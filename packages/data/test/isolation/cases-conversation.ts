import {
  appendMessage,
  appendVisitorMessage,
  ConversationRepository,
  DeliveryState,
  EscalationRepository,
  MessageRepository,
  NoteRepository,
  pendingInTopic,
  readAgentMessageToMark,
  readTopicState,
  readTopicStates,
  TelegramPostRepository,
} from '../../src/index';
import { SAME } from './seed';
import { read, SCHEDULER, sweep, write, NOW, FAR, SINCE } from './case-kit';
import type { IsolationCase } from './walk';

/** The conversation aggregate, its messages, notes, posts and escalations, and the data functions. */
export const conversationCases: Record<string, IsolationCase> = {
  'ConversationRepository.create': write(ConversationRepository, (r, { t }) =>
    r.create({ tenantId: t, channel: 'web', groupChatId: SAME.groupChatId }),
  ),
  'ConversationRepository.find': read(ConversationRepository, (r, { t, target }) =>
    r.find(t, target.conversation.id),
  ),
  'ConversationRepository.get': read(ConversationRepository, (r, { t, target }) =>
    r.get(t, target.conversation.id),
  ),
  'ConversationRepository.findByGroupTopic': read(ConversationRepository, (r, { t }) =>
    r.findByGroupTopic(t, SAME.groupChatId, SAME.topicId, SAME.groupChatId),
  ),
  'ConversationRepository.lock': read(ConversationRepository, (r, { t, target }) =>
    r.lock(t, target.conversation.id),
  ),
  'ConversationRepository.nextSeq': write(ConversationRepository, (r, { t, target }) =>
    r.nextSeq(t, target.conversation.id, NOW()),
  ),
  'ConversationRepository.setTopic': write(ConversationRepository, (r, { t, target }) =>
    r.setTopic(t, target.conversation.id, 99, 'moved'),
  ),
  'ConversationRepository.rotateToken': write(ConversationRepository, (r, { t, target }) =>
    r.rotateToken(t, target.conversation.id, target.conversation.token_generation, 1000),
  ),
  'ConversationRepository.setVisitorName': write(ConversationRepository, (r, { t, target }) =>
    r.setVisitorName(t, target.conversation.id, 'renamed'),
  ),
  'ConversationRepository.setTopicClosed': write(ConversationRepository, (r, { t, target }) =>
    r.setTopicClosed(t, target.conversation.id, true),
  ),
  'ConversationRepository.close': write(ConversationRepository, (r, { t, target }) =>
    r.close(t, target.conversation.id, NOW()),
  ),
  'ConversationRepository.claimIdle': sweep(ConversationRepository, SCHEDULER, (r) =>
    r.claimIdle(FAR, 100),
  ),
  'ConversationRepository.setClaim': write(ConversationRepository, (r, { t, target }) =>
    r.setClaim(
      t,
      target.conversation.id,
      { agentId: null, telegramUserId: SAME.agentTelegramUserId, name: 'someone' },
      NOW(),
    ),
  ),
  'ConversationRepository.reopen': write(ConversationRepository, async (r, { t, target }) => {
    await r.close(t, target.conversation.id, NOW());
    return r.reopen(t, target.conversation.id, NOW());
  }),
  'ConversationRepository.recordFirstResponse': write(ConversationRepository, (r, { t, target }) =>
    r.recordFirstResponse(t, target.conversation.id, NOW()),
  ),
  'ConversationRepository.markRead': write(ConversationRepository, (r, { t, target }) =>
    r.markRead(t, target.conversation.id, target.pendingMessage.seq),
  ),
  'ConversationRepository.setSeenReaction': write(ConversationRepository, (r, { t, target }) =>
    r.setSeenReaction(t, target.conversation.id, target.agentMessage.seq),
  ),
  'ConversationRepository.setHeader': write(ConversationRepository, (r, { t, target }) =>
    r.setHeader(t, target.conversation.id, 600, 'new header', { botId: SAME.botId }),
  ),
  'ConversationRepository.setHeaderPinned': write(ConversationRepository, (r, { t, target }) =>
    r.setHeaderPinned(t, target.conversation.id),
  ),
  'ConversationRepository.setCosmeticDue': write(ConversationRepository, (r, { t, target }) =>
    r.setCosmeticDue(t, target.conversation.id, NOW()),
  ),
  'ConversationRepository.setSyncGivenUp': write(ConversationRepository, (r, { t, target }) =>
    r.setSyncGivenUp(t, target.conversation.id, NOW()),
  ),
  'ConversationRepository.setTopicName': write(ConversationRepository, (r, { t, target }) =>
    r.setTopicName(t, target.conversation.id, 'renamed topic'),
  ),
  'ConversationRepository.claimDueReminders': sweep(ConversationRepository, SCHEDULER, (r) =>
    r.claimDueReminders(FAR, 5, 100),
  ),
  'ConversationRepository.setRemindersSent': write(ConversationRepository, (r, { t, target }) =>
    r.setRemindersSent(t, target.conversation.id, 3),
  ),
  'ConversationRepository.claimPurgeable': sweep(ConversationRepository, SCHEDULER, (r) =>
    r.claimPurgeable({ now: FAR, retentionMs: 0 }, 100),
  ),
  'ConversationRepository.delete': write(ConversationRepository, (r, { t, target }) =>
    r.delete(t, target.conversation.id),
  ),
  'ConversationRepository.stats': read(ConversationRepository, (r, { t }) => r.stats(t, SINCE)),
  'ConversationRepository.needingSync': sweep(
    ConversationRepository,
    "the bridge's sync sweep over every tenant; each row names its tenant",
    (r) => r.needingSync(FAR, 100),
  ),

  'MessageRepository.insert': write(MessageRepository, (r, { t, target }) =>
    r.insert({
      tenantId: t,
      conversationId: target.conversation.id,
      seq: 50,
      kind: 'system',
      text: 'inserted',
      at: NOW(),
      delivery: DeliveryState.delivered,
    }),
  ),
  'MessageRepository.firstVisitorMessageAt': read(MessageRepository, (r, { t, target }) =>
    r.firstVisitorMessageAt(t, target.conversation.id),
  ),
  'MessageRepository.findByClientId': read(MessageRepository, (r, { t, target }) =>
    r.findByClientId(t, target.conversation.id, SAME.clientId),
  ),
  'MessageRepository.findAgentMessage': read(MessageRepository, (r, { t }) =>
    r.findAgentMessage(t, SAME.groupChatId, SAME.agentTelegramMessageId),
  ),
  'MessageRepository.listAfter': read(MessageRepository, (r, { t, target }) =>
    r.listAfter(t, target.conversation.id, 0, 100),
  ),
  'MessageRepository.pending': read(MessageRepository, (r, { t, target }) =>
    r.pending(t, target.conversation.id),
  ),
  'MessageRepository.markDelivered': write(MessageRepository, (r, { t, target }) =>
    r.markDelivered(t, [target.pendingMessage.id], SAME.groupChatId, 777, SAME.botId),
  ),
  // Nothing has failed in the seed: the case fails one first (as the caller), then asks.
  'MessageRepository.anyFailed': write(MessageRepository, async (r, { t, target }) => {
    await r.markFailed(t, [target.pendingMessage.id], 'refused');
    return r.anyFailed(t, target.conversation.id);
  }),
  'MessageRepository.carriedBy': read(MessageRepository, (r, { t, target }) =>
    r.carriedBy(t, target.conversation.id, SAME.groupChatId, 501),
  ),
  'MessageRepository.pendingSummary': sweep(
    MessageRepository,
    'a metric of the whole deployment (a gauge without a tenant label)',
    (r) => r.pendingSummary(),
  ),
  'MessageRepository.markFailed': write(MessageRepository, (r, { t, target }) =>
    r.markFailed(t, [target.pendingMessage.id], 'refused'),
  ),
  'MessageRepository.edit': write(MessageRepository, (r, { t, target }) =>
    r.edit(t, target.agentMessage, 'changed', NOW()),
  ),
  'MessageRepository.retract': write(MessageRepository, (r, { t, target }) =>
    r.retract(t, target.agentMessage, NOW()),
  ),
  'MessageRepository.editHistory': read(MessageRepository, (r, { t, target }) =>
    r.editHistory(t, target.agentMessage.id),
  ),

  'NoteRepository.add': write(NoteRepository, (r, { t, target }) =>
    r.add({
      tenantId: t,
      conversationId: target.conversation.id,
      agentId: null,
      authorName: 'someone',
      text: 'a note',
      telegramMessageId: null,
    }),
  ),
  'NoteRepository.list': read(NoteRepository, (r, { t, target }) =>
    r.list(t, target.conversation.id),
  ),

  'TelegramPostRepository.add': write(TelegramPostRepository, (r, { t, target }) =>
    r.add([{ tenantId: t, conversationId: target.conversation.id, text: 'a post' }]),
  ),
  'TelegramPostRepository.pending': read(TelegramPostRepository, (r, { t, target }) =>
    r.pending(t, target.conversation.id),
  ),
  'TelegramPostRepository.markSent': write(TelegramPostRepository, (r, { t, target }) =>
    r.markSent(t, target.post.id, 601, SAME.botId),
  ),

  'EscalationRepository.move': write(EscalationRepository, (r, { t, target }) =>
    r.move(t, target.conversation.id, { level: 2, groupChatId: SAME.groupChatId, at: NOW() }),
  ),
  'EscalationRepository.record': write(EscalationRepository, (r, { t, target }) =>
    r.record({
      tenantId: t,
      conversationId: target.conversation.id,
      fromLevel: 1,
      toLevel: 2,
      reason: null,
      by: { type: 'sla', id: null },
      from: null,
      toGroupChatId: null,
      at: NOW(),
    }),
  ),
  'EscalationRepository.list': read(EscalationRepository, (r, { t, target }) =>
    r.list(t, target.conversation.id),
  ),
  'EscalationRepository.movedFrom': read(EscalationRepository, (r, { t }) =>
    r.movedFrom(t, SAME.groupChatId, SAME.topicId - 1),
  ),
  'EscalationRepository.agentsOfLevel': read(EscalationRepository, (r, { t }) =>
    r.agentsOfLevel(t, 1, SAME.groupChatId, 10),
  ),
  'EscalationRepository.transcript': read(EscalationRepository, (r, { t, target }) =>
    r.transcript(t, target.conversation.id, 10),
  ),
  'EscalationRepository.queue': read(EscalationRepository, (r, { t }) => r.queue(t)),

  // The data functions: the two appends (one of them migration 0021's SQL function) and the
  // topic's reads.
  appendMessage: {
    kind: 'write',
    call: ({ db, as, target }) =>
      appendMessage(db, {
        tenantId: as.tenantId,
        conversationId: target.conversation.id,
        kind: 'system',
        text: 'appended',
        delivery: DeliveryState.delivered,
      }),
  },
  appendVisitorMessage: {
    kind: 'write',
    call: ({ db, as, target }) =>
      appendVisitorMessage(db, {
        tenantId: as.tenantId,
        conversationId: target.conversation.id,
        clientId: 'client-new',
        text: 'appended by the function',
        at: NOW(),
        announce: [
          { tenantId: as.tenantId, destination: 'fanout', topic: 'x', payload: { seq: 0 } },
        ],
      }),
  },
  readTopicState: {
    kind: 'read',
    call: ({ db, as, target }) => readTopicState(db, as.tenantId, target.conversation.id),
  },
  readTopicStates: {
    kind: 'read',
    call: ({ db, as, target }) =>
      readTopicStates(db, as.tenantId, [target.conversation.id, target.privateChat.id]),
  },
  readAgentMessageToMark: {
    kind: 'read',
    call: ({ db, as, target }) => readAgentMessageToMark(db, as.tenantId, target.conversation.id),
  },
  pendingInTopic: {
    kind: 'read',
    call: ({ db, as, target }) =>
      pendingInTopic(db, as.tenantId, target.conversation.id, SAME.topicId),
  },
};
