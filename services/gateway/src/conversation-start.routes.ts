import type { ConversationService } from '@topicdesk/core';
import { tenantKey, type QuotaLimiter } from '@topicdesk/fanout';
import {
  conversationStartedSchema,
  startConversationSchema,
  type ConversationStarted,
} from '@topicdesk/protocol';
import type { FastifyPluginAsync } from 'fastify';
import type { GatewayConfig } from './config';
import { ErrorCode, GatewayError, REST_BODY_LIMIT } from './errors';
import type { GatewayMetrics } from './metrics';
import { spendQuota } from './quota';
import type { TenantQuotas } from './tenant-quotas';
import type { GatewayTenants } from './tenants';
import type { ConversationTokens } from './tokens';
import { parse } from './validation';

export interface ConversationStartOptions {
  config: Pick<GatewayConfig, 'PRECHAT_FIELDS' | 'LIMIT_CONVERSATIONS_PER_DAY'>;
  tenants: GatewayTenants;
  tenantQuotas: TenantQuotas;
  quotas: QuotaLimiter;
  conversations: ConversationService;
  tokens: ConversationTokens;
  metrics: GatewayMetrics;
}

/**
 * `POST /v1/conversations`: the widget starts a conversation in the tenant its snippet's site
 * key names (the default tenant without one), within the address's day and the tenant's plan.
 */
export const conversationStartRoutes: FastifyPluginAsync<ConversationStartOptions> = async (
  app,
  options,
) => {
  const { config, metrics } = options;
  app.post(
    '/v1/conversations',
    {
      bodyLimit: REST_BODY_LIMIT,
      config: {
        doc: {
          summary: 'Starts a conversation: its ticket and the visitor token',
          tag: 'visitor',
          auth: 'none',
          body: startConversationSchema,
          responses: { 201: 'conversationId, ticket, token, expiresAt' },
          answers: { 201: conversationStartedSchema },
        },
      },
    },
    async (request, reply) => {
      const body = parse(startConversationSchema, request.body === undefined ? {} : request.body);
      if (body.email !== undefined && !config.PRECHAT_FIELDS.includes('email')) {
        // Refused whole, before the day's quota: the widget starts again without the address.
        throw new GatewayError(ErrorCode.INVALID_REQUEST, 'the request does not match the API', {
          issues: [
            'email: this gateway takes no e-mail address (the operator enables it with PRECHAT_FIELDS=email)',
          ],
        });
      }
      const tenant = await options.tenants.forVisitor(body.siteKey, request.headers.origin);
      const tenantId = tenant.id;
      // Checked before anything is counted: a conversation nobody could hold a token for.
      if (!(await options.tokens.canIssue(tenantId)))
        throw new GatewayError(
          ErrorCode.TENANT_NOT_CONFIGURED,
          'this site has no conversation secret yet (its jwtSecret)',
        );
      const quotaKey = tenantKey(tenantId, `conv:ip:${request.ip}`);
      const quota = await options.quotas.hit(
        quotaKey,
        config.LIMIT_CONVERSATIONS_PER_DAY,
        86_400_000,
      );
      if (!quota.allowed) {
        metrics.rateLimited.add(1, { scope: 'conversations_per_day' });
        void reply.header('retry-after', Math.ceil(quota.retryAfterMs / 1000));
        // Its own code: a widget must say "come back later", not offer a Retry that fails all day.
        throw new GatewayError(
          ErrorCode.CONVERSATION_LIMIT,
          `at most ${config.LIMIT_CONVERSATIONS_PER_DAY} conversations a day from one address`,
          { limit: config.LIMIT_CONVERSATIONS_PER_DAY, retryAfterMs: quota.retryAfterMs },
        );
      }
      // Only conversations actually started count against the address's day and the tenant's.
      const conversation = await spendQuota(
        options.quotas,
        quotaKey,
        quota,
        request.log,
        async () => {
          const taken = await options.tenantQuotas
            .take(tenantId, 'conversationsPerDay')
            .catch((error: unknown) => {
              if (error instanceof GatewayError && error.details?.['retryAfterMs'] !== undefined)
                void reply.header(
                  'retry-after',
                  Math.ceil(Number(error.details['retryAfterMs']) / 1000),
                );
              throw error;
            });
          return options.tenantQuotas.spend(taken, request.log, () =>
            options.conversations.start({
              tenantId,
              channel: 'web',
              visitorName: body.name,
              visitorEmail: body.email,
              locale: body.locale,
              pageUrl: body.page?.url,
              pageTitle: body.page?.title,
            }),
          );
        },
      );
      const token = await options.tokens.issue(
        {
          conversationId: conversation.id,
          tenantId: conversation.tenant_id,
          generation: conversation.token_generation,
        },
        request.ip,
      );
      const started: ConversationStarted = {
        conversationId: conversation.id,
        ticket: conversation.ticket,
        ...token,
      };
      return reply.status(201).send(started);
    },
  );
};
