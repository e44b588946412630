import { linkify } from './linkify';

// Small DOM helpers of the view: elements by markup (never from HTML), icons, times.

export type Child = Node | string;

const SVG = 'http://www.w3.org/2000/svg';
const ICONS = {
  chat: 'M20 2H4a2 2 0 0 0-2 2v18l4-4h14a2 2 0 0 0 2-2V4a2 2 0 0 0-2-2z',
  close:
    'M19 6.41 17.59 5 12 10.59 6.41 5 5 6.41 10.59 12 5 17.59 6.41 19 12 13.41 17.59 19 19 17.59 13.41 12z',
  send: 'M2.01 21 23 12 2.01 3 2 10l15 2-15 2z',
  clip: 'M16.5 6v11.5a4 4 0 0 1-8 0V5a2.5 2.5 0 0 1 5 0v10.5a1 1 0 0 1-2 0V6H10v9.5a2.5 2.5 0 0 0 5 0V5a4 4 0 0 0-8 0v12.5a5.5 5.5 0 0 0 11 0V6z',
  bell: 'M12 22a2 2 0 0 0 2-2h-4a2 2 0 0 0 2 2zm6-6v-5c0-3.07-1.64-5.64-4.5-6.32V4a1.5 1.5 0 0 0-3 0v.68C7.63 5.36 6 7.92 6 11v5l-2 2v1h16v-1z',
} as const;

/** Elements by markup, never from HTML: attributes by setAttribute, children as nodes or text. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | boolean> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== false) el.setAttribute(name, value === true ? '' : value);
  }
  el.append(...children);
  return el;
}

export function icon(name: keyof typeof ICONS): SVGSVGElement {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const path = document.createElementNS(SVG, 'path');
  path.setAttribute('d', ICONS[name]);
  svg.append(path);
  return svg;
}

/** hh:mm in the widget's locale; a tag the browser does not know falls back to its own. */
export function clock(time: Date, locale: string): string {
  return inLocale(time, locale, { hour: '2-digit', minute: '2-digit' });
}

/** Message text as text nodes, with http(s) URLs as links that cannot reach the opener. */
export function richText(text: string): Child[] {
  return linkify(text).map((segment) => {
    if (!segment.href) return segment.text;
    const a = h('a', { target: '_blank', rel: 'noopener noreferrer' }, segment.text);
    a.href = segment.href;
    return a;
  });
}

/** A moment later today or in the coming days: weekday and time in the widget's locale. */
export function when(time: Date, locale: string): string {
  return inLocale(time, locale, { weekday: 'short', hour: '2-digit', minute: '2-digit' });
}

/** `time` formatted for `locale`; a tag the browser does not know falls back to its own. */
function inLocale(time: Date, locale: string, options: Intl.DateTimeFormatOptions): string {
  try {
    return time.toLocaleString(locale, options);
  } catch {
    return time.toLocaleString(undefined, options);
  }
}
