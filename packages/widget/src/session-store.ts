import type { Session } from './api';

function isSession(value: unknown): value is Session {
  if (!value || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v['conversationId'] === 'string' &&
    typeof v['ticket'] === 'string' &&
    typeof v['token'] === 'string' &&
    typeof v['expiresAt'] === 'string'
  );
}

/**
 * The one thing the widget stores in the browser: the open conversation's id, ticket and
 * short-lived token, under a key per gateway origin, in localStorage so that other tabs and
 * return visits find it. Storage that throws (disabled, private mode) degrades to this page only.
 */
export class SessionStore {
  readonly key: string;
  #memory: Session | undefined;

  constructor(origin: string) {
    this.key = `topicdesk:${origin}`;
  }

  load(): Session | undefined {
    try {
      const raw = localStorage.getItem(this.key);
      return raw ? this.parse(raw) : this.#memory;
    } catch {
      return this.#memory;
    }
  }

  save(session: Session): void {
    this.#memory = session;
    try {
      localStorage.setItem(
        this.key,
        JSON.stringify({
          conversationId: session.conversationId,
          ticket: session.ticket,
          token: session.token,
          expiresAt: session.expiresAt,
        }),
      );
    } catch {
      // Kept in memory above: the conversation lasts as long as this page.
    }
  }

  clear(): void {
    this.#memory = undefined;
    try {
      localStorage.removeItem(this.key);
    } catch {
      // Nothing was stored, or nothing can be: forgetting it in memory above is all there is.
    }
  }

  parse(raw: string | null): Session | undefined {
    if (!raw) return undefined;
    try {
      const value: unknown = JSON.parse(raw);
      return isSession(value) ? value : undefined;
    } catch {
      return undefined;
    }
  }
}
