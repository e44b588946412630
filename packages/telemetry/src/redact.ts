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

/** Variables whose values are secrets: tokens, keys, passwords (and the previous key in a rotation). */
const SECRET_NAME = /(TOKENS?|SECRET|KEY|KEKS?|PASSWORD)(_PREVIOUS)?$/;
/** Key-encryption keys are `<id>:<key>`: the key alone is a secret too. */
const KEK_NAME = /KEKS?(_PREVIOUS)?$/;
/** Shorter values are not scrubbed: they would blank out ordinary words and numbers. */
const MIN_SECRET_LENGTH = 6;

/**
 * The secret values of an environment: every variable named like a secret (comma-separated
 * lists split), the passwords of `*_URL` variables and the values of OTLP exporter headers.
 */
export function secretValues(env: Record<string, string | undefined>): string[] {
  const values: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (!value) continue;
    if (SECRET_NAME.test(name)) {
      const parts = value.split(',').map((part) => part.trim());
      values.push(value, ...parts);
      if (KEK_NAME.test(name))
        values.push(...parts.map((part) => part.slice(part.indexOf(':') + 1)));
    } else if (name.endsWith('_URL')) {
      try {
        const { password } = new URL(value);
        if (password) values.push(password, decodeURIComponent(password));
      } catch {
        // not a URL: nothing in it to hide (its config rejects it anyway)
      }
    } else if (/^OTEL_EXPORTER_OTLP_(\w+_)?HEADERS$/.test(name)) {
      for (const pair of value.split(',')) {
        const eq = pair.indexOf('=');
        if (eq !== -1) values.push(decodeURIComponent(pair.slice(eq + 1).trim()));
      }
    }
  }
  return [...new Set(values)].filter((v) => v.length >= MIN_SECRET_LENGTH);
}

/** What a scrubbed secret is replaced with. */
export const REDACTED = '[REDACTED]';

/**
 * A function that blanks out of a text (a log line, an error message) every Bot API token — by
 * its shape, in a Bot API URL (`/bot<token>/`) or bare — and every one of `secrets`, also in
 * its JSON-escaped and URL-encoded forms.
 */
export function secretScrubber(secrets: Iterable<string> = []): (text: string) => string {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (secret.length < MIN_SECRET_LENGTH) continue;
    forms.add(secret);
    forms.add(JSON.stringify(secret).slice(1, -1));
    forms.add(encodeURIComponent(secret));
  }
  // Longest first, so a secret that contains another is replaced whole.
  const pattern =
    forms.size === 0
      ? undefined
      : new RegExp(
          [...forms]
            .sort((a, b) => b.length - a.length)
            .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
            .join('|'),
          'g',
        );
  return (text) => {
    let scrubbed = text
      .replace(/\/bot\d+:[A-Za-z0-9_-]+/g, '/bot<redacted>')
      .replace(/\b\d{6,12}:[A-Za-z0-9_-]{30,}\b/g, REDACTED);
    if (pattern) scrubbed = scrubbed.replace(pattern, REDACTED);
    return scrubbed;
  };
}
