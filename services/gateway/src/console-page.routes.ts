import { readFile, stat } from 'node:fs/promises';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { ErrorCode, GatewayError } from './errors';

/**
 * The console package's build output (packages/console/dist): hashed files and manifest.json.
 * Made by `pnpm install` (the package's postinstall) or `pnpm --filter @topicdesk/console build`;
 * the gateway only serves it.
 */
const distDir = new URL('../../../packages/console/dist/', import.meta.url);

interface Manifest {
  js: string;
  css: string;
  integrity: { js: string; css: string };
}

const IMMUTABLE = 'public, max-age=31536000, immutable';
const ASSET = /^console\.[0-9a-f]{12}\.(js|css)$/;

/**
 * Only what the console's own files need: no inline script or style, no eval, no other origin.
 * The SSE stream and the API are same-origin (connect-src 'self'). Only Telegram's web client
 * may frame it (it shows Mini Apps in a frame; its apps use a web view): no X-Frame-Options,
 * which cannot name an origin and which frame-ancestors supersedes.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  'frame-ancestors https://web.telegram.org',
].join('; ');

const notBuilt = () =>
  new GatewayError(
    ErrorCode.UNAVAILABLE,
    'the console is not built: run `pnpm install` or `pnpm --filter @topicdesk/console build`',
  );

/** Reads manifest.json again only when it changed on disk (a rebuild). */
function manifestLoader() {
  let cached: { manifest: Manifest; mtimeMs: number } | undefined;
  return async (): Promise<Manifest | undefined> => {
    const url = new URL('manifest.json', distDir);
    let mtimeMs: number;
    try {
      mtimeMs = (await stat(url)).mtimeMs;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error; // not built
      return undefined;
    }
    if (cached?.mtimeMs !== mtimeMs)
      cached = { manifest: JSON.parse(await readFile(url, 'utf8')) as Manifest, mtimeMs };
    return cached.manifest;
  };
}

function shell(manifest: Manifest): string {
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<meta name="robots" content="noindex"><meta name="color-scheme" content="light dark">` +
    `<title>Topicdesk console</title><link rel="icon" href="data:,">` +
    `<link rel="stylesheet" href="/console/assets/${manifest.css}" integrity="${manifest.integrity.css}">` +
    `<script type="module" src="/console/assets/${manifest.js}" integrity="${manifest.integrity.js}"></script>` +
    `</head><body><div id="app"></div>` +
    `<noscript><p>The console needs JavaScript.</p></noscript></body></html>`
  );
}

/**
 * The web console: `/console` and every path below it answer the same page (a single-page app
 * whose router reads the path); `/console/assets/<hashed name>` its script and stylesheet.
 * `/console/sign-in` is console.routes.ts' own (a static route wins over the wildcard).
 * Whether one is signed in is the page's question (GET /v1/console/session): without a session
 * it tells how to get a link from the bot.
 */
export const consolePageRoutes: FastifyPluginAsync = async (app) => {
  const manifest = manifestLoader();
  if (!(await manifest())) app.log.warn(notBuilt().message);

  const page = async (_request: unknown, reply: FastifyReply) => {
    const current = await manifest();
    if (!current) throw notBuilt();
    return reply
      .header('content-security-policy', CONSOLE_CSP)
      .header('referrer-policy', 'same-origin')
      .header('x-content-type-options', 'nosniff')
      .header('cache-control', 'no-cache')
      .type('text/html; charset=utf-8')
      .send(shell(current));
  };
  app.get('/console', page);
  app.get('/console/*', page);

  app.get('/console/assets/:name', async (request, reply) => {
    const { name } = request.params as { name: string };
    if (!ASSET.test(name)) throw new GatewayError(ErrorCode.NOT_FOUND, 'no such console file');
    let body: Buffer;
    try {
      body = await readFile(new URL(name, distDir));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      throw new GatewayError(ErrorCode.NOT_FOUND, 'no such console file; reload the console');
    }
    return reply
      .header('cache-control', IMMUTABLE)
      .header('x-content-type-options', 'nosniff')
      .type(name.endsWith('.js') ? 'text/javascript; charset=utf-8' : 'text/css; charset=utf-8')
      .send(body);
  });
};
