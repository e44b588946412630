import {
  DeadLetterTopicError,
  Permission,
  RoleRankError,
  ROLES,
  isLanguageTag,
  LANGUAGE_TAG_MAX_LENGTH,
  pageInMemory,
  type AdminService,
  type Agent,
  type ConsoleReads,
  type DeadLetterRow,
  type PriorityRule,
  type SupportGroup,
} from '@topicdesk/core';
import { hasControlCharacters, nameField } from '@topicdesk/protocol';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ErrorCode, GatewayError } from './errors';
import { adminRoute, principalOf } from './admin-access';
import { auditView } from './conversation-admin.routes';
import { csvField } from './csv';
import { fromBound, pageQuery, settingsPageQuery, toBound } from './pagination';
import { parse } from './validation';
import {
  agentAnswer,
  agentDeactivatedAnswer,
  agentPageAnswer,
  auditPageAnswer,
  deadLetterAnswer,
  deadLetterPageAnswer,
  groupAnswer,
  groupPageAnswer,
  priorityRulePageAnswer,
  priorityRulesSavedAnswer,
  templateDeletedAnswer,
  templatePageAnswer,
  templatesSavedAnswer,
} from './answers';

export interface AdminRoutesOptions {
  admin: AdminService;
  reads: ConsoleReads;
}

const agentBody = z
  .object({
    displayName: nameField(64),
    role: z.enum(ROLES).default('agent'),
    active: z.boolean().default(true),
    /** Most open conversations at once; null: AGENT_CAPACITY_DEFAULT; absent: unchanged. */
    capacity: z.number().int().min(0).max(1000).nullable().optional(),
    /** The support group they serve (its chat id); null: every group; absent: unchanged. */
    groupChatId: z.number().int().nullable().optional(),
    /** The escalation level they serve; null: every level; absent: unchanged. */
    level: z.number().int().min(1).max(3).nullable().optional(),
  })
  .strict();

function priorityRuleView(rule: PriorityRule) {
  return {
    pageUrlPrefix: rule.page_url_prefix,
    locale: rule.locale,
    segment: rule.segment,
    priority: rule.priority,
  };
}

/** An agent as the admin API shows them. */
function agentView(a: Agent) {
  return {
    telegramUserId: a.telegram_user_id,
    displayName: a.display_name,
    role: a.role,
    active: a.active,
    capacity: a.capacity,
    groupChatId: a.group_chat_id,
    level: a.level,
    presence: a.presence,
  };
}

