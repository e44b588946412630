import type { Message } from '@topicdesk/data';
import type { Attachment, MessageFrame } from '@topicdesk/protocol';

/**
 * The `message` frame of a stored message, as the visitor sees it, marked with the `origin`
 * socket when given (the fanout's ConversationEvent of @topicdesk/protocol).
 */
export function messageEvent(
  message: Message,
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
