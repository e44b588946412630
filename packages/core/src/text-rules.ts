/**
 * The rules for text that people give and other people read — a visitor's name and locale in
 * the API, the same fields in a topic's name and header: one definition for the gateway that
 * checks them on the way in and the bridge that shows them.
 */

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
