import type { SupportGroup } from '@topicdesk/data';

/**
 * A BCP 47 language tag as far as routing needs it: a 2–8 letter language, then subtags of 1–8
 * letters or digits (`de`, `pt-BR`, `zh-Hant-TW`, `sr-Latn`), at most 35 characters.
 */
const LANGUAGE_TAG = /^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$/;
export const LANGUAGE_TAG_MAX_LENGTH = 35;

export function isLanguageTag(value: string): boolean {
  return value.length <= LANGUAGE_TAG_MAX_LENGTH && LANGUAGE_TAG.test(value);
}

function primaryLanguage(tag: string): string {
  return tag.split('-', 1)[0]!.toLowerCase();
}

/** What routing reads of a support group. */
export type RoutableGroup = Pick<SupportGroup, 'chat_id' | 'level' | 'locales' | 'active'>;

/**
 * The support group a new conversation in `locale` goes to: the first active level-1 group
 * (in the order given) listing the exact tag, case-insensitively; else the first listing a tag
 * of the same primary language (`de` takes `de-AT` and `de-AT` takes `de`); else null, the
 * default group (SUPPORT_GROUP_ID). An absent or malformed locale goes to the default group.
 */
export function routeToGroup(
  groups: readonly RoutableGroup[],
  locale: string | null | undefined,
): number | null {
  const tag = locale?.trim();
  if (!tag || !isLanguageTag(tag)) return null;
  const candidates = groups.filter((g) => g.active && g.level === 1);
  const exact = tag.toLowerCase();
  const byTag = candidates.find((g) => g.locales.some((l) => l.toLowerCase() === exact));
  if (byTag) return byTag.chat_id;
  const language = primaryLanguage(tag);
  const byLanguage = candidates.find((g) =>
    g.locales.some((l) => isLanguageTag(l) && primaryLanguage(l) === language),
  );
  return byLanguage?.chat_id ?? null;
}
