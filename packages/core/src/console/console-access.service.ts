import { createHash, randomBytes, randomUUID } from 'node:crypto';
import {
  AgentRepository,
  DEFAULT_TENANT_ID,
  AuditRepository,
  ConsoleLinkRepository,
  ConsoleSessionRepository,
  TelegramUpdateRepository,
  type ConsoleSessionWithAgent,
} from '@topicdesk/data';
import type { UpdateRef } from '../agents/agent-desk.service';
import type { UnitOfWork, Work } from '../unit-of-work';
import { isRole, Role } from './access';

/** Why a sign-in link was refused (stable codes, docs/errors.md). */
export const SignInRefusal = {
  /** No such link (mistyped, forged, or forgotten long after it expired). */
  invalid: 'SIGN_IN_LINK_INVALID',
  expired: 'SIGN_IN_LINK_EXPIRED',
  /** The link signed someone in already: a link works once. */
  used: 'SIGN_IN_LINK_USED',
  /** A Mini App's signed data signed someone in already: it works once too. */
  miniAppUsed: 'MINI_APP_DATA_USED',
  /** The Mini App was opened by a Telegram user who is not an active agent. */
  miniAppNotAgent: 'MINI_APP_NOT_AGENT',
} as const;
export type SignInRefusal = (typeof SignInRefusal)[keyof typeof SignInRefusal];

export class SignInRefusedError extends Error {
  override readonly name = 'SignInRefusedError';
  constructor(
    readonly code: SignInRefusal,
    message: string,
  ) {
    super(message);
  }
}

/** How long a refused link stays on record (to tell "used" and "expired" from "invalid"). */
const LINK_MEMORY_MS = 86_400_000;
/** A session's last_seen_at is written at most this often. */
const TOUCH_EVERY_MS = 60_000;
const USER_AGENT_MAX = 256;

