import { withoutInvisibles } from '@topicdesk/core';
import type { Conversation } from '@topicdesk/core';
import type { InlineKeyboardMarkup } from 'grammy/types';

const TOPIC_NAME_LIMIT = 128;
/** Telegram's longest text message, in UTF-16 units. */
export const TELEGRAM_TEXT_LIMIT = 4096;
/** What a header shows of each visitor-given field: enough to recognise, never the whole limit. */
const FIELD_LIMITS = { name: 80, email: 254, locale: 35, title: 160, url: 300 } as const;

/** The status a topic shows: new (nobody claimed it), claimed, or closed. */
export type TopicStatus = 'new' | 'claimed' | 'closed';

export function topicStatus(conversation: Conversation): TopicStatus {
  if (conversation.status === 'closed') return 'closed';
  return conversation.claimed_at ? 'claimed' : 'new';
}

const ICON: Record<TopicStatus, string> = { new: '🟢', claimed: '🟡', closed: '⚪' };

/** A few words about the visitor's context: their name, else the page title, else its host. */
function context(conversation: Conversation): string {
  let text = conversation.visitor_name ?? conversation.page_title ?? '';
  if (!text && conversation.page_url) {
    try {
      text = new URL(conversation.page_url).host;
    } catch {
      text = '';
    }
  }
  return clean(text);
}

/**
 * One line of a visitor-given field: whitespace collapsed, bidi overrides and zero-width
 * characters taken out (they would reorder or hide what agents read), cut to `limit`.
 */
export function clean(text: string, limit = TOPIC_NAME_LIMIT): string {
  const plain = withoutInvisibles(text).replace(/\s+/g, ' ').trim();
  return plain.length > limit ? `${truncateUtf16(plain, limit - 1)}…` : plain;
}

/**
 * The topic's name: status icon, ticket, the level once escalated, a few words of context and,
 * when claimed, who has it —
 * cut to Telegram's 128 characters (counted in code points).
 */
export function topicName(conversation: Conversation): string {
  // What stays of an erased conversation (a data-subject request, topic policy `keep`).
  if (conversation.erased_at) return `${ICON.closed} ${conversation.ticket} · data erased`;
  const status = topicStatus(conversation);
  const parts = [`${ICON[status]} ${conversation.ticket}`];
  // Level 1 is where every conversation starts: only an escalated one shows its level.
  if (conversation.level > 1) parts.push(`L${conversation.level}`);
  const about = context(conversation);
  if (about) parts.push(about);
  let name = parts.join(' · ');
  if (status === 'claimed' && conversation.claimed_by_name)
    name += ` → ${clean(conversation.claimed_by_name, 40)}`;
  return truncateUtf16(name, TOPIC_NAME_LIMIT);
}

/** Cuts to at most `limit` UTF-16 units (how Telegram counts) without splitting a character. */
export function truncateUtf16(text: string, limit: number): string {
  if (text.length <= limit) return text;
  let out = '';
  for (const char of text) {
    if (out.length + char.length > limit) break;
    out += char;
  }
  return out;
}

const STATUS_LINE: Record<TopicStatus, (c: Conversation) => string> = {
  new: () => '🟢 new — not claimed yet',
  claimed: (c) => `🟡 claimed by ${c.claimed_by_name ? clean(c.claimed_by_name, 64) : 'an agent'}`,
  closed: () => '⚪ closed',
};

const PRIORITY_LINE: Record<Conversation['priority'], string> = {
  high: '🔴 high',
  normal: 'normal',
  low: '🔵 low',
};

/**
 * The pinned header of a topic: what agents need to know about the conversation. Never the
 * visitor's IP, user agent or Telegram identity — the gateway does not even store them.
 */
