import { useEffect, useState } from 'preact/hooks';

/** Where the console is served; every page is a path below it (the gateway answers each). */
export const BASE = '/console';

const listeners = new Set<() => void>();
const notify = () => listeners.forEach((l) => l());
addEventListener('popstate', notify);

/** The console's path of the current URL: `/`, `/conversations/<id>`… */
export function currentPath(): string {
  const path = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) : '/';
  return path === '' ? '/' : path;
}

export function href(path: string): string {
  return `${BASE}${path}`;
}

export function navigate(path: string, query?: URLSearchParams): void {
  const search = query && [...query.keys()].length > 0 ? `?${query.toString()}` : '';
  history.pushState(null, '', `${href(path)}${search}`);
  notify();
}

/** Re-renders on navigation; returns the path and query. */
export function useRoute(): { path: string; query: URLSearchParams } {
  const [, setTick] = useState(0);
  useEffect(() => {
    const listener = () => setTick((n) => n + 1);
    listeners.add(listener);
    return () => void listeners.delete(listener);
  }, []);
  return { path: currentPath(), query: new URLSearchParams(location.search) };
}

/** A link inside the console: no reload, and the browser's own behaviour for new tabs. */
export function onLinkClick(event: MouseEvent, path: string): void {
  if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey)
    return;
  event.preventDefault();
  navigate(path);
}
