import type { Message, TelegramPost, TopicState } from '@topicdesk/core';
import { headerSignature, TELEGRAM_TEXT_LIMIT, topicName } from './topic-presentation';

export { TELEGRAM_TEXT_LIMIT };
export const MERGE_SEPARATOR = '\n\n';

/** When the header is pinned: always, never, or only while the group's queue is short. */
export const PinHeader = { auto: 'auto', always: 'always', never: 'never' } as const;
export type PinHeader = (typeof PinHeader)[keyof typeof PinHeader];

/** What one round of the reconcile does next for a conversation's topic. */
export type Step =
  | { kind: 'create' }
  | { kind: 'reopen' }
  | { kind: 'header'; waiting: Message[] }
  | { kind: 'post'; post: TelegramPost }
  | { kind: 'texts'; batch: Message[] }
  | { kind: 'files'; message: Message }
  | { kind: 'close' }
  | { kind: 'header_edit' }
  | { kind: 'rename' }
  | { kind: 'seen'; message: Message }
  | { kind: 'pin' };

/**
 * The next step, in the order that matters: the topic exists and is open while anything is
 * to be posted; the header (carrying the first texts) comes first; posts and texts in
 * order; closing; then how the topic looks (header, name, what the visitor read, pin) — which
 * is left out when `cosmetic` is false.
 */
export function planStep(
  state: TopicState,
  cosmetic: boolean,
  pinHeader: PinHeader,
): Step | undefined {
  const { conversation, posts } = state;
  // An erased conversation whose topic was deleted (or never made) gets none.
  if (conversation.topic_id === null)
    return conversation.erased_at ? undefined : { kind: 'create' };
  // Bot posts go first: the texts wait for them.
  const pending = posts.length > 0 ? [] : state.pending;
  const wantClosed = conversation.status === 'closed' && posts.length === 0 && pending.length === 0;
  if (conversation.topic_closed && !wantClosed) return { kind: 'reopen' };
  // A closed topic that should stay closed is left alone (edits there could bounce).
  const editable = !conversation.topic_closed;
  if (editable && conversation.header_message_id === null)
    return { kind: 'header', waiting: leadingTexts(pending) };
  if (posts[0]) return { kind: 'post', post: posts[0] };
  // A message with files goes on its own, as photos or documents under its caption.
  if (pending[0] && hasFiles(pending[0])) return { kind: 'files', message: pending[0] };
  if (pending.length > 0) return { kind: 'texts', batch: mergeBatch(pending) };
  // Closing shows its new header and name before the topic closes: they are part of closing.
  const closing = wantClosed && !conversation.topic_closed;
  if (editable && (cosmetic || closing)) {
    if (conversation.header_text !== headerSignature(conversation)) return { kind: 'header_edit' };
    if (conversation.topic_name !== topicName(conversation)) return { kind: 'rename' };
  }
  if (closing) return { kind: 'close' };
  // The visitor read an agent's reply: a reaction on it, cosmetic like the header.
  if (cosmetic && editable && state.seen) return { kind: 'seen', message: state.seen };
  // Not before the conversation's first message: the widget starts a conversation with it, and
  // its text, stored a moment after the header went without it, needs the chat's next slot —
  // a pin taken first would hold it back a whole chat window.
  if (
    cosmetic &&
    editable &&
    !conversation.header_pinned &&
    conversation.header_message_id !== null &&
    conversation.last_seq > 0 &&
    pinHeader !== PinHeader.never
  )
    return { kind: 'pin' };
  return undefined;
}

/** The state once these texts went out (delivered, or failed for good). */
export function withoutTexts(state: TopicState, sent: readonly Message[]): TopicState {
  const ids = new Set(sent.map((m) => m.id));
  return { ...state, pending: state.pending.filter((m) => !ids.has(m.id)) };
}

/** The state once this post went out (or was dropped). */
export function withoutPost(state: TopicState, post: TelegramPost): TopicState {
  return { ...state, posts: state.posts.filter((p) => p.id !== post.id) };
}

/** Splits a text into parts of at most `limit` UTF-16 units, never inside a character. */
export function splitUtf16(text: string, limit: number): string[] {
  if (text.length <= limit) return [text];
  const parts: string[] = [];
  let current = '';
  for (const char of text) {
    if (current.length + char.length > limit) {
      parts.push(current);
      current = '';
    }
    current += char;
  }
  if (current) parts.push(current);
  return parts;
}

/** Whether a message carries files (never merged into a text: it goes as photos/documents). */
export function hasFiles(message: Message): boolean {
  return (message.attachment_count ?? 0) > 0;
}

/** The pending texts before the first message with files (what may go under the header). */
export function leadingTexts(pending: readonly Message[]): Message[] {
  const stop = pending.findIndex(hasFiles);
  return stop < 0 ? [...pending] : pending.slice(0, stop);
}

/**
 * Pending visitor messages that fit in one Telegram message, oldest first, up to the first
 * message with files (which keeps its place in the order).
 */
export function mergeBatch(pending: readonly Message[], limit = TELEGRAM_TEXT_LIMIT): Message[] {
  const batch: Message[] = [];
  let length = 0;
  for (const message of leadingTexts(pending)) {
    const added = (batch.length === 0 ? 0 : MERGE_SEPARATOR.length) + message.text.length;
    if (batch.length > 0 && length + added > limit) break;
    batch.push(message);
    length += added;
  }
  return batch;
}