export function headerText(conversation: Conversation): string {
  const lines = [
    `🎫 ${conversation.ticket}`,
    `Status: ${STATUS_LINE[topicStatus(conversation)](conversation)}`,
  ];
  // Normal is the default: only a set priority takes a line (/priority).
  if (conversation.priority !== 'normal')
    lines.push(`Priority: ${PRIORITY_LINE[conversation.priority]}`);
  // Likewise level 1: only an escalated conversation (/escalate) takes a line.
  if (conversation.level > 1) lines.push(`Level: ⬆️ L${conversation.level}`);
  if (conversation.visitor_name)
    lines.push(`Visitor: ${clean(conversation.visitor_name, FIELD_LIMITS.name)}`);
  // Only from the pre-chat form, where the operator enabled it (the gateway's PRECHAT_FIELDS).
  if (conversation.visitor_email)
    lines.push(`E-mail: ${clean(conversation.visitor_email, FIELD_LIMITS.email)}`);
  // A private-chat user's locale is their Telegram app's language: agents never see it.
  if (conversation.locale && conversation.channel === 'web')
    lines.push(`Locale: ${clean(conversation.locale, FIELD_LIMITS.locale)}`);
  const title = conversation.page_title ? clean(conversation.page_title, FIELD_LIMITS.title) : '';
  const url = pageWithoutQuery(conversation.page_url);
  if (title || url) {
    lines.push(
      `Page: ${[title, url ? clean(url, FIELD_LIMITS.url) : ''].filter(Boolean).join(' — ')}`,
    );
  }
  // A bot channel's role or segment of the user (issue 19): the owner's word, never a name.
  if (conversation.segment) lines.push(`Segment: ${clean(conversation.segment, 32)}`);
  lines.push(`Channel: ${conversation.channel === 'web' ? 'website widget' : 'Telegram bot'}`);
  // Every field is cut above, so this never bites; it keeps the promise whatever comes.
  return truncateUtf16(lines.join('\n'), HEADER_LIMIT);
}

/** The longest header: every field at its cut, with room left for the first visitor texts. */
const HEADER_LIMIT = 1024;
const HEADER_TEXTS_SEPARATOR = '\n\n💬 ';
const TEXTS_SEPARATOR = '\n\n';

/**
 * The header with the first visitor texts under it — one message instead of two for a new
 * conversation. Only texts that fit whole go with it; the rest follow as usual. The header is
 * edited later (status), so the room its longest status line may take is kept free.
 */
export function headerWithTexts(header: string, texts: readonly string[]): string {
  if (texts.length === 0) return header;
  return `${header}${HEADER_TEXTS_SEPARATOR}${texts.join(TEXTS_SEPARATOR)}`;
}

/** How many of `texts` (in order) a header may carry whatever its status becomes. */
export function textsTheHeaderCarries(texts: readonly string[]): number {
  let length = HEADER_LIMIT + HEADER_TEXTS_SEPARATOR.length;
  let count = 0;
  for (const text of texts) {
    length += (count === 0 ? 0 : TEXTS_SEPARATOR.length) + text.length;
    if (length > TELEGRAM_TEXT_LIMIT) break;
    count += 1;
  }
  return count;
}

/** The page's origin and path: query strings and fragments may carry personal data. */
function pageWithoutQuery(url: string | null): string | null {
  if (!url) return null;
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return null;
  }
}

/** Callback data of the header buttons: `td:<action>:<conversation id>` (≤ 64 bytes). */
export const HeaderAction = {
  claim: 'claim',
  unclaim: 'unclaim',
  close: 'close',
  reopen: 'reopen',
} as const;
export type HeaderAction = (typeof HeaderAction)[keyof typeof HeaderAction];

export function callbackData(action: HeaderAction, conversationId: string): string {
  return `td:${action}:${conversationId}`;
}

export function parseCallbackData(
  data: string | undefined,
): { action: HeaderAction; conversationId: string } | undefined {
  const match = data ? /^td:(claim|unclaim|close|reopen):([0-9a-f-]{36})$/.exec(data) : null;
  if (!match) return undefined;
  return { action: match[1] as HeaderAction, conversationId: match[2] as string };
}

export function headerKeyboard(conversation: Conversation): InlineKeyboardMarkup {
  const status = topicStatus(conversation);
  const button = (text: string, action: HeaderAction) => ({
    text,
    callback_data: callbackData(action, conversation.id),
  });
  switch (status) {
    case 'new':
      return { inline_keyboard: [[button('✋ Claim', 'claim'), button('✅ Close', 'close')]] };
    case 'claimed':
      return { inline_keyboard: [[button('↩️ Unclaim', 'unclaim'), button('✅ Close', 'close')]] };
    case 'closed':
      return { inline_keyboard: [[button('🔄 Reopen', 'reopen')]] };
    default: {
      const never: never = status;
      throw new Error(`unknown status ${String(never)}`);
    }
  }
}

/** What the header shows, including its buttons: when this changes, the header is edited. */
export function headerSignature(conversation: Conversation): string {
  return `${headerText(conversation)}\n${JSON.stringify(headerKeyboard(conversation))}`;
}
