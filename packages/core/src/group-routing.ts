import type { SupportGroup } from '@topicdesk/data';
import { isLanguageTag } from '@topicdesk/protocol';

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
  return byLocale(
    groups.filter((g) => g.active && g.level === 1),
    locale,
  );
}

/**
 * The group an escalation to `level` moves a conversation to: among the active groups of that
 * level (in the order given), the one its locale routes to as above, else the first; null when
 * the level has no group of its own (the conversation stays where it is).
 */
export function escalationGroup(
  groups: readonly RoutableGroup[],
  level: number,
  locale: string | null | undefined,
): number | null {
  const candidates = groups.filter((g) => g.active && g.level === level);
  return byLocale(candidates, locale) ?? candidates[0]?.chat_id ?? null;
}

/** The first group listing the exact tag, else one of the same primary language, else null. */
function byLocale(candidates: readonly RoutableGroup[], locale: string | null | undefined) {
  const tag = locale?.trim();
  if (!tag || !isLanguageTag(tag)) return null;
  const exact = tag.toLowerCase();
  const byTag = candidates.find((g) => g.locales.some((l) => l.toLowerCase() === exact));
  if (byTag) return byTag.chat_id;
  const language = primaryLanguage(tag);
  const byLanguage = candidates.find((g) =>
    g.locales.some((l) => isLanguageTag(l) && primaryLanguage(l) === language),
  );
  return byLanguage?.chat_id ?? null;
}
