import type { SupportGroup } from '@topicdesk/data';
import { isLanguageTag } from '@topicdesk/protocol';

function primaryLanguage(tag: string): string {
  return tag.split('-', 1)[0]!.toLowerCase();
}

/** What routing reads of a support group. */
export type RoutableGroup = Pick<
  SupportGroup,
  'chat_id' | 'level' | 'locales' | 'segments' | 'active'
>;

/**
 * The support group a new conversation goes to, among the active level-1 groups (in the order
 * given): the first listing its `segment` (a bot channel's role, exactly as the plugin passed
 * it) whose locales, if it has any, take `locale`; else the first listing the exact tag of
 * `locale`, case-insensitively; else the first listing a tag of the same primary language (`de`
 * takes `de-AT` and `de-AT` takes `de`); else null, the default group (SUPPORT_GROUP_ID). An
 * absent or malformed locale skips the locale rule.
 */
export function routeToGroup(
  groups: readonly RoutableGroup[],
  locale: string | null | undefined,
  segment?: string | null,
): number | null {
  return bySegment(
    groups.filter((g) => g.active && g.level === 1),
    locale,
    segment,
  );
}

/**
 * The group an escalation to `level` moves a conversation to: among the active groups of that
 * level (in the order given), the one its segment and locale route to as above, else the first;
 * null when the level has no group of its own (the conversation stays where it is).
 */
export function escalationGroup(
  groups: readonly RoutableGroup[],
  level: number,
  locale: string | null | undefined,
  segment?: string | null,
): number | null {
  const candidates = groups.filter((g) => g.active && g.level === level);
  return bySegment(candidates, locale, segment) ?? candidates[0]?.chat_id ?? null;
}

/**
 * The first group listing the segment and taking the locale (a group without locales takes
 * any), else the locale rule over every candidate.
 */
function bySegment(
  candidates: readonly RoutableGroup[],
  locale: string | null | undefined,
  segment: string | null | undefined,
): number | null {
  if (segment) {
    const match = candidates.find(
      (g) => g.segments.includes(segment) && (g.locales.length === 0 || takesLocale(g, locale)),
    );
    if (match) return match.chat_id;
  }
  return byLocale(candidates, locale);
}

/** Whether the group lists the locale's exact tag or one of its primary language. */
function takesLocale(group: RoutableGroup, locale: string | null | undefined): boolean {
  return byLocale([group], locale) !== null;
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
