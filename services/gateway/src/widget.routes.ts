import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { PrechatField } from './config';
import { ErrorCode, GatewayError } from './errors';

const demoTemplate = readFileSync(new URL('./public/demo.html', import.meta.url), 'utf8');

/**
 * The widget package's build output. It is a static asset made by `pnpm install` (the widget's
 * postinstall) or `pnpm --filter @topicdesk/widget build`; the gateway only serves it.
 */
const distDir = new URL('../../../packages/widget/dist/', import.meta.url);

const IMMUTABLE = 'public, max-age=31536000, immutable';
/** The unversioned URL: short, so a new widget reaches sites within minutes. */
const SHORT = 'public, max-age=300, stale-while-revalidate=3600';

interface Asset {
  body: Buffer;
  version: string;
  /** Subresource Integrity, for `<script integrity>`. */
  integrity: string;
  etag: string;
  mtimeMs: number;
}

/** Reads a dist file once and again only when it changed on disk (a rebuild). */
export function assetLoader(name: string) {
  let cached: Asset | undefined;
  return async (): Promise<Asset | undefined> => {
    const url = new URL(name, distDir);
    let mtimeMs: number;
    try {
      mtimeMs = (await stat(url)).mtimeMs;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error; // not built: undefined
      return undefined;
    }
    if (cached?.mtimeMs === mtimeMs) return cached;
    const body = await readFile(url);
    const version = createHash('sha256').update(body).digest('hex').slice(0, 12);
    const integrity = `sha384-${createHash('sha384').update(body).digest('base64')}`;
    cached = { body, version, integrity, etag: `"${version}"`, mtimeMs };
    return cached;
  };
}

export const notBuilt = () =>
  new GatewayError(
    ErrorCode.UNAVAILABLE,
    'the widget is not built: run `pnpm install` or `pnpm --filter @topicdesk/widget build`',
  );

function sendScript(
  request: FastifyRequest,
  reply: FastifyReply,
  asset: Asset,
  cacheControl: string,
): FastifyReply {
  void reply
    .header('access-control-allow-origin', '*')
    .header('cross-origin-resource-policy', 'cross-origin')
    .header('x-content-type-options', 'nosniff')
    .header('cache-control', cacheControl)
    .header('etag', asset.etag)
    .type('text/javascript; charset=utf-8');
  if (request.headers['if-none-match'] === asset.etag) return reply.status(304).send();
  return reply.send(asset.body);
}

/** A header-safe host for the CSP's connect-src (the Host header comes from the client). */
function socketSources(host: string | undefined): string {
  if (!host || !/^[A-Za-z0-9.\-:[\]]+$/.test(host)) return '';
  return ` ws://${host} wss://${host}`;
}

export interface WidgetRoutesOptions {
  /** PRECHAT_FIELDS: with `email`, the demo shows the pre-chat form a site may ask for. */
  prechatFields: readonly PrechatField[];
  /** The origin of attachments' upload and download links (S3 or PUBLIC_URL), for the CSP. */
  fileSource?: string | undefined;
}

/**
 * The visitor-facing static assets: the widget script (`/widget.js`, `/widget.<version>.js`,
 * `/widget.mjs`) for any site to load, and the demo page that embeds it the way a site would.
 */
export const widgetRoutes: FastifyPluginAsync<WidgetRoutesOptions> = async (app, options) => {
  // The demo asks for what this gateway takes: a name (optional) and, if enabled, an e-mail.
  const preChat = options.prechatFields.includes('email')
    ? JSON.stringify({ name: 'optional', email: 'required' })
    : 'null';
  const script = assetLoader('widget.js');
  const esm = assetLoader('widget.mjs');
  const files = options.fileSource ? ` ${options.fileSource}` : '';
  if (!(await script())) app.log.warn(notBuilt().message);

  app.get('/widget.js', async (request, reply) => {
    const asset = await script();
    if (!asset) throw notBuilt();
    const { v } = request.query as { v?: string };
    return sendScript(request, reply, asset, v === asset.version ? IMMUTABLE : SHORT);
  });

  // A URL names one build forever: an old version is gone rather than answered with new bytes.
  app.get('/widget.:version(^[0-9a-f]{12}$).js', async (request, reply) => {
    const asset = await script();
    if (!asset) throw notBuilt();
    const { version } = request.params as { version: string };
    if (version !== asset.version)
      throw new GatewayError(ErrorCode.NOT_FOUND, 'no such widget version; load /widget.js');
    return sendScript(request, reply, asset, IMMUTABLE);
  });

  app.get('/widget.mjs', async (request, reply) => {
    const asset = await esm();
    if (!asset) throw notBuilt();
    const { v } = request.query as { v?: string };
    return sendScript(request, reply, asset, v === asset.version ? IMMUTABLE : SHORT);
  });

  const demo = async (request: FastifyRequest, reply: FastifyReply) => {
    const nonce = randomBytes(16).toString('base64');
    const asset = await script();
    const page = demoTemplate
      .replaceAll('{{nonce}}', nonce)
      .replaceAll('{{script}}', asset ? `/widget.${asset.version}.js` : '/widget.js')
      .replaceAll('{{integrity}}', asset?.integrity ?? '')
      .replaceAll('{{preChat}}', preChat);
    return reply
      .header(
        'content-security-policy',
        [
          "default-src 'none'",
          `script-src 'self' 'nonce-${nonce}'`,
          `style-src 'self' 'nonce-${nonce}'`,
          `img-src 'self' data: blob:${files}`,
          `connect-src 'self'${socketSources(request.headers.host)}${files}`,
          "base-uri 'none'",
          "form-action 'self'",
          "frame-ancestors 'none'",
          "require-trusted-types-for 'script'",
          "trusted-types 'none'",
        ].join('; '),
      )
      .header('referrer-policy', 'strict-origin-when-cross-origin')
      .header('cache-control', 'no-store')
      .type('text/html; charset=utf-8')
      .send(page);
  };
  // The demo is a small single-page app: its routes load the same page.
  app.get('/demo', demo);
  app.get('/demo/*', demo);
};
