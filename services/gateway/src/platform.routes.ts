import { timingSafeEqual } from 'node:crypto';
import {
  TENANT_ID_PATTERN,
  TenantError,
  TenantRefusal,
  TenantSecretsError,
  TenantSecretsErrorCode,
  type TenantService,
} from '@topicdesk/core';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { instant, shape } from './answer-components';
import { ErrorCode, GatewayError } from './errors';
import type { RouteDoc } from './openapi';
import { tenantUsageAnswer, type TenantUsage } from './tenant-usage';
import {
  checkPlatformCookie,
  platformSessionAnswer,
  platformSessionView,
} from './platform-session';
import { bearerToken } from './tokens';
import { parse } from './validation';

export interface PlatformRoutesOptions {
  tenants: TenantService;
  /** Rewraps every tenant's data key with TENANT_KEK (POST /v1/platform/kek/rewrap). */
  rewrap: () => Promise<{
    kekId: string;
    rewrapped: string[];
    failed: Array<{ tenantId: string; error: unknown }>;
  }>;
  /** A tenant's usage against its plan, undefined for no such tenant. */
  usage: (tenantId: string) => Promise<TenantUsage | undefined>;
  /** PLATFORM_TOKEN; unset: every platform route answers 404 PLATFORM_DISABLED. */
  platformToken: string | undefined;
  /** The console's URL: its platform view's changes must come from its Origin. */
  consoleUrl?: string | undefined;
  /** Counts refusals by code (topicdesk_admin_access_refused_total, scope platform). */
  onRefused?: (code: string) => void;
}

/** The URL prefix of the platform API. */
export const PLATFORM_PREFIX = '/v1/platform/';

const tenantParams = z.strictObject({
  tenantId: z.string().regex(TENANT_ID_PATTERN, 'a tenant id: lower-case letters, digits and -'),
});

const botToken = z.string().regex(/^\d{1,20}:[A-Za-z0-9_-]{30,100}$/, 'a bot token (123456:ABC…)');

/** The secrets bundle's fields and their forms (the values are never answered). */
const secretFields = {
  /** The tenant's bot (the default tenant's BOT_TOKEN). */
  botToken,
  /** Bots that send into the groups besides it (SENDER_BOT_TOKENS). */
  senderBotTokens: z.array(botToken).max(20),
  /** The support groups' chat ids, the first the default group (SUPPORT_GROUP_ID). */
  supportGroups: z
    .array(z.string().regex(/^-100\d{5,16}$/, 'a supergroup chat id (-100…)'))
    .min(1)
    .max(50),
  /** HS256 secret of the tenant's visitor tokens (CONVERSATION_JWT_SECRET). */
  jwtSecret: z.string().min(32, 'at least 32 characters').max(512),
  /** The tenant's admin API token (SERVICE_TOKEN). */
  serviceToken: z.string().min(24, 'at least 24 characters').max(512),
  /** The key of private-chat visitors' Telegram user ids (TELEGRAM_USER_KEY). */
  telegramUserKey: z.string().min(32, 'at least 32 characters').max(512),
};

const secretsBody = z.strictObject({
  botToken: secretFields.botToken.optional(),
  senderBotTokens: secretFields.senderBotTokens.optional(),
  supportGroups: secretFields.supportGroups.optional(),
  jwtSecret: secretFields.jwtSecret.optional(),
  serviceToken: secretFields.serviceToken.optional(),
  telegramUserKey: secretFields.telegramUserKey.optional(),
});

/** A value sets, `null` clears, an absent field keeps. */
const secretsChange = z.strictObject({
  botToken: secretFields.botToken.nullable().optional(),
  senderBotTokens: secretFields.senderBotTokens.nullable().optional(),
  supportGroups: secretFields.supportGroups.nullable().optional(),
  jwtSecret: secretFields.jwtSecret.nullable().optional(),
  serviceToken: secretFields.serviceToken.nullable().optional(),
  telegramUserKey: secretFields.telegramUserKey.nullable().optional(),
});

const count = (max: number) => z.number().int().min(1).max(max);
/** Each absent limit is the deployment's default (its environment). */
const limits = z.strictObject({
  conversationsPerDay: count(10_000_000).optional(),
  messagesPerHour: count(10_000_000).optional(),
  concurrentSockets: count(10_000_000).optional(),
  retentionDays: count(36_500).optional(),
  attachmentMaxBytes: count(10 * 1024 ** 3).optional(),
  attachmentsPerHour: count(10_000_000).optional(),
});

const origin = z
  .string()
  .max(300)
  .refine((value) => {
    if (value === '*') return true;
    try {
      return new URL(value).origin === value;
    } catch {
      return false;
    }
  }, 'an origin (https://shop.example, no path) or *');

const name = z.string().trim().min(1).max(200);
const plan = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,39}$/, 'a plan name (lower-case)');

