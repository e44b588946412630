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

/**
 * Calls `recheck` after every SPA navigation (pushState, replaceState, popstate, hashchange).
 * Returns what undoes it.
 */
export function observeRoute(recheck: () => void): () => void {
  const later = () => queueMicrotask(recheck);
  const undo: Array<() => void> = [];
  for (const name of ['pushState', 'replaceState'] as const) {
    // Wrapped, not replaced: the site's router (and anyone else's wrapper) still runs first.
    const original = history[name].bind(history);
    const patched = (...args: Parameters<History['pushState']>) => {
      original(...args);
      later();
    };
    history[name] = patched;
    undo.push(() => {
      if (history[name] === patched) history[name] = original;
    });
  }
  for (const type of ['popstate', 'hashchange']) {
    addEventListener(type, later);
    undo.push(() => removeEventListener(type, later));
  }
  return () => undo.forEach((fn) => fn());
}