/** SHA-256 (hex): tokens and secrets are 256 random bits, so a fast hash is enough. */
export function secretHash(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Who is calling the admin API: a service token (the env SERVICE_TOKEN, the default tenant's, or
 * the `serviceToken` of a tenant's bundle), or an agent's console session. `tenantId` is the
 * tenant every admin route reads and changes: the token's, or the session's.
 */
export type Principal =
  | { kind: 'service'; role: typeof Role.owner; actorId: 'service-token'; tenantId: string }
  | {
      kind: 'session';
      role: Role;
      actorId: string;
      tenantId: string;
      session: ConsoleSessionView;
    };

/** A session as the API shows it (never its secret). */
export interface ConsoleSessionView {
  id: string;
  agent: { id: number; telegramUserId: number; displayName: string };
  /** The agent's role now (the one requests are checked against). */
  role: Role;
  userAgent: string | null;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
}

export type ConsoleLinkOutcome =
  | { kind: 'link'; token: string; expiresAt: Date; displayName: string }
  /** An agent, but the console's URL is not configured: no link to hand out. */
  | { kind: 'not_configured' }
  /** Not an active agent with a role: the bot answers as to any unknown command. */
  | { kind: 'not_agent' }
  | { kind: 'duplicate' };

export interface SessionLifetimes {
  /** From sign-in; a session never lives longer. */
  ttlMs: number;
  /** Without a request for this long a session ends. */
  idleMs: number;
}

function sessionView(row: ConsoleSessionWithAgent): ConsoleSessionView {
  return {
    id: row.id,
    agent: {
      id: row.agent_id,
      telegramUserId: row.telegram_user_id,
      displayName: row.display_name,
    },
    role: isRole(row.agent_role) ? row.agent_role : Role.viewer,
    userAgent: row.user_agent,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
    expiresAt: row.expires_at,
  };
}

/** The audit actor id of an agent acting through the console. */
export function agentActorId(telegramUserId: number): string {
  return `agent:${telegramUserId}`;
}

/**
 * Console sign-in without passwords: the bot hands an agent a one-time link (`/console` in a
 * private chat), opening it creates a session, and each admin request authenticates by the
 * session's cookie secret. Only hashes of link tokens and cookie secrets are stored; sign-in,
 * sign-out, revocation and refused links (of a known agent) are audited.
 */
export class ConsoleAccess {
  constructor(
    private readonly uow: UnitOfWork,
    /** Sessions' lifetimes (the gateway's; the bridge only hands out links). */
    private readonly lifetimes: SessionLifetimes = { ttlMs: 12 * 3_600_000, idleMs: 2 * 3_600_000 },
  ) {}

  /**
   * `/console` from `telegramUserId` in the bot's private chat: a link valid for `ttlMs` if
   * they are an active agent (`ttlMs` undefined: the console is not configured), applied once
   * per update (a redelivered update issues nothing). A non-agent's update is left unmarked:
   * whoever answers it (the private chat) marks it.
   */
  issueLink(
    update: UpdateRef,
    tenantId: string,
    telegramUserId: number,
    ttlMs: number | undefined,
  ): Promise<ConsoleLinkOutcome> {
    return this.uow.run(async (work) => {
      const agent = await new AgentRepository(work.trx).findByTelegramUser(
        tenantId,
        telegramUserId,
      );
      if (!agent?.active || !isRole(agent.role)) return { kind: 'not_agent' };
      const updates = new TelegramUpdateRepository(work.trx);
      if (!(await updates.markProcessed(tenantId, update.botId, update.updateId)))
        return { kind: 'duplicate' };
      if (ttlMs === undefined) return { kind: 'not_configured' };
      const token = newSecret();
      const now = new Date();
      const expiresAt = new Date(now.getTime() + ttlMs);
      const links = new ConsoleLinkRepository(work.trx);
      await links.deleteExpired(tenantId, new Date(now.getTime() - LINK_MEMORY_MS));
      await links.add({ tenantId, tokenHash: secretHash(token), agentId: agent.id, expiresAt });
      await audit(work, tenantId, telegramUserId, 'console.link_issued', {
        expiresAt: expiresAt.toISOString(),
      });
      return { kind: 'link', token, expiresAt, displayName: agent.display_name };
    });
  }

  /**
   * Consumes a sign-in link and opens a session: its cookie secret (shown once, here) and the
   * session. SignInRefusedError when the link is unknown, expired or used, or its agent is no
   * longer an active agent.
   */
  async signIn(
    tenantId: string,
    token: string,
    userAgent: string | undefined,
  ): Promise<{ secret: string; session: ConsoleSessionView }> {
    const hash = secretHash(token);
    const now = new Date();
    const opened = await this.uow.run(async (work) => {
      // Scoped to the tenant: another tenant's link is neither found nor spent here.
      const link = await new ConsoleLinkRepository(work.trx).consume(tenantId, hash, now);
      if (!link) return undefined;
      const agent = await new AgentRepository(work.trx).findById(tenantId, link.agent_id);
      // The link is spent either way: its agent is no longer one.
      if (!agent?.active || !isRole(agent.role)) return 'not_agent' as const;
      return this.#openSession(
        work,
        tenantId,
        { ...agent, role: agent.role },
        userAgent,
        now,
        'link',
      );
    });
    if (opened === 'not_agent')
      throw new SignInRefusedError(SignInRefusal.invalid, 'this sign-in link is not valid');
    if (opened) return opened;
    throw await this.#refusal(tenantId, hash, now);
  }

  /**
   * `signIn` with a link of whichever tenant issued it (a link names no tenant; its token's hash
   * is unique across tenants). An unknown link is refused as `signIn` refuses it.
   */
  async signInAnyTenant(
    token: string,
    userAgent: string | undefined,
  ): Promise<{ tenantId: string; secret: string; session: ConsoleSessionView }> {
    const tenantId =
      (await new ConsoleLinkRepository(this.uow.db).tenantOfToken(secretHash(token))) ??
      DEFAULT_TENANT_ID;
    return { tenantId, ...(await this.signIn(tenantId, token, userAgent)) };
  }

  /**
   * Opens a session for the console opened as a Telegram Mini App, with `initData` the bridge
   * has verified (signed by the bot, fresh, naming `telegramUserId`). The data works once: its
   * signature is kept as a spent link until `expiresAt` (when the bridge would call it stale),
   * so a replay is MINI_APP_DATA_USED; a user who is no active agent, MINI_APP_NOT_AGENT.
   */
  async signInWithMiniApp(
    tenantId: string,
    verified: { telegramUserId: number; dataHash: string; expiresAt: Date },
    userAgent: string | undefined,
  ): Promise<{ secret: string; session: ConsoleSessionView }> {
    const now = new Date();
    const opened = await this.uow.run(async (work) => {
      const agent = await new AgentRepository(work.trx).findByTelegramUser(
        tenantId,
        verified.telegramUserId,
      );
      if (!agent?.active || !isRole(agent.role)) return SignInRefusal.miniAppNotAgent;
      const spent = await new ConsoleLinkRepository(work.trx).addSpent({
        tenantId,
        tokenHash: secretHash(`mini-app:${verified.dataHash}`),
        agentId: agent.id,
        expiresAt: verified.expiresAt,
        usedAt: now,
      });
      if (!spent) {
        await audit(work, tenantId, agent.telegram_user_id, 'console.sign_in_refused', {
          code: SignInRefusal.miniAppUsed,
        });
        return SignInRefusal.miniAppUsed;
      }
      return this.#openSession(
        work,
        tenantId,
        { ...agent, role: agent.role },
        userAgent,
        now,
        'mini_app',
      );
    });
    if (opened === SignInRefusal.miniAppNotAgent)
      throw new SignInRefusedError(opened, 'this Telegram account is not an active agent');
    if (opened === SignInRefusal.miniAppUsed)
      throw new SignInRefusedError(
        opened,
        'this Mini App data signed in already; close the console and open it from the bot again',
      );
    if (opened) return opened;
    throw new Error('the new console session was not found');
  }

  async #openSession(
    work: Work,
    tenantId: string,
    agent: { id: number; telegram_user_id: number; role: Role },
    userAgent: string | undefined,
    now: Date,
    via: 'link' | 'mini_app',
  ): Promise<{ secret: string; session: ConsoleSessionView } | undefined> {
    const secret = newSecret();
    const id = randomUUID();
    const sessions = new ConsoleSessionRepository(work.trx);
    await sessions.add({
      id,
      tenantId,
      secretHash: secretHash(secret),
      agentId: agent.id,
      role: agent.role,
      userAgent: userAgent?.slice(0, USER_AGENT_MAX) ?? null,
      now,
      expiresAt: new Date(now.getTime() + this.lifetimes.ttlMs),
    });
    await audit(work, tenantId, agent.telegram_user_id, 'console.sign_in', {
      sessionId: id,
      role: agent.role,
      via,
      userAgent: userAgent?.slice(0, USER_AGENT_MAX) ?? null,
    });
    const row = await sessions.findBySecret(tenantId, secretHash(secret));
    return row ? { secret, session: sessionView(row) } : undefined;
  }

  /** Why a link did not sign anyone in; a refusal of a known agent's link is audited. */
  async #refusal(tenantId: string, hash: string, now: Date): Promise<SignInRefusedError> {
    const link = await new ConsoleLinkRepository(this.uow.db).find(tenantId, hash);
    if (!link)
      return new SignInRefusedError(SignInRefusal.invalid, 'this sign-in link is not valid');
    const code =
      link.used_at !== null
        ? SignInRefusal.used
        : link.expires_at <= now
          ? SignInRefusal.expired
          : SignInRefusal.invalid;
    const agent = await new AgentRepository(this.uow.db).findById(tenantId, link.agent_id);
    if (agent) {
      // A used link opened again may be a stolen one: the owner of the link should know.
      await this.uow.run((work) =>
        audit(work, tenantId, agent.telegram_user_id, 'console.sign_in_refused', { code }),
      );
    }
    const message = {
      [SignInRefusal.used]: 'this sign-in link was used already; send /console to the bot again',
      [SignInRefusal.expired]: 'this sign-in link has expired; send /console to the bot again',
      [SignInRefusal.invalid]: 'this sign-in link is not valid',
    }[code];
    return new SignInRefusedError(code, message);
  }

  /**
   * The session a cookie secret opens: not revoked, not expired, not idle too long, and its
   * agent still active with a role; undefined otherwise. Notes the use (at most once a minute).
   */
  async authenticate(tenantId: string, secret: string): Promise<ConsoleSessionView | undefined> {
    const sessions = new ConsoleSessionRepository(this.uow.db);
    const row = await sessions.findBySecret(tenantId, secretHash(secret));
    const now = Date.now();
    if (
      !row ||
      row.revoked_at !== null ||
      row.expires_at.getTime() <= now ||
      row.last_seen_at.getTime() + this.lifetimes.idleMs <= now ||
      !row.agent_active ||
      !isRole(row.agent_role)
    )
      return undefined;
    if (now - row.last_seen_at.getTime() >= TOUCH_EVERY_MS) {
      const seen = new Date(now);
      await this.uow.one((db) => new ConsoleSessionRepository(db).touch(tenantId, row.id, seen));
      row.last_seen_at = seen;
    }
    return sessionView(row);
  }

  /**
   * The session a cookie secret opens, in whichever tenant it was opened (a cookie names no
   * tenant): its tenant and the session, as `authenticate` checks it; undefined otherwise.
   */
  async authenticateAnyTenant(
    secret: string,
  ): Promise<{ tenantId: string; session: ConsoleSessionView } | undefined> {
    const tenantId = await new ConsoleSessionRepository(this.uow.db).tenantOfSecret(
      secretHash(secret),
    );
    if (tenantId === undefined) return undefined;
    const session = await this.authenticate(tenantId, secret);
    return session && { tenantId, session };
  }

  /** Active sessions, newest first: everyone's, or one agent's (`agentId`). */
  async sessions(tenantId: string, agentId?: number): Promise<ConsoleSessionView[]> {
    const rows = await new ConsoleSessionRepository(this.uow.db).listActive(
      tenantId,
      new Date(),
      agentId,
    );
    const idleBefore = Date.now() - this.lifetimes.idleMs;
    return rows
      .filter((row) => row.last_seen_at.getTime() > idleBefore && row.agent_active)
      .map(sessionView);
  }

  /**
   * Ends a session (revocation by `actorId`, or the session's own sign-out); audited. False
   * when there is no active session by that id. `onlyAgentId`: only if it is theirs.
   */
  revoke(
    tenantId: string,
    actor: { actorId: string; action: 'console.sign_out' | 'console.session_revoke' },
    sessionId: string,
    onlyAgentId?: number,
  ): Promise<boolean> {
    return this.uow.run(async (work) => {
      const revoked = await new ConsoleSessionRepository(work.trx).revoke(
        tenantId,
        sessionId,
        new Date(),
        onlyAgentId,
      );
      if (!revoked) return false;
      await new AuditRepository(work.trx).record({
        tenantId,
        actorType: 'admin',
        actorId: actor.actorId,
        action: actor.action,
        details: { sessionId, agentId: revoked.agent_id },
      });
      return true;
    });
  }

  /** A request refused for its role (403 FORBIDDEN_ROLE): audited, like every admin action. */
  async recordDenial(
    tenantId: string,
    actorId: string,
    details: { method: string; route: string; permission: string; role: Role },
  ): Promise<void> {
    await this.uow.run((work) =>
      new AuditRepository(work.trx).record({
        tenantId,
        actorType: 'admin',
        actorId,
        action: 'access.denied',
        details,
      }),
    );
  }
}

function audit(
  work: Work,
  tenantId: string,
  telegramUserId: number,
  action: string,
  details: Record<string, unknown>,
): Promise<void> {
  return new AuditRepository(work.trx).record({
    tenantId,
    actorType: 'agent',
    actorId: String(telegramUserId),
    action,
    details,
  });
}