const createBody = z.strictObject({
  /** The tenant's id (a slug, never reused); absent: `t-` and 12 hex digits. */
  id: tenantParams.shape.tenantId.optional(),
  name,
  plan: plan.optional(),
  limits: limits.optional(),
  allowedOrigins: z.array(origin).max(50).optional(),
  secrets: secretsBody.optional(),
});

const patchBody = z.strictObject({
  name: name.optional(),
  plan: plan.optional(),
  /** Replaces the limits whole. */
  limits: limits.optional(),
  allowedOrigins: z.array(origin).max(50).optional(),
  secrets: secretsChange.optional(),
});

const listQuery = z.strictObject({
  cursor: z.string().max(400).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  /** `true`: deleted tenants too. */
  includeDeleted: z.enum(['true', 'false']).default('false'),
});

/** Whether a secret of the bundle is set, with its keyed fingerprint (never its value). */
const secretState = z.strictObject({
  set: z.boolean(),
  fingerprint: z.string().optional(),
  /** Lists (sender bot tokens, support groups): how many. */
  count: z.number().int().min(0).optional(),
});

/** A tenant as the platform API shows it (TenantView): everything but the secrets' values. */
const tenantAnswer = shape(
  'Tenant',
  z.strictObject({
    id: z.string(),
    name: z.string(),
    status: z.enum(['active', 'suspended', 'deleted']),
    plan: z.string(),
    limits: limits,
    allowedOrigins: z.array(z.string()),
    /** Public: the widget snippet names its tenant with it. */
    siteKey: z.string(),
    secrets: z.strictObject({
      botToken: secretState,
      senderBotTokens: secretState,
      supportGroups: secretState,
      jwtSecret: secretState,
      serviceToken: secretState,
      telegramUserKey: secretState,
    }),
    /** The key-encryption key wrapping its data key; null: no secrets stored. */
    kekId: z.string().nullable(),
    createdAt: instant,
    updatedAt: instant,
    suspendedAt: instant.nullable(),
    deletedAt: instant.nullable(),
  }),
);
const tenantPageAnswer = z.strictObject({
  items: z.array(tenantAnswer),
  nextCursor: z.string().nullable(),
});
const rewrapAnswer = z.strictObject({
  kekId: z.string(),
  rewrapped: z.array(z.string()),
  failed: z.array(z.strictObject({ tenantId: z.string(), code: z.string() })),
});

/** A platform route's config: marked for the token check, documented in /openapi.json. */
function platformRoute(
  summary: string,
  schemas: Pick<RouteDoc, 'params' | 'query' | 'body' | 'responses' | 'answers'>,
) {
  return {
    config: { doc: { summary, tag: 'platform' as const, auth: 'platform' as const, ...schemas } },
  };
}

