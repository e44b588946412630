import { ROLES } from '@topicdesk/core';
import {
  attachmentSchema,
  conversationProfileSchema,
  conversationStartedSchema,
  errorBodySchema,
  historyMessageSchema,
  historyPageSchema,
  issuedTokenSchema,
  ratingViewSchema,
  uploadTicketSchema,
} from '@topicdesk/protocol';
import { z } from 'zod';
import { answerComponents, instant, int, shape } from './answer-components';
import { overviewTelegramAnswer } from './bridge-status';

/**
 * The answers of the API as zod schemas: a route declares its own in `config.doc.answers`,
 * /openapi.json shows them (the console's types are generated from it) and, with
 * CHECK_RESPONSE_SCHEMAS, every JSON answer is checked against them (answer-check.ts). Objects
 * are strict: a field a view adds without its schema is drift, and the check says so.
 *
 * Shapes that several answers share, or that the console names, are registered here under an
 * id: the document lists them once in `components.schemas` and refers to them.
 */
export { answerComponents };
const priority = z.enum(['high', 'normal', 'low']);
/** Every admin list: its items under their own name, and the cursor of the next page. */
const nextCursor = z.string().nullable();

// The visitor API: one definition, the protocol's.
shape('Error', errorBodySchema);
shape('Attachment', attachmentSchema);
shape('HistoryMessage', historyMessageSchema);
shape('HistoryPage', historyPageSchema);
shape('IssuedToken', issuedTokenSchema);
shape('ConversationStarted', conversationStartedSchema);
shape('RatingView', ratingViewSchema);
shape('ConversationProfile', conversationProfileSchema);
shape('UploadTicket', uploadTicketSchema);

/** `PUT /v1/files`: the bytes stored. */
export const fileStoredAnswer = z.strictObject({ size: int.min(0) });

// Console sessions.
export const roleAnswer = shape('Role', z.enum(ROLES as readonly [string, ...string[]]));

export const sessionAnswer = shape(
  'Session',
  z.strictObject({
    id: z.uuid(),
    agent: z.strictObject({ telegramUserId: int, displayName: z.string().nullable() }),
    role: roleAnswer,
    userAgent: z.string().nullable(),
    createdAt: instant,
    lastSeenAt: instant,
    expiresAt: instant,
    /** The session of the request itself. */
    current: z.boolean(),
  }),
);

/** `POST /console/sign-in` (a JSON post). */
export const signedInAnswer = shape(
  'SignedIn',
  z.strictObject({ session: sessionAnswer, csrfToken: z.string() }),
);

/** `GET /v1/console/session`. */
export const consoleSessionAnswer = shape(
  'ConsoleSession',
  z.strictObject({
    session: sessionAnswer,
    permissions: z.array(z.string()),
    csrfToken: z.string(),
  }),
);

export const signedOutAnswer = z.strictObject({ signedOut: z.literal(true) });
export const sessionPageAnswer = z.strictObject({ sessions: z.array(sessionAnswer), nextCursor });
export const sessionRevokedAnswer = z.strictObject({ id: z.uuid(), revoked: z.literal(true) });

// Settings: agents, templates, priority rules, groups.
export const agentAnswer = shape(
  'Agent',
  z.strictObject({
    telegramUserId: int,
    displayName: z.string().nullable(),
    role: roleAnswer,
    active: z.boolean(),
    /** Most open conversations at once; null: AGENT_CAPACITY_DEFAULT. */
    capacity: int.nullable(),
    /** The support group they serve; null: every group. */
    groupChatId: int.nullable(),
    /** The escalation level they serve; null: every level. */
    level: int.nullable(),
    presence: z.enum(['online', 'away', 'offline']),
  }),
);

/** An agent in the list: with their open conversations now. */
export const agentListItemAnswer = shape(
  'AgentListItem',
  agentAnswer.extend({ load: int.min(0), updatedAt: instant }),
);
export const agentPageAnswer = z.strictObject({
  agents: z.array(agentListItemAnswer),
  nextCursor,
});
export const agentDeactivatedAnswer = z.strictObject({
  telegramUserId: int,
  active: z.literal(false),
});

export const templateAnswer = shape(
  'Template',
  z.strictObject({
    key: z.string(),
    /** '' is the default locale. */
    locale: z.string(),
    text: z.string(),
    wsBanner: z.boolean(),
    persist: z.boolean(),
    telegram: z.boolean(),
    pin: z.boolean(),
    minIntervalMs: int,
    updatedAt: instant,
  }),
);
export const templatePageAnswer = z.strictObject({
  templates: z.array(templateAnswer),
  nextCursor,
});
export const templatesSavedAnswer = z.strictObject({ updated: int.min(1) });
export const templateDeletedAnswer = z.strictObject({ deleted: z.literal(true) });

