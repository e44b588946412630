import { createHash } from 'node:crypto';

/** The part of an OpenAPI operation the reference page shows. */
interface Operation {
  summary?: string;
  description?: string;
  tags?: string[];
  'x-permission'?: string;
  security?: Array<Record<string, string[]>>;
  parameters?: Array<{ name: string; in: string; required?: boolean; schema?: unknown }>;
  requestBody?: { content: Record<string, { schema?: unknown }> };
  responses?: Record<
    string,
    { description?: string; content?: Record<string, { schema?: Record<string, unknown> }> }
  >;
}

/** /openapi.json as `openApiDocument` makes it: its operations are `Operation`s. */
interface Document {
  info: { title: string; version: string; description?: string };
  paths: Record<string, Record<string, unknown>>;
  components?: { schemas?: Record<string, unknown> };
}

const STYLE = `body{font:15px/1.5 system-ui,sans-serif;margin:0 auto;max-width:60rem;padding:1rem;color:#1b1f24;background:#fff}
h1{font-size:1.5rem}h2{margin-top:2rem;border-bottom:1px solid #ccd}
section{border:1px solid #ccd;border-radius:6px;padding:.5rem 1rem;margin:1rem 0}
h3{font-size:1rem;margin:.25rem 0;overflow-wrap:anywhere}.m{display:inline-block;min-width:4.5rem;font-family:monospace;text-transform:uppercase}
code,pre{font-family:ui-monospace,monospace;font-size:13px}pre{background:#f3f4f6;padding:.5rem;overflow:auto}
table{border-collapse:collapse}td,th{border:1px solid #ccd;padding:.15rem .5rem;text-align:start}
@media (prefers-color-scheme:dark){body{color:#e6e8eb;background:#0f1115}section,td,th,h2{border-color:#3a3f4a}pre{background:#1b1f27}a{color:#8ab4ff}}`;

/** The page's Content-Security-Policy: nothing but its own inline style. */
export const OPENAPI_PAGE_CSP = [
  "default-src 'none'",
  `style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`,
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const escape = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

const json = (value: unknown) => `<pre>${escape(JSON.stringify(value, null, 2))}</pre>`;

function operation(method: string, path: string, op: Operation): string {
  const auth = (op.security ?? []).flatMap((s) => Object.keys(s));
  const parameters = op.parameters ?? [];
  const body = Object.entries(op.requestBody?.content ?? {});
  return [
    `<section id="${escape(`${method}-${path}`)}">`,
    `<h3><span class="m">${escape(method)}</span> <code>${escape(path)}</code></h3>`,
    op.summary ? `<p>${escape(op.summary)}</p>` : '',
    op.description ? `<p>${escape(op.description)}</p>` : '',
    `<p>Auth: ${auth.length ? auth.map((a) => `<code>${escape(a)}</code>`).join(' or ') : 'none'}` +
      (op['x-permission'] ? ` · permission <code>${escape(op['x-permission'])}</code>` : '') +
      '</p>',
    parameters.length
      ? `<table><tr><th>parameter</th><th>in</th><th>required</th><th>schema</th></tr>${parameters
          .map(
            (p) =>
              `<tr><td><code>${escape(p.name)}</code></td><td>${escape(p.in)}</td><td>${p.required ? 'yes' : 'no'}</td><td><code>${escape(JSON.stringify(p.schema ?? {}))}</code></td></tr>`,
          )
          .join('')}</table>`
      : '',
    ...body.map(
      ([type, { schema }]) => `<p>Body (<code>${escape(type)}</code>):</p>${json(schema)}`,
    ),
    `<p>Answers: ${Object.entries(op.responses ?? {})
      .map(([status, r]) => `<code>${escape(status)}</code> ${escape(r.description ?? '')}`)
      .join(' · ')}</p>`,
    ...Object.entries(op.responses ?? {}).flatMap(([status, r]) => {
      const schema = r.content?.['application/json']?.schema;
      return status.startsWith('2') && schema && Object.keys(schema).length > 0
        ? [
            `<p>Answer <code>${escape(status)}</code> (<code>application/json</code>):</p>${json(schema)}`,
          ]
        : [];
    }),
    '</section>',
  ].join('');
}

/**
 * The reference page of /openapi.json: every operation by tag, with its auth, permission,
 * parameters, body and answer schemas, then the shared schemas answers refer to, as the
 * document says (so it cannot drift from the routes).
 */
export function openApiPage(document: Document): string {
  const byTag = new Map<string, string[]>();
  for (const [path, methods] of Object.entries(document.paths)) {
    for (const [method, value] of Object.entries(methods)) {
      const op = value as Operation;
      const tag = op.tags?.[0] ?? 'other';
      byTag.set(tag, [...(byTag.get(tag) ?? []), operation(method, path, op)]);
    }
  }
  const { title, version, description } = document.info;
  return [
    '<!doctype html><html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escape(title)} API reference</title><style>${STYLE}</style></head><body><main>`,
    `<h1>${escape(title)} API reference <small>${escape(version)}</small></h1>`,
    description ? `<p>${escape(description)}</p>` : '',
    '<p>The machine-readable document: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).</p>',
    ...[...byTag].map(([tag, sections]) => `<h2>${escape(tag)}</h2>${sections.join('')}`),
    // The shapes answers refer to (`$ref: #/components/schemas/<name>`).
    '<h2 id="schemas">schemas</h2>',
    ...Object.entries(document.components?.schemas ?? {}).map(
      ([name, schema]) =>
        `<section id="${escape(`schema-${name}`)}"><h3><code>${escape(name)}</code></h3>${json(schema)}</section>`,
    ),
    '</main></body></html>',
  ].join('\n');
}
