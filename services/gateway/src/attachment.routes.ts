import type { AttachmentService, ConversationService } from '@topicdesk/core';
import type { QuotaLimiter } from '@topicdesk/fanout';
import {
  attachmentRequestSchema,
  conversationParamsSchema,
  uploadTicketSchema,
  type UploadTicket,
} from '@topicdesk/protocol';
import {
  AttachmentError,
  AttachmentErrorCode,
  contentDisposition,
  FILE_ROUTE,
  type FsStorage,
  type ObjectStorage,
} from '@topicdesk/storage';
import type { FastifyPluginAsync } from 'fastify';
import type { Readable } from 'node:stream';
import { z } from 'zod';
import { fileStoredAnswer } from './answers';
import { ErrorCode, GatewayError } from './errors';
import { spendQuota } from './quota';
import type { TenantQuotas } from './tenant-quotas';
import { authorizeConversation, type ConversationTokens } from './tokens';
import { parse } from './validation';

export interface AttachmentRoutesOptions {
  tokens: ConversationTokens;
  conversations: ConversationService;
  attachments: AttachmentService;
  storage: ObjectStorage;
  quotas: QuotaLimiter;
  /** LIMIT_UPLOADS_PER_HOUR, per conversation, across replicas (Redis). */
  uploadsPerHour: number;
  /** The plan's limits of the conversation's tenant: attachmentMaxBytes, attachmentsPerHour. */
  tenantQuotas: TenantQuotas;
}

const REST_BODY_LIMIT = 4 * 1024;

/** A signed file link's query: the link's token (checked by the storage, not here). */
const fileLinkQuery = z.object({ t: z.string() });

/**
 * Visitors' files (docs/contract.md, "Attachments"): `POST /v1/conversations/:id/attachments`
 * hands out an upload link after the limits; with the filesystem backend the links point at
 * this gateway's `/v1/files?t=<token>`, which streams the bytes to and from disk.
 */
export const attachmentRoutes: FastifyPluginAsync<AttachmentRoutesOptions> = async (
  app,
  options,
) => {
  app.post(
    '/v1/conversations/:id/attachments',
    {
      bodyLimit: REST_BODY_LIMIT,
      config: {
        doc: {
          summary: 'An upload link for one file, within the limits',
          tag: 'visitor',
          auth: 'visitor',
          params: conversationParamsSchema,
          body: attachmentRequestSchema,
          responses: { 201: 'the upload ticket' },
          answers: { 201: uploadTicketSchema },
        },
      },
    },
    async (request, reply): Promise<UploadTicket> => {
      const { id } = parse(conversationParamsSchema, request.params, 'path');
      const { conversation } = await authorizeConversation(
        options.tokens,
        options.conversations,
        request,
        id,
      );
      const file = parse(attachmentRequestSchema, request.body === undefined ? {} : request.body);
      const quotaKey = `upload:${id}`;
      const quota = await options.quotas.hit(quotaKey, options.uploadsPerHour, 3_600_000);
      if (!quota.allowed) {
        void reply.header('retry-after', Math.ceil(quota.retryAfterMs / 1000));
        throw new GatewayError(
          ErrorCode.RATE_LIMITED,
          'too many uploads in this conversation; try again later',
          {
            retryAfterMs: quota.retryAfterMs,
          },
        );
      }
      const tenantId = conversation.tenant_id;
      await options.tenantQuotas.fileSize(tenantId, file.size);
      const ticket = await spendQuota(options.quotas, quotaKey, quota, request.log, async () => {
        const unit = await options.tenantQuotas.take(tenantId, 'attachmentsPerHour');
        return options.tenantQuotas.spend(unit, request.log, () =>
          options.attachments.requestUpload(tenantId, id, file),
        );
      });
      return reply.status(201).send(ticket);
    },
  );

  if (options.storage.kind === 'fs')
    await app.register(fileLinks, { storage: options.storage as FsStorage });
};

/** The filesystem backend's signed links: the bytes stream through, never whole in memory. */
const fileLinks: FastifyPluginAsync<{ storage: FsStorage }> = async (app, { storage }) => {
  // Whatever the Content-Type, the body is the file: handed on as the request's stream.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

  app.put<{ Querystring: { t?: string } }>(
    FILE_ROUTE,
    {
      config: {
        doc: {
          summary: "Uploads a file's bytes to a signed link (filesystem storage)",
          tag: 'visitor',
          auth: 'signed-link',
          query: fileLinkQuery,
          body: z.string(),
          bodyType: 'application/octet-stream',
          answers: { 200: fileStoredAnswer },
        },
      },
    },
    async (request, reply) => {
      const grant = storage.grant(request.query.t ?? '', 'PUT');
      if (request.headers['content-type'] !== grant.type)
        throw new AttachmentError(
          AttachmentErrorCode.UrlExpired,
          `this link takes Content-Type ${grant.type}`,
        );
      const declared = Number(request.headers['content-length'] ?? 0);
      if (declared > (grant.size ?? 0))
        throw new AttachmentError(
          AttachmentErrorCode.TooLarge,
          `this link takes at most ${grant.size} bytes`,
        );
      const size = await storage.receive(grant, request.body as Readable);
      return reply.status(200).send({ size });
    },
  );

  app.get<{ Querystring: { t?: string } }>(
    FILE_ROUTE,
    {
      config: {
        doc: {
          summary: 'Downloads a file through a signed link (filesystem storage)',
          tag: 'visitor',
          auth: 'signed-link',
          query: fileLinkQuery,
          responses: { 200: { description: 'the file', type: 'application/octet-stream' } },
        },
      },
    },
    async (request, reply) => {
      const grant = storage.grant(request.query.t ?? '', 'GET');
      const size = await storage.size(grant.key);
      if (size === undefined) throw new GatewayError(ErrorCode.NOT_FOUND, 'no such file');
      const inline = grant.type.startsWith('image/');
      return (
        reply
          .header('content-type', grant.type)
          .header('content-length', size)
          .header(
            'content-disposition',
            inline ? 'inline' : contentDisposition(grant.name ?? 'file'),
          )
          // A file is never a page of this origin: no sniffing it into HTML, no scripts if opened.
          .header('x-content-type-options', 'nosniff')
          .header('content-security-policy', "default-src 'none'; sandbox")
          .header('cache-control', 'private, max-age=300')
          .send(await storage.read(grant.key))
      );
    },
  );
};