export const priorityRuleAnswer = shape(
  'PriorityRule',
  z.strictObject({
    pageUrlPrefix: z.string().nullable(),
    locale: z.string().nullable(),
    /** A bot channel's segment (issue 19); null: any. */
    segment: z.string().nullable(),
    priority,
  }),
);
export const priorityRulePageAnswer = z.strictObject({
  rules: z.array(priorityRuleAnswer),
  nextCursor,
});
export const priorityRulesSavedAnswer = z.strictObject({ rules: z.array(priorityRuleAnswer) });

export const groupAnswer = shape(
  'Group',
  z.strictObject({
    chatId: int,
    title: z.string().nullable(),
    level: int.min(1).max(3),
    locales: z.array(z.string()),
    /** Bot channel segments (issue 19) routed here before the locale rule; may be empty. */
    segments: z.array(z.string()),
    active: z.boolean(),
    createdAt: instant,
    updatedAt: instant,
  }),
);
export const groupPageAnswer = z.strictObject({ groups: z.array(groupAnswer), nextCursor });

// The audit log and dead letters.
export const auditEntryAnswer = shape(
  'AuditEntry',
  z.strictObject({
    id: int,
    at: instant,
    /** `service-token`, `agent:<telegram user id>`, … */
    actor: z.strictObject({ type: z.string(), id: z.string().nullable() }),
    action: z.string(),
    conversationId: z.uuid().nullable(),
    details: z.record(z.string(), z.unknown()),
  }),
);
export const auditPageAnswer = z.strictObject({
  entries: z.array(auditEntryAnswer),
  nextCursor,
});

export const deadLetterAnswer = shape(
  'DeadLetter',
  z.strictObject({
    id: int,
    topic: z.string(),
    durable: z.string(),
    reason: z.string(),
    deliveries: int,
    error: z.strictObject({ code: z.string(), message: z.string() }),
    conversationId: z.uuid().nullable(),
    createdAt: instant,
    replayedAt: instant.nullable(),
    replays: int,
  }),
);
export const deadLetterPageAnswer = z.strictObject({
  deadLetters: z.array(deadLetterAnswer),
  nextCursor,
});

// Conversations and transcripts.
export const conversationSummaryAnswer = shape(
  'ConversationSummary',
  z.strictObject({
    id: z.uuid(),
    ticket: z.string(),
    status: z.enum(['open', 'closed']),
    priority,
    level: int,
    groupChatId: int.nullable(),
    topicId: int.nullable(),
    /** The agent holding it; null: nobody. */
    assignee: z.strictObject({ telegramUserId: int, displayName: z.string() }).nullable(),
    visitorName: z.string().nullable(),
    createdAt: instant,
    lastActivityAt: instant,
    /** Open and held by nobody: since when. */
    waitingSince: instant.nullable(),
    /** Messages stored (seq is gap-free from 1; system messages count). */
    messageCount: int.min(0),
  }),
);
export const conversationPageAnswer = z.strictObject({
  items: z.array(conversationSummaryAnswer),
  nextCursor,
});

const kind = z.enum(['visitor', 'agent', 'system']);
export const transcriptMessageAnswer = shape(
  'TranscriptMessage',
  z.strictObject({
    seq: int.min(1),
    kind,
    text: z.string(),
    author: z.union([
      z.strictObject({
        kind: z.literal('agent'),
        displayName: z.string().nullable(),
        telegramUserId: int.nullable(),
      }),
      z.strictObject({ kind: z.enum(['visitor', 'system']), displayName: z.string().nullable() }),
    ]),
    at: instant,
    editedAt: instant.nullable(),
    deletedAt: instant.nullable(),
    /** Earlier texts, oldest first. */
    edits: z.array(z.strictObject({ previousText: z.string(), editedAt: instant })),
    attachments: z.array(attachmentSchema),
    /** Toward Telegram: a visitor message's state. */
    delivery: z.enum(['pending', 'delivered', 'failed', 'none']),
  }),
);

