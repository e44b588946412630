import type { ConversationRating, ConversationService, Ratings } from '@topicdesk/core';
import type { QuotaLimiter } from '@topicdesk/fanout';
import {
  conversationParamsSchema,
  conversationProfileSchema,
  profileSchema,
  ratingSchema,
  ratingViewSchema,
  type ConversationProfile,
  type RatingView,
} from '@topicdesk/protocol';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { ErrorCode, GatewayError } from './errors';
import { authorizeConversation, type ConversationTokens } from './tokens';
import { parse } from './validation';
import { spendQuota } from './quota';

const REST_BODY_LIMIT = 4 * 1024;

/**
 * The visitor's own view of their conversation: `GET /v1/conversations/:id`,
 * `POST /v1/conversations/:id/profile` `{ name }` (POST, not PATCH, so that a site's browser
 * needs no CORS allowance beyond the ones the rest of the visitor API uses) and
 * `POST /v1/conversations/:id/rating` `{ score, comment? }` once it is closed. Bearer token as
 * for the history. The name is what agents see for the conversation from then on.
 */
export interface VisitorProfileRoutesOptions {
  tokens: ConversationTokens;
  conversations: ConversationService;
  ratings: Ratings;
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

  const ratingOf = async (tenantId: string, id: string) => {
    const rating = await options.ratings.find(tenantId, id);
    return rating ? ratingView(rating) : null;
  };

  app.get(
    '/v1/conversations/:id',
    {
      config: {
        doc: {
          summary: "The conversation's ticket, status, visitor name and rating",
          tag: 'visitor',
          auth: 'visitor',
          params: conversationParamsSchema,
          answers: { 200: conversationProfileSchema },
        },
      },
    },
    async (request): Promise<ConversationProfile> => {
      const c = await load(request);
      const rating = await ratingOf(c.tenant_id, c.id);
      return {
        conversationId: c.id,
        ticket: c.ticket,
        status: c.status,
        name: c.visitor_name,
        rating,
      };
    },
  );

  // Contract: docs/contract.md (visitor REST), codes in docs/errors.md.
  app.post(
    '/v1/conversations/:id/rating',
    {
      bodyLimit: REST_BODY_LIMIT * 2,
      config: {
        doc: {
          summary: 'Rates a closed conversation (once)',
          tag: 'visitor',
          auth: 'visitor',
          params: conversationParamsSchema,
          body: ratingSchema,
          responses: { 201: 'the rating' },
          answers: { 201: ratingViewSchema },
        },
      },
    },
    async (request, reply): Promise<RatingView> => {
      const c = await load(request);
      const body = parse(ratingSchema, request.body === undefined ? {} : request.body);
      const outcome = await options.ratings.rate({
        tenantId: c.tenant_id,
        conversationId: c.id,
        score: body.score,
        comment: body.comment,
      });
      switch (outcome.kind) {
        case 'rated':
          void reply.status(201);
          return ratingView(outcome.rating);
        case 'already_rated':
          throw new GatewayError(ErrorCode.ALREADY_RATED, 'this conversation was rated already', {
            rating: ratingView(outcome.rating),
          });
        case 'open':
          throw new GatewayError(
            ErrorCode.CONVERSATION_OPEN,
            'a conversation can be rated once it is closed',
          );
        case 'not_found':
          throw new GatewayError(ErrorCode.NOT_FOUND, 'no such conversation');
        default: {
          const never: never = outcome;
          return never;
        }
      }
    },
  );

  app.post(
    '/v1/conversations/:id/profile',
    {
      bodyLimit: REST_BODY_LIMIT,
      config: {
        doc: {
          summary: "Changes the visitor's name",
          tag: 'visitor',
          auth: 'visitor',
          params: conversationParamsSchema,
          body: profileSchema,
          answers: { 200: conversationProfileSchema },
        },
      },
    },
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
      const rating = await ratingOf(c.tenant_id, c.id);
      return { conversationId: c.id, ticket: c.ticket, status: c.status, name, rating };
    },
  );
};

function ratingView(rating: ConversationRating): RatingView {
  return { score: rating.score, comment: rating.comment, at: rating.created_at.toISOString() };
}
