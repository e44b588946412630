import {
  DataRequestError,
  DataRequestRefusal,
  exportTranscript,
  Permission,
  type ConversationTombstone,
  type DataRequests,
  type TopicPolicy,
} from '@topicdesk/core';
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { adminRoute, principalOf } from './admin-access';
import { ErrorCode, GatewayError } from './errors';
import { parse } from './validation';
import { conversationExportAnswer, erasedAnswer } from './answers';

export interface DataRequestRoutesOptions {
  requests: DataRequests;
  /** DSAR_TOPIC_POLICY: what an erasure does to the topic unless the body says. */
  topicPolicy: TopicPolicy;
}

/** A conversation's id (uuid) or its ticket (`SUPP-…`). */
const conversationRef = z.strictObject({
  id: z
    .string()
    .regex(
      /^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|SUPP-[0-9A-Za-z-]{1,40})$/,
      'a conversation id (uuid) or a ticket (SUPP-…)',
    ),
});

const exportQuery = z.strictObject({
  /** `json` (default): everything stored, as data; `text`: a readable transcript. */
  format: z.enum(['json', 'text']).default('json'),
});

const eraseBody = z.strictObject({
  /** `keep`: the topic is renamed and told; `delete`: it is deleted. Default DSAR_TOPIC_POLICY. */
  topic: z.enum(['delete', 'keep']).optional(),
});

export function tombstoneView(tombstone: ConversationTombstone) {
  return {
    conversationId: tombstone.conversation_id,
    ticket: tombstone.ticket,
    erasedAt: tombstone.erased_at.toISOString(),
    erasedBy: { type: tombstone.erased_by_type, id: tombstone.erased_by_id },
    topic: tombstone.topic_policy,
  };
}

function refusal(error: unknown): unknown {
  if (!(error instanceof DataRequestError)) return error;
  switch (error.code) {
    case DataRequestRefusal.notFound:
      return new GatewayError(ErrorCode.NOT_FOUND, error.message);
    case DataRequestRefusal.erased:
      return new GatewayError(
        ErrorCode.CONVERSATION_ERASED,
        error.message,
        error.tombstone ? { tombstone: tombstoneView(error.tombstone) } : undefined,
      );
    default: {
      const unknown: never = error.code;
      return new Error(`unknown refusal ${String(unknown)}`);
    }
  }
}

/**
 * Data-subject requests of the admin API (docs/console.md, "Data-subject requests"): a
 * conversation's export (JSON or transcript) and its erasure, by id or ticket; both audited.
 */
export const dataRequestRoutes: FastifyPluginAsync<DataRequestRoutesOptions> = async (
  app,
  options,
) => {
  const { requests } = options;
  const actor = (request: FastifyRequest) =>
    ({ type: 'admin', id: principalOf(request).actorId }) as const;

  app.get(
    '/v1/admin/conversations/:id/export',
    adminRoute(
      Permission.dataExport,
      'Everything stored about a conversation (JSON, or ?format=text a transcript)',
      {
        params: conversationRef,
        query: exportQuery,
        responses: {
          200: {
            description: 'everything stored; a transcript with format=text',
            type: 'text/plain',
          },
        },
        answers: { 200: conversationExportAnswer },
      },
    ),
    async (request, reply) => {
      const { id } = parse(conversationRef, request.params, 'id');
      const { format } = parse(exportQuery, request.query ?? {}, 'query');
      const view = await requests
        .export(principalOf(request).tenantId, id, actor(request), format)
        .catch((error: unknown) => {
          throw refusal(error);
        });
      const name = `${view.conversation.ticket}.${format === 'text' ? 'txt' : 'json'}`;
      void reply
        .header('cache-control', 'no-store')
        .header('content-disposition', `attachment; filename="${name}"`);
      if (format === 'json') return view;
      return reply.type('text/plain; charset=utf-8').send(exportTranscript(view));
    },
  );

  app.post(
    '/v1/admin/conversations/:id/erase',
    adminRoute(
      Permission.dataErase,
      "Erases a conversation's personal data; its topic deleted or kept (renamed)",
      { params: conversationRef, body: eraseBody, answers: { 200: erasedAnswer } },
    ),
    async (request) => {
      const { id } = parse(conversationRef, request.params, 'id');
      const body = parse(eraseBody, request.body ?? {});
      const result = await requests
        .erase(principalOf(request).tenantId, id, actor(request), body.topic ?? options.topicPolicy)
        .catch((error: unknown) => {
          throw refusal(error);
        });
      return { erased: result.erasedNow, tombstone: tombstoneView(result.tombstone) };
    },
  );
};