export const transcriptAnswer = shape(
  'Transcript',
  z.strictObject({
    conversation: conversationSummaryAnswer.extend({
      channel: z.enum(['web', 'telegram']),
      locale: z.string().nullable(),
      visitorEmail: z.string().nullable(),
      page: z.strictObject({ url: z.string(), title: z.string().nullable() }).nullable(),
      firstResponseAt: instant.nullable(),
      closedAt: instant.nullable(),
    }),
    messages: z.array(transcriptMessageAnswer),
    /** The seq to ask the next page after; null: no more messages. */
    nextAfterSeq: int.nullable(),
    notes: z.array(
      z.strictObject({ id: int, authorName: z.string(), text: z.string(), at: instant }),
    ),
    /** Newest first; null for roles that may not read the audit log. */
    audit: z.array(auditEntryAnswer).nullable(),
  }),
);

export const overviewAnswer = shape(
  'Overview',
  z.strictObject({
    at: instant,
    open: int,
    waiting: int,
    assigned: int,
    /** Seconds the longest-waiting conversation has waited (0: none waits). */
    oldestWaitSeconds: int.min(0),
    oldestWaitingSince: instant.nullable(),
    agentsOnline: z.array(
      z.strictObject({
        telegramUserId: int,
        displayName: z.string(),
        load: int.min(0),
        capacity: int.nullable(),
      }),
    ),
    slaBreachesToday: int.min(0),
    telegramQueue: z.strictObject({
      pendingMessages: int.min(0),
      oldestPendingSeconds: int.min(0),
      pendingPosts: int.min(0),
    }),
    /** The bridges' bots and send queues (services/gateway/src/bridge-status.ts). */
    telegram: overviewTelegramAnswer.optional(),
  }),
);

// Reports, business hours, SLA targets.
const intervals = z.array(z.strictObject({ from: z.string(), to: z.string() })).optional();

export const businessHoursAnswer = shape(
  'BusinessHours',
  z.strictObject({
    timeZone: z.string(),
    /** No hours set: reports count every second (24/7). */
    alwaysOpen: z.boolean(),
    /** Open intervals (HH:MM) per weekday in `timeZone`; a day left out is closed; null: 24/7. */
    weekly: z
      .strictObject({
        sun: intervals,
        mon: intervals,
        tue: intervals,
        wed: intervals,
        thu: intervals,
        fri: intervals,
        sat: intervals,
      })
      .nullable(),
    updatedAt: instant.nullable(),
  }),
);

const seconds = z.number().min(0).nullable();
const share = z.number().min(0).max(1).nullable();
export const reportFiguresAnswer = shape(
  'ReportFigures',
  z.strictObject({
    conversations: int.min(0),
    firstResponse: z.strictObject({
      count: int.min(0),
      avgSeconds: seconds,
      medianSeconds: seconds,
      businessAvgSeconds: seconds,
      businessMedianSeconds: seconds,
    }),
    resolution: z.strictObject({
      count: int.min(0),
      avgSeconds: seconds,
      medianSeconds: seconds,
      businessAvgSeconds: seconds,
    }),
    replyTime: z.strictObject({ count: int.min(0), avgSeconds: seconds }),
    csat: z.strictObject({
      surveys: int.min(0),
      ratings: int.min(0),
      positive: int.min(0),
      /** Ratings of 4–5 ÷ all ratings (docs/reports.md). */
      score: share,
      responseRate: share,
    }),
    sla: z.strictObject({
      firstResponse: z.strictObject({ measured: int.min(0), met: int.min(0), attainment: share }),
      resolution: z.strictObject({ measured: int.min(0), met: int.min(0), attainment: share }),
    }),
  }),
);

export const reportAnswer = shape(
  'Report',
  z.strictObject({
    from: instant,
    to: instant,
    groupBy: z.enum(['agent', 'day', 'level']).nullable(),
    businessHours: businessHoursAnswer,
    rows: z.array(
      reportFiguresAnswer.extend({
        /** agent: the Telegram user id (null: unregistered or unanswered); day; level. */
        key: z.string().nullable(),
        label: z.string().nullable(),
      }),
    ),
    total: reportFiguresAnswer,
  }),
);

const slaTarget = z.strictObject({
  firstResponseSeconds: int.min(1).nullable(),
  resolutionSeconds: int.min(1).nullable(),
  businessHours: z.boolean(),
});
export const slaSettingsAnswer = shape(
  'SlaSettings',
  z.strictObject({
    remindAtPercent: int.min(1).max(99).nullable(),
    /** Targets by priority; a priority left out has none. */
    targets: z.strictObject({
      high: slaTarget.optional(),
      normal: slaTarget.optional(),
      low: slaTarget.optional(),
    }),
    updatedAt: instant.nullable(),
  }),
);

