/** A path pattern: a RegExp, or a string where `*` matches anything (`/shop/*`, `*.html`). */
export type PathPattern = string | RegExp;

function wildcard(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`);
}

function matches(path: string, pattern: PathPattern): boolean {
  if (pattern instanceof RegExp) {
    pattern.lastIndex = 0;
    return pattern.test(path);
  }
  return wildcard(pattern).test(path);
}

/**
 * Whether the widget belongs on `path`: on every path when `include` is empty, else on the ones
 * it matches; never on a path `exclude` matches.
 */
export function pathAllowed(
  path: string,
  include: readonly PathPattern[] = [],
  exclude: readonly PathPattern[] = [],
): boolean {
  if (include.length > 0 && !include.some((p) => matches(path, p))) return false;
  return !exclude.some((p) => matches(path, p));
}
