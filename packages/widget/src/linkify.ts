/** A piece of a message: plain text, or a URL that may become a link. */
export type Segment = { text: string; href?: string };

const URL_PATTERN = /\bhttps?:\/\/[^\s<>"'`]+/gi;
/** Punctuation that ends a sentence rather than a URL. */
const TRAILING = new Set(['.', ',', ';', ':', '!', '?', "'", '"', ')', ']', '}']);

/** The URL when it is a well-formed http(s) URL, so nothing but web links ever become links. */
export function safeHref(candidate: string): string | undefined {
  try {
    const url = new URL(candidate);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `url` without its trailing punctuation, read from the end once. (A regex anchored at the end,
 * /[.,…]+$/, retries from every punctuation mark of a long run: quadratic in a hostile message.)
 */
function withoutTrailing(url: string): string {
  let end = url.length;
  while (end > 0 && TRAILING.has(url[end - 1] as string)) end--;
  return url.slice(0, end);
}

/** Splits text into plain parts and http(s) links; trailing punctuation stays text. */
export function linkify(text: string): Segment[] {
  const segments: Segment[] = [];
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    // "see https://x.example/a." links to /a: punctuation that ends a sentence is not part of it.
    const url = withoutTrailing(match[0]);
    const href = safeHref(url);
    const start = match.index;
    if (!href || url.length === 0) continue;
    if (start > last) segments.push({ text: text.slice(last, start) });
    segments.push({ text: url, href });
    last = start + url.length;
  }
  if (last < text.length) segments.push({ text: text.slice(last) });
  return segments;
}
