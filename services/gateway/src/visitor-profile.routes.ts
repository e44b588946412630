import type { ConversationService } from '@topicdesk/core';
import type { QuotaLimiter } from '@topicdesk/fanout';
import {
  conversationParamsSchema,
  profileSchema,
  type ConversationProfile,
} from '@topicdesk/protocol';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { ErrorCode, GatewayError } from './errors';
import { authorizeConversation, type ConversationTokens } from './tokens';
import { parse } from './validation';
import { spendQuota } from './quota';

const REST_BODY_LIMIT = 4 * 1024;

/**
 * The visitor's own view of their conversation: `GET /v1/conversations/:id` and
 * `POST /v1/conversations/:id/profile` `{ name }` (POST, not PATCH, so that a site's browser
 * needs no CORS allowance beyond the ones the rest of the visitor API uses). Bearer token as
 * for the history. The name is what agents see for the conversation from then on.
 */
export interface VisitorProfileRoutesOptions {
  tokens: ConversationTokens;
  conversations: ConversationService;
  quotas: QuotaLimiter;
  /** LIMIT_PROFILE_CHANGES_PER_HOUR: each change renames a Telegram topic. */
  changesPerHour: number;
}

export const visitorProfileRoutes: FastifyPluginAsync<VisitorProfileRoutesOptions> = async (
  app,
  options,
) => {
  const load = async (request: FastifyRequest) => {
    const { id } = parse(conversationParamsSchema, request.params, 'path');
    return (await authorizeConversation(options.tokens, options.conversations, request, id))
      .conversation;
  };

  app.get('/v1/conversations/:id', async (request): Promise<ConversationProfile> => {
    const c = await load(request);
    return { conversationId: c.id, ticket: c.ticket, status: c.status, name: c.visitor_name };
  });

  app.post(
    '/v1/conversations/:id/profile',
    { bodyLimit: REST_BODY_LIMIT },
    async (request, reply): Promise<ConversationProfile> => {
      const c = await load(request);
      const { name } = parse(profileSchema, request.body === undefined ? {} : request.body);
      const quotaKey = `profile:${c.id}`;
      const quota = await options.quotas.hit(quotaKey, options.changesPerHour, 3_600_000);
      if (!quota.allowed) {
        void reply.header('retry-after', Math.ceil(quota.retryAfterMs / 1000));
        throw new GatewayError(
          ErrorCode.RATE_LIMITED,
          'too many name changes in this conversation; try again later',
        );
      }
      // The topic's name and header follow (the bridge is told through the outbox).
      await spendQuota(options.quotas, quotaKey, quota, request.log, () =>
        options.conversations.renameVisitor(c.tenant_id, c.id, name),
      );
      return { conversationId: c.id, ticket: c.ticket, status: c.status, name };
    },
  );
};