function same(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function refusal(error: unknown): unknown {
  if (error instanceof TenantError) {
    switch (error.code) {
      case TenantRefusal.notFound:
        return new GatewayError(ErrorCode.NOT_FOUND, error.message);
      case TenantRefusal.exists:
        return new GatewayError(ErrorCode.TENANT_EXISTS, error.message);
      case TenantRefusal.deleted:
        return new GatewayError(ErrorCode.TENANT_DELETED, error.message);
      case TenantRefusal.protected:
        return new GatewayError(ErrorCode.TENANT_PROTECTED, error.message);
      default: {
        const unknown: never = error.code;
        return new Error(`unknown refusal ${String(unknown)}`);
      }
    }
  }
  if (TenantSecretsError.is(error)) {
    switch (error.code) {
      case TenantSecretsErrorCode.kekMissing:
        return new GatewayError(ErrorCode.TENANT_KEK_MISSING, error.message);
      case TenantSecretsErrorCode.kekUnknown:
        return new GatewayError(ErrorCode.TENANT_KEK_UNKNOWN, error.message);
      case TenantSecretsErrorCode.corrupt:
        return new GatewayError(ErrorCode.TENANT_SECRETS_CORRUPT, error.message);
      default: {
        const unknown: never = error.code;
        return new Error(`unknown secrets error ${String(unknown)}`);
      }
    }
  }
  return error;
}

const mapped = <T>(promise: Promise<T>): Promise<T> =>
  promise.catch((error: unknown) => {
    throw refusal(error);
  });

/** Every change is audited under the tenant it concerns, by this actor. */
const ACTOR = 'platform-token';

/**
 * The platform API (docs/operations.md, "Many sites"): tenants created, listed, read, changed,
 * suspended, resumed and deleted (softly) with PLATFORM_TOKEN, a token of its own that no
 * tenant's service token or console session replaces. Secrets are write-only: answers say
 * which are set, with fingerprints. Registered always (so documented); without PLATFORM_TOKEN
 * every route answers 404 PLATFORM_DISABLED.
 */
export const platformRoutes: FastifyPluginAsync<PlatformRoutesOptions> = async (app, options) => {
  const { tenants, platformToken, rewrap } = options;

  // Encapsulated: the check covers this plugin's routes only.
  app.addHook('onRequest', async (request) => {
    try {
      if (!platformToken)
        throw new GatewayError(
          ErrorCode.PLATFORM_DISABLED,
          'PLATFORM_TOKEN is not set: this deployment has no platform API',
        );
      const bearer = bearerToken(request.headers.authorization);
      // The console's platform view: its session cookie (platform-session.ts) for the token.
      if (bearer === undefined) {
        checkPlatformCookie(request, platformToken, options.consoleUrl);
        return;
      }
      if (!same(bearer, platformToken))
        throw new GatewayError(ErrorCode.TOKEN_INVALID, 'wrong platform token');
    } catch (error) {
      if (error instanceof GatewayError) options.onRefused?.(error.code);
      throw error;
    }
  });

  app.get(
    '/v1/platform/session',
    platformRoute("The console platform view's session: its end and CSRF token", {
      answers: { 200: platformSessionAnswer },
    }),
    async (request) => platformSessionView(request, platformToken ?? ''),
  );

  app.post(
    '/v1/platform/tenants',
    platformRoute('Creates a tenant: its site key, limits, origins and (encrypted) secrets', {
      body: createBody,
      responses: { 201: 'the tenant (secrets as set/not set and fingerprints)' },
      answers: { 201: tenantAnswer },
    }),
    async (request, reply) => {
      const body = parse(createBody, request.body ?? {});
      const created = await mapped(tenants.create(ACTOR, body));
      return reply.status(201).send(created);
    },
  );

  app.get(
    '/v1/platform/tenants',
    platformRoute('The tenants by id, a page at a time (cursor)', {
      query: listQuery,
      answers: { 200: tenantPageAnswer },
    }),
    async (request) => {
      const query = parse(listQuery, request.query ?? {}, 'query');
      return tenants.list({
        cursor: query.cursor,
        limit: query.limit,
        includeDeleted: query.includeDeleted === 'true',
      });
    },
  );

  app.get(
    '/v1/platform/tenants/:tenantId/usage',
    platformRoute("A tenant's usage against its plan: conversations, messages, open sockets", {
      params: tenantParams,
      answers: { 200: tenantUsageAnswer },
    }),
    async (request) => {
      const { tenantId } = parse(tenantParams, request.params, 'path');
      const usage = await options.usage(tenantId);
      if (!usage) throw new GatewayError(ErrorCode.NOT_FOUND, `no tenant "${tenantId}"`);
      return usage;
    },
  );

  app.get(
    '/v1/platform/tenants/:tenantId',
    platformRoute('A tenant (secrets as set/not set and fingerprints)', {
      params: tenantParams,
      answers: { 200: tenantAnswer },
    }),
    async (request) => {
      const { tenantId } = parse(tenantParams, request.params, 'tenantId');
      return mapped(tenants.get(tenantId));
    },
  );

  app.patch(
    '/v1/platform/tenants/:tenantId',
    platformRoute("Changes a tenant's name, plan, limits, origins or secrets (null clears one)", {
      params: tenantParams,
      body: patchBody,
      answers: { 200: tenantAnswer },
    }),
    async (request) => {
      const { tenantId } = parse(tenantParams, request.params, 'tenantId');
      const body = parse(patchBody, request.body ?? {});
      return mapped(tenants.update(ACTOR, tenantId, body));
    },
  );

  app.post(
    '/v1/platform/tenants/:tenantId/suspend',
    platformRoute('Suspends a tenant: nothing of it is served, its data kept', {
      params: tenantParams,
      answers: { 200: tenantAnswer },
    }),
    async (request) => {
      const { tenantId } = parse(tenantParams, request.params, 'tenantId');
      return mapped(tenants.setSuspended(ACTOR, tenantId, true));
    },
  );

  app.post(
    '/v1/platform/tenants/:tenantId/resume',
    platformRoute('Resumes a suspended tenant', {
      params: tenantParams,
      answers: { 200: tenantAnswer },
    }),
    async (request) => {
      const { tenantId } = parse(tenantParams, request.params, 'tenantId');
      return mapped(tenants.setSuspended(ACTOR, tenantId, false));
    },
  );

  app.delete(
    '/v1/platform/tenants/:tenantId',
    platformRoute('Deletes a tenant softly: its data kept, its id never reused, nothing served', {
      params: tenantParams,
      answers: { 200: tenantAnswer },
    }),
    async (request) => {
      const { tenantId } = parse(tenantParams, request.params, 'tenantId');
      return mapped(tenants.delete(ACTOR, tenantId));
    },
  );

  app.post(
    '/v1/platform/kek/rewrap',
    platformRoute(
      "Rewraps every tenant's data key with TENANT_KEK; then the previous KEKs can be removed",
      {
        responses: { 200: 'kekId, the rewrapped tenant ids, the failed ones with their code' },
        answers: { 200: rewrapAnswer },
      },
    ),
    async () => {
      const result = await mapped(rewrap());
      return {
        kekId: result.kekId,
        rewrapped: result.rewrapped,
        failed: result.failed.map(({ tenantId, error }) => ({
          tenantId,
          code: TenantSecretsError.is(error) ? error.code : 'INTERNAL',
        })),
      };
    },
  );
};
