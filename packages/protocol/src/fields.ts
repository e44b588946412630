import { z } from 'zod';
import {
  charCount,
  cutTo,
  isLanguageTag,
  isPlausibleEmail,
  LANGUAGE_TAG_MAX_LENGTH,
  MAX_EMAIL_CHARS,
  withoutInvisibles,
} from './text-rules';

/**
 * The text fields of the visitor and admin APIs that reach people: agents in Telegram (a topic's
 * name and header) and visitors (an agent's display name). One set of rules for all of them:
 *
 * - control characters (U+0000–U+001F, U+007F–U+009F) are refused: Postgres cannot store NUL,
 *   and none of them has a place in a name or a title (a message may hold tabs and line breaks);
 * - bidirectional controls and zero-width characters are removed (`withoutInvisibles`, the same
 *   rule the bridge applies when it shows these fields);
 * - lengths count code points (what a person counts), not UTF-16 units.
 */

// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u001F\u007F-\u009F]/;
const CONTROLS = new RegExp(CONTROL.source, 'g');

/**
 * A one-line name (a visitor's, an agent's): no control characters, invisibles removed,
 * trimmed, then `min`..`max` code points (refused, not cut: the person typing can fix it).
 */
export function nameField(max: number, min = 1) {
  return z
    .string()
    .refine((v) => !CONTROL.test(v), 'must not contain control characters')
    .transform((v) => withoutInvisibles(v).trim())
    .refine(
      (v) => charCount(v) >= min,
      min === 1 ? 'must not be blank' : `at least ${min} characters`,
    )
    .refine((v) => charCount(v) <= max, `at most ${max} characters`);
}

/**
 * A title from the page the widget is on: not the visitor's to fix, so cut to `max` code
 * points rather than refused; control characters become spaces, invisibles are removed.
 */
export function titleField(max: number) {
  return z
    .string()
    .transform((v) => cutTo(withoutInvisibles(v.replace(CONTROLS, ' ')).trim(), max));
}

/** A BCP 47 language tag (`en`, `pt-BR`, `zh-Hant-TW`) of at most 35 characters. */
export const localeField = z
  .string()
  .max(LANGUAGE_TAG_MAX_LENGTH, `a language tag has at most ${LANGUAGE_TAG_MAX_LENGTH} characters`)
  .refine(isLanguageTag, 'a BCP 47 language tag such as en or pt-BR');

/**
 * An e-mail address the visitor typed: trimmed, then refused (not cut, not cleaned) unless it is
 * a plausible address of at most MAX_EMAIL_CHARS code points (`isPlausibleEmail`).
 */
export const emailField = z
  .string()
  .transform((v) => v.trim())
  .refine((v) => charCount(v) <= MAX_EMAIL_CHARS, `at most ${MAX_EMAIL_CHARS} characters`)
  .refine(isPlausibleEmail, 'an e-mail address such as ada@example.com');

/** An http(s) URL of at most `max` characters. */
export function pageUrlField(max: number) {
  return z
    .string()
    .max(max, `at most ${max} characters`)
    .url()
    .refine((v) => /^https?:\/\//i.test(v), 'an http or https URL');
}
