// The answers the console reads, as the routes write them (services/gateway/src/*.routes.ts and
// docs/console.md). The OpenAPI document describes answers without schemas yet, so these are
// kept by hand; fields another release may leave out are optional.

export type Role = 'owner' | 'admin' | 'supervisor' | 'agent' | 'viewer';
export const ROLES: readonly Role[] = ['owner', 'admin', 'supervisor', 'agent', 'viewer'];

export interface SessionView {
  id: string;
  agent: { telegramUserId: number; displayName: string | null };
  role: Role;
  userAgent: string | null;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
  current: boolean;
}

export interface SessionAnswer {
  session: SessionView;
  permissions: string[];
  csrfToken: string;
}

export interface Agent {
  telegramUserId: number;
  displayName: string | null;
  role: Role;
  active: boolean;
  capacity: number | null;
  groupChatId: number | null;
  level: number | null;
  presence?: string | null;
  load?: number;
}

export interface Template {
  key: string;
  locale: string;
  text: string;
  wsBanner: boolean;
  persist: boolean;
  telegram: boolean;
  pin: boolean;
  minIntervalMs: number;
  updatedAt?: string;
}

export interface Group {
  chatId: number;
  title: string | null;
  level: number;
  locales: string[];
  active: boolean;
}

export interface PriorityRule {
  pageUrlPrefix: string | null;
  locale: string | null;
  priority: 'high' | 'normal' | 'low';
}

export interface AuditEntry {
  id: number;
  at: string;
  actor: { type: string; id: string };
  action: string;
  conversationId: string | null;
  details: Record<string, unknown>;
}

export interface Interval {
  from: string;
  to: string;
}
export const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Day = (typeof DAYS)[number];

export interface BusinessHours {
  timeZone: string;
  alwaysOpen?: boolean;
  weekly: Partial<Record<Day, Interval[]>>;
}

export interface SlaTarget {
  firstResponseSeconds: number | null;
  resolutionSeconds: number | null;
  businessHours: boolean;
}
export interface SlaSettings {
  remindAtPercent: number | null;
  targets: Partial<Record<'high' | 'normal' | 'low', SlaTarget>>;
}

export interface Figures {
  conversations: number;
  firstResponse: { count: number; avgSeconds: number | null; medianSeconds: number | null };
  resolution: { count: number; avgSeconds: number | null; medianSeconds: number | null };
  csat: { surveys: number; ratings: number; score: number | null; responseRate: number | null };
}
export interface Report {
  from: string;
  to: string;
  rows: Array<Figures & { key: string; label: string | null }>;
  total: Figures;
}

export interface ConversationItem {
  id: string;
  ticket: string;
  status: string;
  priority: string;
  level: number;
  groupChatId: number | null;
  topicId: number | null;
  assignee: { telegramUserId: number; displayName: string | null } | null;
  visitorName: string | null;
  createdAt: string;
  lastActivityAt: string | null;
  waitingSince: string | null;
  messageCount: number;
}
export interface ConversationPage {
  items: ConversationItem[];
  nextCursor: string | null;
}

export interface TranscriptMessage {
  seq: number;
  /** visitor, agent or system. */
  kind: string;
  text: string | null;
  author: { kind: string; displayName: string | null };
  at: string;
  editedAt: string | null;
  deletedAt: string | null;
  edits: Array<{ previousText: string | null; editedAt: string }>;
  attachments: Array<{ id: string; name: string; type?: string; size?: number; url?: string }>;
}
export interface TranscriptNote {
  id: string | number;
  authorName: string | null;
  text: string;
  at: string;
}
export interface Transcript {
  conversation: ConversationItem & {
    channel?: string;
    locale?: string | null;
    visitorEmail?: string | null;
    page?: { url: string; title: string | null } | null;
    closedAt?: string | null;
  };
  messages: TranscriptMessage[];
  nextAfterSeq: number | null;
  notes: TranscriptNote[];
  /** Null for roles that may not read the audit log. */
  audit: AuditEntry[] | null;
}

export interface OverviewAgent {
  telegramUserId: number;
  displayName: string | null;
  load: number;
  capacity: number | null;
}
export interface Overview {
  at: string;
  open: number;
  waiting: number;
  assigned: number;
  oldestWaitSeconds: number | null;
  agentsOnline: OverviewAgent[];
  slaBreachesToday: number;
  telegramQueue?: { pendingMessages: number; oldestPendingSeconds: number; pendingPosts: number };
  /** The bridges' bots and send queues; absent from a gateway that does not tell them. */
  telegram?: OverviewTelegram;
}

export interface OverviewBot {
  id: string;
  username: string | null;
  role: 'main' | 'sender';
  state: 'ok' | 'paused' | 'failing';
  pausedUntil: string | null;
  problem: string | null;
  sent: number;
  budget: number;
  windowSeconds: number;
  lastError: { code: string; at: string } | null;
  chats: Array<{ chatId: number; sent: number; budget: number; pausedUntil: string | null }>;
}
export interface OverviewTelegram {
  available: boolean;
  at: string | null;
  replicas: number;
  sending: { normal: number; cosmetic: number; oldestWaitSeconds: number } | null;
  bots: OverviewBot[];
}

export interface Tombstone {
  conversationId: string;
  ticket: string;
  erasedAt: string;
  erasedBy: { type: string; id: string };
  topic: string;
}

export interface SetupCheck {
  id: string;
  ok: boolean;
  detail?: string | null;
  fix?: string | null;
}
export interface SetupAnswer {
  ok: boolean;
  checks: SetupCheck[];
  checkedAt: string;
}
export interface Snippet {
  origin: string;
  originAllowed: boolean;
  fix?: string;
  scriptUrl: string;
  integrity: string;
  snippet: string;
}
