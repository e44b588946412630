import type { Kysely } from 'kysely';
import { ConversationClosedError } from './errors';
import { ConversationRepository } from './repositories/conversation.repository';
import { MessageRepository } from './repositories/message.repository';
import {
  ConversationStatus,
  type Conversation,
  type DB,
  type DeliveryState,
  type Message,
  type MessageKind,
} from './schema';

export interface AppendMessageInput {
  tenantId: string;
  conversationId: string;
  kind: MessageKind;
  text: string;
  delivery: DeliveryState;
  at?: Date | undefined;
  /** The sender's idempotency key: the same clientId twice stores one message. */
  clientId?: string | undefined;
  authorName?: string | null | undefined;
  agentId?: number | null | undefined;
  telegramChatId?: number | null | undefined;
  telegramMessageId?: number | null | undefined;
  /** Refuse with ConversationClosedError when the conversation is closed. */
  requireOpen?: boolean | undefined;
}

export interface AppendMessageResult {
  message: Message;
  conversation: Conversation;
  /** True when the clientId had been stored before; nothing new was written. */
  duplicate: boolean;
}

/**
 * Appends one message to a conversation's log with the next gap-free seq. Must run inside a
 * transaction: the conversation row lock orders concurrent writers, and a rollback takes the
 * seq back with it.
 */
export async function appendMessage(
  trx: Kysely<DB>,
  input: AppendMessageInput,
): Promise<AppendMessageResult> {
  const conversations = new ConversationRepository(trx);
  const messages = new MessageRepository(trx);
  const conversation = await conversations.lock(input.tenantId, input.conversationId);
  if (input.clientId !== undefined) {
    const existing = await messages.findByClientId(conversation.id, input.clientId);
    if (existing) return { message: existing, conversation, duplicate: true };
  }
  if (input.requireOpen && conversation.status === ConversationStatus.closed) {
    throw new ConversationClosedError(conversation.id);
  }
  const at = input.at ?? new Date();
  const seq = await conversations.nextSeq(input.tenantId, conversation.id, at);
  const message = await messages.insert({
    tenantId: input.tenantId,
    conversationId: conversation.id,
    seq,
    kind: input.kind,
    text: input.text,
    at,
    authorName: input.authorName,
    agentId: input.agentId,
    clientId: input.clientId,
    telegramChatId: input.telegramChatId,
    telegramMessageId: input.telegramMessageId,
    delivery: input.delivery,
  });
  return { message, conversation: { ...conversation, last_seq: seq }, duplicate: false };
}
