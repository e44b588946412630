import { ApiError, type VisitorApi, type Session } from './api';
import type { SessionStore } from './session-store';

/** Refresh this long before expiry (or at 80% of what is left, for short-lived tokens). */
const REFRESH_AHEAD_MS = 60_000;

export interface CredentialHooks {
  /** Whether the conversation is worth storing for later visits (it is open). */
  keep(): boolean;
  /** The token can no longer be renewed: that conversation is out of reach. */
  lost(): void;
}

/**
 * The conversation's short-lived token: refreshed ahead of expiry, one refresh at a time (each
 * retires the token it replaces), shared with other tabs through the store, and retried once
 * when the gateway says a call's token expired.
 */
export class Credential {
  session: Session | undefined;
  /** The socket was refused or closed for its token: refresh before connecting again. */
  needsRefresh = false;
  #refreshing: Promise<void> | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly api: VisitorApi,
    private readonly store: SessionStore,
    private readonly hooks: CredentialHooks,
  ) {}

  expiresSoon(withinMs = 30_000): boolean {
    return !!this.session && Date.parse(this.session.expiresAt) - Date.now() < withinMs;
  }

  refresh(): Promise<void> {
    this.#refreshing ??= this.#refreshOnce().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  /**
   * Calls the API with the current token; when the gateway says it expired (our clock may be
   * behind), refreshes once and calls again. Undefined when the conversation was forgotten.
   */
  async authorized<T>(call: (session: Session) => Promise<T>): Promise<T | undefined> {
    if (!this.session) return undefined;
    try {
      return await call(this.session);
    } catch (error) {
      if (
        !(error instanceof ApiError) ||
        (error.code !== 'TOKEN_EXPIRED' && error.code !== 'TOKEN_RETIRED')
      )
        throw error;
      await this.refresh();
      return this.session ? call(this.session) : undefined;
    }
  }

  schedule(): void {
    clearTimeout(this.#timer);
    const session = this.session;
    if (!session) return;
    const left = Date.parse(session.expiresAt) - Date.now();
    const delay = Math.max(1000, left - Math.min(REFRESH_AHEAD_MS, left * 0.2));
    this.#timer = setTimeout(() => {
      this.refresh().catch(() => {
        // Offline or the gateway is busy: try again soon; the grace period is long.
        this.#timer = setTimeout(() => this.schedule(), 15_000);
      });
    }, delay);
  }

  /** Takes `other` (another tab's token for this conversation) when it lives longer. */
  takeNewer(other: Session): void {
    if (!this.session || Date.parse(other.expiresAt) <= Date.parse(this.session.expiresAt)) return;
    this.session = other;
    this.schedule();
  }

  clear(): void {
    this.session = undefined;
    clearTimeout(this.#timer);
  }

  async #refreshOnce(): Promise<void> {
    const session = this.session;
    if (!session) return;
    try {
      const fresh = await this.api.refresh(session);
      if (this.session?.conversationId !== session.conversationId) return;
      this.session = { ...session, ...fresh };
      if (this.hooks.keep()) this.store.save(this.session);
      this.needsRefresh = false;
      this.schedule();
    } catch (error) {
      // Another tab refreshed first (a refresh retires the token it replaces): take its token.
      if (error instanceof ApiError && error.code === 'TOKEN_RETIRED' && this.#adoptStored(session))
        return;
      // Past the refresh grace the token cannot be renewed: that conversation is out of reach.
      if (
        error instanceof ApiError &&
        (error.fatal || error.code === 'TOKEN_EXPIRED' || error.code === 'TOKEN_RETIRED')
      )
        return this.hooks.lost();
      throw error;
    }
  }

  /** Takes the stored token of this conversation if it is another than `session`'s. */
  #adoptStored(session: Session): boolean {
    const stored = this.store.load();
    if (stored?.conversationId !== session.conversationId || stored.token === session.token)
      return false;
    this.session = stored;
    this.needsRefresh = false;
    this.schedule();
    return true;
  }
}
