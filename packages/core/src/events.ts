import type { Message } from '@topicdesk/data';

/**
 * What travels on a conversation's fanout channel: the server frames of the WS contract
 * (docs/contract.md), plus `origin`, the socket that caused a message, which gets an `ack` instead.
 */
export type ConversationEvent =
  | {
      type: 'message';
      seq: number;
      kind: 'visitor' | 'agent' | 'system';
      text: string;
      author?: string;
      at: string;
      editedAt?: string;
      /** Retracted by an agent: the text is gone. */
      deleted?: true;
      /** Shown as a banner (a system message whose template has the WS-banner flag). */
      banner?: true;
      origin?: string;
    }
  | { type: 'edit'; seq: number; text: string; editedAt: string; deleted?: true }
  /** A system banner that is not kept in the history (its template does not persist). */
  | { type: 'system'; key: string; text: string; banner: true }
  | { type: 'receipt'; seq: number; state: 'delivered' | 'retrying' | 'failed'; code?: string }
  | { type: 'status'; status: 'open' | 'closed' };

/** The `message` frame of a stored message, as the visitor sees it. */
export function messageEvent(
  message: Message,
  origin?: string,
): ConversationEvent & { type: 'message' } {
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
    ...(origin !== undefined ? { origin } : {}),
  };
}