const templateBody = z
  .object({
    key: z.string().regex(/^[a-z0-9_.-]{1,64}$/, 'lowercase letters, digits, _ . -'),
    /** '' or omitted: the default locale. */
    locale: z
      .string()
      .regex(
        /^([A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*)?$/,
        'a BCP 47 language tag such as en or pt-BR, or empty for the default',
      )
      .default(''),
    text: z
      .string()
      .min(1)
      .max(4000)
      .refine((v) => !hasControlCharacters(v), 'must not contain control characters'),
    wsBanner: z.boolean().default(false),
    persist: z.boolean().default(false),
    telegram: z.boolean().default(false),
    pin: z.boolean().default(false),
    minIntervalMs: z
      .number()
      .int()
      .min(0)
      .max(30 * 86_400_000)
      .default(0),
  })
  .strict();

const templatesBody = z.union([templateBody, z.array(templateBody).min(1).max(200)]);

/**
 * A forum supergroup's chat id: -10^12 minus the channel id, written -100 and at least ten
 * digits (basic groups, whose ids are short negative numbers, have no topics).
 */
const SUPERGROUP_ID = 'a supergroup id: -100 and ten or more digits, e.g. -1001234567890';
const supergroupId = z
  .string()
  .regex(/^-100[0-9]{10,12}$/, SUPERGROUP_ID)
  .transform(Number)
  .refine((id) => id < -1_000_000_000_000, SUPERGROUP_ID);

const languageTag = z
  .string()
  .max(LANGUAGE_TAG_MAX_LENGTH)
  .refine(isLanguageTag, 'a BCP 47 language tag such as de or pt-BR');

/** A bot channel's role or segment (issue 19), as the plugin may pass it; matched exactly. */
const segmentName = z
  .string()
  .regex(/^[\p{L}\p{N} _.-]{1,32}$/u, 'at most 32 letters, digits, spaces, _ . -');

/** PUT replaces every rule; the first that matches a new conversation sets its priority. */
const priorityRulesBody = z
  .object({
    rules: z
      .array(
        z
          .object({
            pageUrlPrefix: z.string().trim().min(1).max(2048).nullable().default(null),
            locale: languageTag.nullable().default(null),
            /** A bot channel's segment (issue 19), exactly as its plugin passes it. */
            segment: segmentName.nullable().default(null),
            priority: z.enum(['high', 'normal', 'low']),
          })
          .strict()
          .refine((r) => r.pageUrlPrefix !== null || r.locale !== null || r.segment !== null, {
            message: 'a rule needs pageUrlPrefix, locale, segment or a combination',
          }),
      )
      .max(100),
  })
  .strict();

/** PUT replaces the group: what is left out takes its default. */
const groupBody = z
  .object({
    title: z.string().trim().min(1).max(128).nullable().default(null),
    level: z.number().int().min(1).max(3).default(1),
    locales: z
      .array(languageTag)
      .max(20)
      .default([])
      // Matching ignores case, so `de` and `DE` are one locale: keep the first spelling.
      .transform((tags) =>
        tags.filter((tag, i) => tags.findIndex((t) => t.toLowerCase() === tag.toLowerCase()) === i),
      ),
    /** Bot channel segments routed here before the locale rule; matched exactly. */
    segments: z
      .array(segmentName)
      .max(20)
      .default([])
      .transform((segments) => [...new Set(segments)]),
    active: z.boolean().default(true),
  })
  .strict();

function groupView(group: SupportGroup) {
  return {
    chatId: group.chat_id,
    title: group.title,
    level: group.level,
    locales: group.locales,
    segments: group.segments,
    active: group.active,
    createdAt: group.created_at.toISOString(),
    updatedAt: group.updated_at.toISOString(),
  };
}

const telegramUserIdParam = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const agentParams = z.object({ telegramUserId: telegramUserIdParam });
const templateKeyParams = z.object({ key: templateBody.shape.key });
const templateLocaleQuery = z.object({ locale: templateBody.shape.locale });
const groupParams = z.object({ chatId: supergroupId });
const auditQuery = z.object({
  ...pageQuery({ max: 500, default: 100 }),
  /** An id: entries below it (the paging before cursors; still taken). */
  before: z.coerce.number().int().positive().optional(),
  /** One conversation's trail. */
  conversationId: z.uuid().optional(),
  action: z.string().min(1).max(100).optional(),
  /** `service-token`, `agent:<telegram user id>`, … */
  actor: z.string().min(1).max(200).optional(),
  from: fromBound.optional(),
  to: toBound.optional(),
  /** `csv`: the same as GET /v1/admin/audit.csv. */
  format: z.enum(['json', 'csv']).default('json'),
});
/** The CSV export takes the filters, and more rows a page. */
const auditCsvQuery = auditQuery
  .omit({ format: true, limit: true })
  .extend({ limit: z.coerce.number().int().min(1).max(10_000).default(10_000) });
const deadLettersQuery = z.object({
  ...pageQuery({ max: 500, default: 100 }),
  before: z.coerce.number().int().positive().optional(),
  pending: z.enum(['true', 'false']).optional(),
});
const deadLetterParams = z.object({
  id: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER),
});

/**
 * The admin API (Bearer SERVICE_TOKEN, or a console session): agents, system message templates
 * and saved replies (templates named `reply.<name>`), support groups besides SUPPORT_GROUP_ID,
 * the audit log and dead letters. Each route declares its permission (admin-access.ts checks
 * it); every change is audited with who made it. Templates are read from Postgres on every
 * use, so a change applies at once on every replica.
 */
