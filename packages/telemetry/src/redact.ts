/** Query parameters whose values never reach a span. */
const SECRET_PARAMS: ReadonlySet<string> = new Set(['token', 'access_token', 'secret']);

/**
 * A URL path (with or without its query) as it may appear in a span: the Bot API token
 * (`/bot<token>/…`), the webhook's secret path segment and token query values are replaced.
 */
export function redactUrlPath(pathAndQuery: string): string {
  const q = pathAndQuery.indexOf('?');
  const path = q === -1 ? pathAndQuery : pathAndQuery.slice(0, q);
  const query = q === -1 ? undefined : pathAndQuery.slice(q + 1);
  const safePath = path
    .replace(/\/bot\d+:[^/]+/, '/bot<redacted>')
    .replace(/\/webhook\/[^/]+/, '/webhook/:secret');
  return query === undefined ? safePath : `${safePath}?${redactQuery(query)}`;
}

/** A query string with the values of secret parameters replaced. */
export function redactQuery(query: string): string {
  return query
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = decodeURIComponent(eq === -1 ? pair : pair.slice(0, eq)).toLowerCase();
      return SECRET_PARAMS.has(name)
        ? `${pair.slice(0, eq === -1 ? pair.length : eq)}=REDACTED`
        : pair;
    })
    .join('&');
}
