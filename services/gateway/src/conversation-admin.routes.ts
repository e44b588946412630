import {
  ConversationListStatus,
  ConversationPriority,
  may,
  Permission,
  type AuditEntry,
  type ConsoleReads,
  type Conversation,
  type TranscriptMessage,
} from '@topicdesk/core';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { adminRoute, principalOf } from './admin-access';
import { ErrorCode, GatewayError } from './errors';
import { fromBound, pageQuery, toBound } from './pagination';
import { parse } from './validation';
import { conversationPageAnswer, transcriptAnswer } from './answers';

export interface ConversationAdminRoutesOptions {
  reads: ConsoleReads;
}

const idParam = z.coerce.number().int().max(Number.MAX_SAFE_INTEGER);

const conversationsQuery = z.object({
  status: z.enum(Object.values(ConversationListStatus)).optional(),
  /** The holding agent's Telegram user id. */
  agent: idParam.positive().optional(),
  /** The support group's chat id, or `default` for SUPPORT_GROUP_ID's conversations. */
  group: z.union([z.literal('default').transform(() => null), idParam]).optional(),
  level: z.coerce.number().int().min(1).max(3).optional(),
  priority: z.enum(Object.values(ConversationPriority)).optional(),
  /** Created at or after (a UTC date: its start). */
  from: fromBound.optional(),
  /** Created before (a UTC date: its end). */
  to: toBound.optional(),
  /** Words of a message, or part of the ticket, the visitor's name or e-mail. */
  q: z.string().trim().min(1).max(200).optional(),
  ...pageQuery({ max: 100, default: 50 }),
});

const conversationParams = z.object({
  /** The conversation's id or its ticket (SUPP-…). */
  id: z.union([z.uuid(), z.string().regex(/^SUPP-[A-Z0-9-]{1,40}$/, 'a uuid or a ticket')]),
});

const transcriptQuery = z.object({
  afterSeq: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(500).default(200),
});

const iso = (date: Date | null) => date?.toISOString() ?? null;

/** A conversation as the console lists it. */
function conversationView(c: Conversation) {
  return {
    id: c.id,
    ticket: c.ticket,
    status: c.status,
    priority: c.priority,
    level: c.level,
    groupChatId: c.group_chat_id,
    topicId: c.topic_id,
    assignee:
      c.claimed_by_telegram_user_id === null
        ? null
        : {
            telegramUserId: c.claimed_by_telegram_user_id,
            displayName: c.claimed_by_name ?? 'Support',
          },
    visitorName: c.visitor_name,
    createdAt: c.created_at.toISOString(),
    lastActivityAt: c.last_activity_at.toISOString(),
    waitingSince:
      c.status === 'open' && c.claimed_by_telegram_user_id === null
        ? c.waiting_since.toISOString()
        : null,
    /** Messages stored (seq is gap-free from 1; system messages count). */
    messageCount: c.last_seq,
  };
}

function messageView(m: TranscriptMessage) {
  return {
    seq: m.seq,
    kind: m.kind,
    text: m.text,
    author:
      m.kind === 'agent'
        ? { kind: 'agent', displayName: m.author_name, telegramUserId: m.agentTelegramUserId }
        : { kind: m.kind, displayName: m.kind === 'visitor' ? null : m.author_name },
    at: m.created_at.toISOString(),
    editedAt: iso(m.edited_at),
    deletedAt: iso(m.deleted_at),
    edits: m.edits.map((e) => ({
      previousText: e.previousText,
      editedAt: e.editedAt.toISOString(),
    })),
    attachments: (m.attachments ?? []).map((a) => ({ ...a })),
    delivery: m.delivery,
  };
}

/** An audit entry as the admin API shows it (the audit log and a transcript's trail). */
export function auditView(e: AuditEntry) {
  return {
    id: e.id,
    at: e.created_at.toISOString(),
    actor: { type: e.actor_type, id: e.actor_id },
    action: e.action,
    conversationId: e.conversation_id,
    details: e.details,
  };
}

/**
 * The console's conversations (transcripts.read): the list with its filters, text search and
 * cursor pages, and one transcript with its notes and, for roles that may read the audit log,
 * its audit trail.
 */
export const conversationAdminRoutes: FastifyPluginAsync<ConversationAdminRoutesOptions> = async (
  app,
  options,
) => {
  const { reads } = options;

  app.get(
    '/v1/admin/conversations',
    adminRoute(
      Permission.transcriptsRead,
      'Conversations, newest first: filters, text search, cursor pages',
      { query: conversationsQuery, answers: { 200: conversationPageAnswer } },
    ),
    async (request) => {
      const query = parse(conversationsQuery, request.query, 'query');
      if (query.from && query.to && query.from >= query.to)
        throw new GatewayError(ErrorCode.INVALID_REQUEST, 'the request does not match the API', {
          issues: ['from: must be before to'],
        });
      const page = await reads.conversations(
        principalOf(request).tenantId,
        {
          status: query.status,
          agentTelegramUserId: query.agent,
          groupChatId: query.group,
          level: query.level,
          priority: query.priority,
          from: query.from,
          to: query.to,
          q: query.q,
        },
        { cursor: query.cursor, limit: query.limit },
      );
      return { items: page.items.map(conversationView), nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/v1/admin/conversations/:id',
    adminRoute(
      Permission.transcriptsRead,
      'A transcript (by id or ticket): messages in seq order, internal notes, audit trail',
      { params: conversationParams, query: transcriptQuery, answers: { 200: transcriptAnswer } },
    ),
    async (request) => {
      const { id } = parse(conversationParams, request.params, 'path');
      const query = parse(transcriptQuery, request.query, 'query');
      const withAudit = may(principalOf(request).role, Permission.auditRead);
      const transcript = await reads.transcript(principalOf(request).tenantId, id, {
        ...query,
        withAudit,
      });
      if (!transcript) throw new GatewayError(ErrorCode.NOT_FOUND, 'no such conversation');
      const c = transcript.conversation;
      return {
        conversation: {
          ...conversationView(c),
          channel: c.channel,
          locale: c.locale,
          visitorEmail: c.visitor_email,
          page: c.page_url === null ? null : { url: c.page_url, title: c.page_title },
          firstResponseAt: iso(c.first_response_at),
          closedAt: iso(c.closed_at),
        },
        messages: transcript.messages.map(messageView),
        nextAfterSeq: transcript.nextAfterSeq,
        notes: transcript.notes.map((n) => ({
          id: n.id,
          authorName: n.author_name,
          text: n.text,
          at: n.created_at.toISOString(),
        })),
        // Only for roles that may read the audit log (audit.read); null for the others.
        audit: transcript.audit?.map(auditView) ?? null,
      };
    },
  );
};
