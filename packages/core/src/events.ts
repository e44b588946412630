import type { Message } from '@topicdesk/data';
import type { Attachment, MessageFrame } from '@topicdesk/protocol';

/** What a message's event is made of. */
export type EventMessage = Pick<
  Message,
  'seq' | 'kind' | 'text' | 'author_name' | 'created_at' | 'edited_at' | 'deleted_at'
>;

/**
 * The `message` frame of a stored message, as the visitor sees it, marked with the `origin`
 * socket when given (the fanout's ConversationEvent of @topicdesk/protocol).
 */
export function messageEvent(
  message: EventMessage,
  origin?: string,
  attachments?: readonly Attachment[],
): MessageFrame & { origin?: string } {
  return {
    type: 'message',
    seq: message.seq,
    kind: message.kind,
    text: message.text,
    ...(message.author_name !== null && message.kind !== 'visitor'
      ? { author: message.author_name }
      : {}),
    at: message.created_at.toISOString(),
    ...(message.edited_at ? { editedAt: message.edited_at.toISOString() } : {}),
    ...(message.deleted_at ? { deleted: true as const } : {}),
    ...(attachments?.length && !message.deleted_at ? { attachments: [...attachments] } : {}),
    ...(origin !== undefined ? { origin } : {}),
  };
}
