/**
 * The rules for text that people give and other people read — a visitor's message, name and
 * locale in the API, the same fields in a topic's name and header: one definition for the
 * gateway that checks them on the way in, the bridge that shows them and core that routes by
 * locale. Pure functions, no dependency: the widget may bundle any of them.
 */

/** Longest visitor message, in characters (Unicode code points). */
export const MAX_TEXT_CHARS = 4000;
/** Largest seq a conversation can have (the column is a 32-bit integer). */
export const MAX_SEQ = 2_147_483_647;
/** Longest visitor name, page title and page URL (docs/errors.md: refused, cut, refused). */
export const MAX_NAME_CHARS = 100;
export const MAX_PAGE_TITLE_CHARS = 300;
export const MAX_PAGE_URL_CHARS = 2048;
/** Files one message may carry (Telegram's media group holds 10). */
export const MAX_ATTACHMENTS_PER_MESSAGE = 10;
/** Longest attachment file name, in code points (Telegram shows about this much). */
export const MAX_ATTACHMENT_NAME_CHARS = 200;
/** Longest caption Telegram takes under a photo or document (a message with files). */
export const MAX_CAPTION_CHARS = 1024;

/** Longest e-mail address (RFC 5321's path limit less its brackets), in code points. */
export const MAX_EMAIL_CHARS = 254;
/** Longest comment with a rating (CSAT), in code points. */
export const MAX_RATING_COMMENT_CHARS = 1000;

/**
 * A BCP 47 language tag: a 2–3 letter language (ISO 639), then subtags of 1–8 letters or
 * digits (`de`, `pt-BR`, `zh-Hant-TW`, `es-419`, `en-US-x-twain`), at most 35 characters
 * (RFC 5646 §4.4.1 asks implementations to hold at least that).
 */
const LANGUAGE_TAG = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/;
export const LANGUAGE_TAG_MAX_LENGTH = 35;

export function isLanguageTag(value: string): boolean {
  return value.length <= LANGUAGE_TAG_MAX_LENGTH && LANGUAGE_TAG.test(value);
}

/**
 * Zero-width characters and marks (U+200B–U+200F, U+2060–U+2064, U+FEFF) and bidirectional
 * overrides and isolates (U+202A–U+202E, U+2066–U+2069): they make one name look like another,
 * or turn the rest of a topic's name around.
 */
const INVISIBLE = /[\u200B-\u200F\u202A-\u202E\u2060-\u2069\uFEFF]/g;

/** `text` without bidi controls and zero-width characters. */
export function withoutInvisibles(text: string): string {
  return text.replace(INVISIBLE, '');
}

/**
 * What no part of an e-mail address holds: whitespace, control characters, and the invisible
 * ones above (an address agents copy must be the one the visitor typed, not one that looks like it).
 */
const NOT_IN_ADDRESS =
  '\\s\\u0000-\\u001F\\u007F-\\u009F\\u200B-\\u200F\\u202A-\\u202E\\u2060-\\u2069\\uFEFF';
const EMAIL = new RegExp(
  `^[^@${NOT_IN_ADDRESS}]+@([^@.${NOT_IN_ADDRESS}]+\\.)+[^@.${NOT_IN_ADDRESS}]+$`,
);

/**
 * A plausible e-mail address (`ada@example.com`), already trimmed: one `@`, a dotted domain
 * without empty labels, at most MAX_EMAIL_CHARS code points. Not a full RFC 5322 check — whether
 * it is someone's address only a mail to it tells.
 */
export function isPlausibleEmail(value: string): boolean {
  return charCount(value) <= MAX_EMAIL_CHARS && EMAIL.test(value);
}

// eslint-disable-next-line no-control-regex -- as CONTROL (fields.ts), less tab, line feed and carriage return
const CONTROL_BUT_WHITESPACE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;

/** Characters as a person counts them (code points), not UTF-16 units. */
export function charCount(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

/** The first `max` code points of `text`. */
export function cutTo(text: string, max: number): string {
  return charCount(text) <= max ? text : [...text].slice(0, max).join('');
}

/** Whether `text` holds a control character other than tab, line feed and carriage return. */
export function hasControlCharacters(text: string): boolean {
  return CONTROL_BUT_WHITESPACE.test(text);
}

/** Whether `text` shows nothing: only whitespace and invisible characters. */
export function isBlank(text: string): boolean {
  return withoutInvisibles(text).trim().length === 0;
}

/** Why a visitor message's text is refused; each reason has its own error (docs/errors.md). */
export const MessageTextProblem = {
  tooLong: 'too_long',
  blank: 'blank',
  controlCharacters: 'control_characters',
  /** The caption of a message with files: over MAX_CAPTION_CHARS (Telegram's caption limit). */
  captionTooLong: 'caption_too_long',
} as const;
export type MessageTextProblem = (typeof MessageTextProblem)[keyof typeof MessageTextProblem];

/**
 * What keeps `text` from being stored as a visitor message, or undefined: at most
 * MAX_TEXT_CHARS code points, something visible, no control character but tab and line breaks.
 */
export function messageTextProblem(
  text: string,
  withFiles = false,
): MessageTextProblem | undefined {
  if (withFiles) {
    // A message with files needs no text; what it has is their caption.
    if (charCount(text) > MAX_CAPTION_CHARS) return MessageTextProblem.captionTooLong;
  } else {
    if (charCount(text) > MAX_TEXT_CHARS) return MessageTextProblem.tooLong;
    if (isBlank(text)) return MessageTextProblem.blank;
  }
  if (hasControlCharacters(text)) return MessageTextProblem.controlCharacters;
  return undefined;
}
