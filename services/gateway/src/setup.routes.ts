import { DEFAULT_TENANT_ID, Permission } from '@topicdesk/core';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { adminRoute, principalOf } from './admin-access';
import { ErrorCode, GatewayError } from './errors';
import { SetupAction, type BridgeSetup } from './setup-client';
import { parse } from './validation';
import { assetLoader, notBuilt } from './widget.routes';
import { setupAnswer, snippetAnswer } from './answers';

export interface SetupRoutesOptions {
  bridge: BridgeSetup;
  /** ALLOWED_ORIGINS, split: the sites whose browsers may call the visitor API (`*`: any). */
  allowedOrigins: readonly string[];
  /** PUBLIC_URL: where sites load the widget from (else the request's own origin). */
  publicUrl: string | undefined;
  /** A tenant's site key and allowed origins (the caller's, for a tenant other than default). */
  tenant?: (
    tenantId: string,
  ) => Promise<{ siteKey: string; allowedOrigins: readonly string[] } | undefined>;
}

/** What the setup page checks and the snippet names of the caller's site. */
interface Site {
  allowedOrigins: readonly string[];
  /** A tenant other than default: its public site key (the snippet's data-site-key). */
  siteKey?: string;
  /** Whether the origins are the tenant's own (else the environment's ALLOWED_ORIGINS). */
  ownOrigins?: boolean;
}

interface Check {
  id: string;
  ok: boolean;
  detail: string;
  fix: string;
}

const snippetQuery = z.strictObject({
  /** The site that will embed the widget, e.g. https://shop.example (scheme, host, port). */
  origin: z
    .url({ protocol: /^https?$/ })
    .max(2048)
    .refine((v) => new URL(v).origin === v.replace(/\/+$/, ''), 'an origin: scheme://host[:port]')
    .transform((v) => new URL(v).origin),
});

/** The checks the gateway makes itself: the visitor API's allowed origins, the widget build. */
function gatewayChecks(site: Site, widgetBuilt: boolean): Check[] {
  const anyOrigin = site.allowedOrigins.includes('*');
  return [
    anyOrigin || site.allowedOrigins.length === 0
      ? {
          id: 'origins',
          ok: false,
          detail: 'ALLOWED_ORIGINS is `*`: any site may embed the widget and start conversations',
          fix: 'set ALLOWED_ORIGINS to the comma-separated origins of your sites (https://shop.example)',
        }
      : {
          id: 'origins',
          ok: true,
          detail: `allowed origins: ${site.allowedOrigins.join(', ')}`,
          fix: '',
        },
    widgetBuilt
      ? { id: 'widget', ok: true, detail: 'the widget script is built and served', fix: '' }
      : { id: 'widget', ok: false, detail: notBuilt().message, fix: 'run `pnpm install`' },
  ];
}

/**
 * The console's setup page (docs/console.md, "Setup"): what a new install needs, each check
 * with how to fix it. The Telegram checks are the bridge's (it holds the tokens): asked over
 * the bus, with a timeout (SETUP_BRIDGE_UNAVAILABLE).
 */
export const setupRoutes: FastifyPluginAsync<SetupRoutesOptions> = async (app, options) => {
  const script = assetLoader('widget.js');
  app.addHook('onClose', () => options.bridge.close());

  /**
   * The caller's site: the default tenant's is the environment's; another tenant's allowed
   * origins are its own where it has any (else the environment's apply), and its snippet names it
   * by its public site key.
   */
  const siteOf = async (tenantId: string): Promise<Site> => {
    const tenant = tenantId === DEFAULT_TENANT_ID ? undefined : await options.tenant?.(tenantId);
    if (!tenant) return { allowedOrigins: options.allowedOrigins };
    const own = tenant.allowedOrigins.length > 0;
    return {
      siteKey: tenant.siteKey,
      allowedOrigins: own ? tenant.allowedOrigins : options.allowedOrigins,
      ownOrigins: own,
    };
  };

  const checks = async (tenantId: string, action: SetupAction) => {
    const reply = await options.bridge.ask(tenantId, action);
    const fromBridge = reply.checks.map(({ id, ok, detail, fix }) => ({ id, ok, detail, fix }));
    const site = await siteOf(tenantId);
    return {
      reply,
      checks: [...fromBridge, ...gatewayChecks(site, (await script()) !== undefined)],
    };
  };

  app.get(
    '/v1/admin/setup',
    adminRoute(
      Permission.operations,
      'Setup checks: bots, support groups, webhook, allowed origins — each with its fix',
      { answers: { 200: setupAnswer } },
    ),
    async (request) => {
      const { checks: list } = await checks(principalOf(request).tenantId, SetupAction.CHECK);
      return { ok: list.every((c) => c.ok), checks: list, checkedAt: new Date().toISOString() };
    },
  );

  app.post(
    '/v1/admin/setup/webhook',
    adminRoute(
      Permission.settingsWrite,
      "Sets the bot's webhook to TELEGRAM_WEBHOOK_URL, then checks again",
      { answers: { 200: setupAnswer } },
    ),
    async (request) => {
      const { reply, checks: list } = await checks(
        principalOf(request).tenantId,
        SetupAction.SET_WEBHOOK,
      );
      if (reply.error)
        throw new GatewayError(ErrorCode.SETUP_WEBHOOK_FAILED, reply.error.message, {
          cause: reply.error.code,
          checks: list,
        });
      return { ok: list.every((c) => c.ok), checks: list, checkedAt: new Date().toISOString() };
    },
  );

  app.get(
    '/v1/admin/setup/snippet',
    adminRoute(Permission.settingsRead, "The widget's <script> snippet with its SRI hash", {
      query: snippetQuery,
      answers: { 200: snippetAnswer },
    }),
    async (request) => {
      const { origin } = parse(snippetQuery, request.query ?? {}, 'query');
      const asset = await script();
      if (!asset) throw notBuilt();
      const base = (options.publicUrl ?? `${request.protocol}://${request.host}`).replace(
        /\/+$/,
        '',
      );
      const scriptUrl = `${base}/widget.${asset.version}.js`;
      const site = await siteOf(principalOf(request).tenantId);
      const allowed = site.allowedOrigins.includes('*') || site.allowedOrigins.includes(origin);
      const fix = site.ownOrigins
        ? `add ${origin} to the site's allowed origins (platform API, allowedOrigins)`
        : `add ${origin} to ALLOWED_ORIGINS (comma-separated)`;
      // The site key is public: it only names the tenant, whose allowed origins still apply.
      const siteKey = site.siteKey === undefined ? '' : ` data-site-key="${site.siteKey}"`;
      return {
        origin,
        originAllowed: allowed,
        ...(allowed ? {} : { fix }),
        ...(site.siteKey === undefined ? {} : { siteKey: site.siteKey }),
        scriptUrl,
        integrity: asset.integrity,
        snippet: [
          `<script src="${scriptUrl}" integrity="${asset.integrity}" crossorigin="anonymous"${siteKey}></script>`,
          `<script>SupportChat.init({ origin: '${base}' });</script>`,
        ].join('\n'),
      };
    },
  );
};