// Data-subject requests.
const actor = z.strictObject({ type: z.string(), id: z.string().nullable() });
export const tombstoneAnswer = shape(
  'Tombstone',
  z.strictObject({
    conversationId: z.uuid(),
    ticket: z.string(),
    erasedAt: instant,
    erasedBy: actor,
    topic: z.enum(['delete', 'keep']),
  }),
);
export const erasedAnswer = z.strictObject({
  /** False: it was erased before (the tombstone says when). */
  erased: z.boolean(),
  tombstone: tombstoneAnswer,
});

const at = instant.nullable();
export const conversationExportAnswer = shape(
  'ConversationExport',
  z.strictObject({
    format: z.literal('topicdesk.conversation-export/1'),
    exportedAt: instant,
    conversation: z.strictObject({
      id: z.uuid(),
      ticket: z.string(),
      channel: z.enum(['web', 'telegram']),
      status: z.enum(['open', 'closed']),
      priority,
      level: int,
      createdAt: at,
      lastActivityAt: at,
      closedAt: at,
      firstResponseAt: at,
      groupChatId: int.nullable(),
      topicId: int.nullable(),
      claimedBy: z.strictObject({ name: z.string().nullable(), at }).nullable(),
    }),
    visitor: z.strictObject({
      name: z.string().nullable(),
      email: z.string().nullable(),
      locale: z.string().nullable(),
      page: z.strictObject({ url: z.string().nullable(), title: z.string().nullable() }).nullable(),
      visitorReadSeq: int.min(0),
      /** The row of a Telegram user (the id itself is stored only encrypted). */
      telegram: z
        .strictObject({
          userRef: z.string(),
          languageCode: z.string().nullable(),
          firstSeenAt: at,
          lastSeenAt: at,
        })
        .nullable(),
    }),
    messages: z.array(
      z.strictObject({
        seq: int.min(1),
        kind,
        text: z.string(),
        author: z.string().nullable(),
        at,
        editedAt: at,
        deletedAt: at,
        delivery: z.enum(['pending', 'delivered', 'failed', 'none']),
        edits: z.array(z.strictObject({ previousText: z.string(), editedAt: at })),
      }),
    ),
    /** Stored metadata of each file, and a short-lived link to a checked one. */
    attachments: z.array(
      z.looseObject({
        id: z.uuid().optional(),
        name: z.string().optional(),
        state: z.string(),
        url: z.string().optional(),
        urlExpiresAt: instant.optional(),
        messageSeq: int.nullable(),
      }),
    ),
    notes: z.array(z.strictObject({ author: z.string(), text: z.string(), at })),
    rating: z
      .strictObject({
        score: int.min(1).max(5),
        comment: z.string().nullable(),
        channel: z.string(),
        at,
      })
      .nullable(),
    escalations: z.array(
      z.strictObject({
        fromLevel: int,
        toLevel: int,
        reason: z.string().nullable(),
        by: actor,
        at,
      }),
    ),
    slaEvents: z.array(
      z.strictObject({
        target: z.string(),
        kind: z.string(),
        priority: z.string(),
        targetSeconds: int,
        businessHours: z.boolean(),
        /** A breach's automatic escalation: its state, null when none. */
        escalation: z.string().nullable(),
        at,
      }),
    ),
    audit: z.array(
      z.strictObject({
        id: int,
        at,
        actor,
        action: z.string(),
        details: z.record(z.string(), z.unknown()),
      }),
    ),
  }),
);

// Setup.
export const setupAnswer = shape(
  'SetupChecks',
  z.strictObject({
    ok: z.boolean(),
    checks: z.array(
      z.strictObject({
        /** bot, group, webhook, origins, widget, … */
        id: z.string(),
        ok: z.boolean(),
        detail: z.string(),
        /** What to do about a failed check ('' when it passed). */
        fix: z.string(),
      }),
    ),
    checkedAt: instant,
  }),
);

export const snippetAnswer = shape(
  'Snippet',
  z.strictObject({
    origin: z.string(),
    originAllowed: z.boolean(),
    /** Present when the origin is not allowed yet. */
    fix: z.string().optional(),
    /** A tenant other than default: the public site key the snippet carries (data-site-key). */
    siteKey: z.string().optional(),
    scriptUrl: z.string(),
    integrity: z.string(),
    snippet: z.string(),
  }),
);