export const adminRoutes: FastifyPluginAsync<AdminRoutesOptions> = async (app, options) => {
  const { admin: service, reads } = options;
  const by = (request: FastifyRequest) => principalOf(request).actorId;
  /** Every route reads and changes the caller's tenant only. */
  const tenantOf = (request: FastifyRequest) => principalOf(request).tenantId;

  /**
   * A list of settings (settings.read) a page at a time: short lists, read whole and paged by
   * a key of each item that never changes.
   */
  const settingsList = <T, K extends 'string' | 'number'>(list: {
    url: string;
    summary: string;
    field: string;
    load: (tenantId: string) => Promise<readonly T[]>;
    key: { kind: K; of: (item: T) => K extends 'number' ? number : string };
    view: (item: T) => unknown;
    answer: z.ZodType;
  }) =>
    app.get(
      list.url,
      adminRoute(Permission.settingsRead, list.summary, {
        query: settingsPageQuery,
        answers: { 200: list.answer },
      }),
      async (request) => {
        const query = parse(settingsPageQuery, request.query, 'query');
        const page = pageInMemory(list.field, await list.load(tenantOf(request)), list.key, query);
        return { [list.field]: page.items.map(list.view), nextCursor: page.nextCursor };
      },
    );

  settingsList({
    url: '/v1/admin/agents',
    summary: 'Agents with their roles and loads',
    field: 'agents',
    answer: agentPageAnswer,
    load: (tenantId) => service.agentLoads(tenantId),
    key: { kind: 'number', of: (a) => a.agent.id },
    view: ({ agent, load }) => ({
      ...agentView(agent),
      load,
      updatedAt: agent.updated_at.toISOString(),
    }),
  });

  app.put(
    '/v1/admin/agents/:telegramUserId',
    adminRoute(Permission.agentsManage, "Registers or changes an agent (roles up to one's own)", {
      params: agentParams,
      body: agentBody,
      answers: { 200: agentAnswer },
    }),
    async (request) => {
      const { telegramUserId } = parse(agentParams, request.params, 'path');
      const body = parse(agentBody, request.body === undefined ? {} : request.body);
      const principal = principalOf(request);
      const agent = await rankChecked(() =>
        service.saveAgent(
          principal.tenantId,
          principal.actorId,
          { telegramUserId, ...body },
          principal.role,
        ),
      );
      return agentView(agent);
    },
  );

  app.delete(
    '/v1/admin/agents/:telegramUserId',
    adminRoute(Permission.agentsManage, "Deactivates an agent (of one's own rank or below)", {
      params: agentParams,
      answers: { 200: agentDeactivatedAnswer },
    }),
    async (request) => {
      const { telegramUserId } = parse(agentParams, request.params, 'path');
      const principal = principalOf(request);
      const deactivated = await rankChecked(() =>
        service.deactivateAgent(
          principal.tenantId,
          principal.actorId,
          telegramUserId,
          principal.role,
        ),
      );
      if (!deactivated) throw new GatewayError(ErrorCode.NOT_FOUND, 'no such agent');
      return { telegramUserId, active: false };
    },
  );

  settingsList({
    url: '/v1/admin/templates',
    summary: 'System message templates and saved replies',
    field: 'templates',
    answer: templatePageAnswer,
    load: (tenantId) => service.templates(tenantId),
    // A key has no NUL: key and locale apart, in the order of key, then locale.
    key: { kind: 'string', of: (t) => `${t.key}\u0000${t.locale}` },
    view: (t) => ({
      key: t.key,
      locale: t.locale,
      text: t.text,
      wsBanner: t.ws_banner,
      persist: t.persist,
      telegram: t.telegram,
      pin: t.pin,
      minIntervalMs: t.min_interval_ms,
      updatedAt: t.updated_at.toISOString(),
    }),
  });

  app.put(
    '/v1/admin/templates',
    adminRoute(Permission.templatesWrite, 'Saves one template or a list of them (all or none)', {
      body: templatesBody,
      answers: { 200: templatesSavedAnswer },
    }),
    async (request) => {
      const body = parse(templatesBody, request.body === undefined ? {} : request.body);
      const items = Array.isArray(body) ? body : [body];
      await service.saveTemplates(tenantOf(request), by(request), items);
      return { updated: items.length };
    },
  );

  app.delete(
    '/v1/admin/templates/:key',
    adminRoute(Permission.templatesWrite, 'Deletes a template in one locale', {
      params: templateKeyParams,
      query: templateLocaleQuery,
      answers: { 200: templateDeletedAnswer },
    }),
    async (request) => {
      const { key } = parse(templateKeyParams, request.params, 'path');
      // A repeated `?locale=` is an array: refused here, not passed on to the database.
      const { locale } = parse(templateLocaleQuery, request.query, 'query');
      if (!(await service.deleteTemplate(tenantOf(request), by(request), key, locale)))
        throw new GatewayError(ErrorCode.NOT_FOUND, 'no such template');
      return { deleted: true };
    },
  );

  settingsList({
    url: '/v1/admin/priority-rules',
    summary: 'Priority rules, first match first',
    field: 'rules',
    answer: priorityRulePageAnswer,
    load: (tenantId) => service.priorityRules(tenantId),
    key: { kind: 'number', of: (rule) => rule.position },
    view: priorityRuleView,
  });

  app.put(
    '/v1/admin/priority-rules',
    adminRoute(Permission.settingsWrite, 'Replaces every priority rule', {
      body: priorityRulesBody,
      answers: { 200: priorityRulesSavedAnswer },
    }),
    async (request) => {
      const { rules } = parse(priorityRulesBody, request.body ?? {});
      const saved = await service.savePriorityRules(tenantOf(request), by(request), rules);
      return { rules: saved.map(priorityRuleView) };
    },
  );

  settingsList({
    url: '/v1/admin/groups',
    summary: 'Support groups besides SUPPORT_GROUP_ID',
    field: 'groups',
    answer: groupPageAnswer,
    load: (tenantId) => service.groups(tenantId),
    key: { kind: 'number', of: (group) => group.chat_id },
    view: groupView,
  });

  // Read at every conversation start, so a change routes the next conversation on every replica.
  app.put(
    '/v1/admin/groups/:chatId',
    adminRoute(Permission.settingsWrite, 'Registers or replaces a support group', {
      params: groupParams,
      body: groupBody,
      answers: { 200: groupAnswer },
    }),
    async (request) => {
      const { chatId } = parse(groupParams, request.params, 'path');
      const body = parse(groupBody, request.body ?? {});
      return groupView(
        await service.saveGroup(tenantOf(request), by(request), { chatId, ...body }),
      );
    },
  );

  // Deactivates rather than deletes: the group's conversations keep their topics there.
  app.delete(
    '/v1/admin/groups/:chatId',
    adminRoute(Permission.settingsWrite, 'Deactivates a support group', {
      params: groupParams,
      answers: { 200: groupAnswer },
    }),
    async (request) => {
      const { chatId } = parse(groupParams, request.params, 'path');
      const group = await service.deactivateGroup(tenantOf(request), by(request), chatId);
      if (!group) throw new GatewayError(ErrorCode.NOT_FOUND, 'no such group');
      return groupView(group);
    },
  );

  app.get(
    '/v1/admin/audit',
    adminRoute(Permission.auditRead, 'The audit log, newest first: filters, cursor pages, CSV', {
      query: auditQuery,
      responses: {
        200: { description: 'a page of entries; CSV with format=csv', type: 'text/csv' },
      },
      answers: { 200: auditPageAnswer },
    }),
    async (request, reply) => {
      const { format, ...query } = parse(auditQuery, request.query, 'query');
      const { tenantId } = principalOf(request);
      if (format === 'csv') return sendAuditCsv(tenantId, reply, query);
      const page = await reads.audit(tenantId, auditFilters(query), query);
      return { entries: page.items.map(auditView), nextCursor: page.nextCursor };
    },
  );

  app.get(
    '/v1/admin/audit.csv',
    adminRoute(Permission.auditRead, 'The audit log as CSV, newest first (the same filters)', {
      query: auditCsvQuery,
      responses: { 200: { description: 'the entries as CSV', type: 'text/csv' } },
    }),
    async (request, reply) =>
      sendAuditCsv(tenantOf(request), reply, parse(auditCsvQuery, request.query, 'query')),
  );

  /** One page of up to 10,000 entries; the `X-Next-Cursor` header names the next. */
  const sendAuditCsv = async (
    tenantId: string,
    reply: FastifyReply,
    query: z.output<typeof auditCsvQuery> | Omit<z.output<typeof auditQuery>, 'format'>,
  ) => {
    const page = await reads.audit(tenantId, auditFilters(query), query);
    const lines = [AUDIT_CSV_COLUMNS.join(',')];
    for (const e of page.items)
      lines.push(
        [
          e.id,
          e.created_at.toISOString(),
          e.actor_type,
          e.actor_id,
          e.action,
          e.conversation_id,
          JSON.stringify(e.details),
        ]
          .map(csvField)
          .join(','),
      );
    if (page.nextCursor !== null) void reply.header('x-next-cursor', page.nextCursor);
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', 'attachment; filename="audit.csv"')
      .send(`${lines.join('\r\n')}\r\n`);
  };

  app.get(
    '/v1/admin/dead-letters',
    adminRoute(Permission.operations, 'Dead letters, newest first', {
      query: deadLettersQuery,
      answers: { 200: deadLetterPageAnswer },
    }),
    async (request) => {
      const query = parse(deadLettersQuery, request.query, 'query');
      const page = await reads.deadLetters(tenantOf(request), {
        ...query,
        pending: query.pending === 'true',
      });
      return { deadLetters: page.items.map(deadLetterView), nextCursor: page.nextCursor };
    },
  );

  // Publishes the message again on its topic once the cause is fixed; audited.
  app.post(
    '/v1/admin/dead-letters/:id/replay',
    adminRoute(Permission.operations, 'Publishes a dead letter again', {
      params: deadLetterParams,
      answers: { 200: deadLetterAnswer },
    }),
    async (request) => {
      const { id } = parse(deadLetterParams, request.params, 'path');
      let replayed: DeadLetterRow | undefined;
      try {
        replayed = await service.replayDeadLetter(tenantOf(request), by(request), id);
      } catch (error) {
        if (error instanceof DeadLetterTopicError)
          throw new GatewayError(ErrorCode.INVALID_REQUEST, error.message);
        throw error;
      }
      if (!replayed) throw new GatewayError(ErrorCode.NOT_FOUND, 'no such dead letter');
      return deadLetterView(replayed);
    },
  );
};

const AUDIT_CSV_COLUMNS = [
  'id',
  'at',
  'actor_type',
  'actor_id',
  'action',
  'conversation_id',
  'details',
] as const;

function auditFilters(query: {
  conversationId?: string | undefined;
  action?: string | undefined;
  actor?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
}) {
  return {
    conversationId: query.conversationId,
    action: query.action,
    actorId: query.actor,
    from: query.from,
    to: query.to,
  };
}

/** An agent above the caller's rank, or a role above it, is refused for the role. */
async function rankChecked<T>(change: () => Promise<T>): Promise<T> {
  try {
    return await change();
  } catch (error) {
    if (error instanceof RoleRankError)
      throw new GatewayError(ErrorCode.FORBIDDEN_ROLE, error.message);
    throw error;
  }
}

function deadLetterView(row: DeadLetterRow) {
  return {
    id: row.id,
    topic: row.topic,
    durable: row.durable,
    reason: row.reason,
    deliveries: row.deliveries,
    error: { code: row.error_code, message: row.error },
    conversationId: row.conversation_id,
    createdAt: row.created_at.toISOString(),
    replayedAt: row.replayed_at?.toISOString() ?? null,
    replays: row.replays,
  };
}
