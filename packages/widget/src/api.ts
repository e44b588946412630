import type {
  ConversationProfile,
  ConversationStarted,
  HistoryMessage,
  HistoryPage,
  IssuedToken,
  RatingRequest,
  RatingView,
  StartConversationRequest,
  UploadTicket,
} from '@topicdesk/protocol';

/** What the widget keeps between page loads: one conversation's short-lived credential. */
export type Session = ConversationStarted;

/** An answer of the visitor API with an error code (docs/errors.md), or a network failure. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    /** When a refusal that frees with time (`CONVERSATION_LIMIT`) may be tried again. */
    readonly retryAt?: string,
    /** INVALID_REQUEST's `details.issues`: `field: what is wrong`. */
    readonly issues: readonly string[] = [],
  ) {
    super(message);
  }

  /** An INVALID_REQUEST that names `field` (`email: …`). */
  refuses(field: string): boolean {
    return this.code === 'INVALID_REQUEST' && this.issues.some((i) => i.startsWith(`${field}:`));
  }

  /**
   * The credential is no use any more (an expired one may still be refreshed, a retired one
   * replaced by the token another tab refreshed).
   */
  get fatal(): boolean {
    return (
      (this.status === 401 && this.code !== 'TOKEN_EXPIRED' && this.code !== 'TOKEN_RETIRED') ||
      this.status === 403 ||
      this.status === 404
    );
  }
}

const HISTORY_PAGE = 500;

/** The body of `POST /v1/conversations` from this page: who (if known), the locale, the page. */
export function startRequest(
  locale: string,
  who: { name?: string | null | undefined; email?: string | undefined },
  /** Its `siteKey` (the snippet's data-site-key); none: the gateway's default site. */
  { siteKey }: { siteKey?: string | undefined },
): StartConversationRequest {
  const page = { url: location.origin + location.pathname, title: document.title.slice(0, 300) };
  // An undefined field is left out of the JSON.
  return {
    siteKey,
    name: who.name || undefined,
    email: who.email || undefined,
    // The gateway refuses other tags (400); the conversation starts without one instead.
    locale:
      locale.length <= 35 && /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(locale)
        ? locale
        : undefined,
    page: /^https?:/.test(page.url) ? page : undefined,
  };
}

/** The visitor REST API of one gateway origin. */
export class VisitorApi {
  constructor(readonly origin: string) {}

  socketUrl(token: string): string {
    return `${this.origin.replace(/^http/, 'ws')}/v1/ws?token=${encodeURIComponent(token)}`;
  }

  start(body: StartConversationRequest): Promise<Session> {
    return this.#call('POST', '/v1/conversations', undefined, body);
  }

  refresh(session: Session): Promise<IssuedToken> {
    return this.#call(
      'POST',
      `/v1/conversations/${session.conversationId}/token`,
      session.token,
      {},
    );
  }

  /** Every stored message after `after`, page by page. */
  async history(session: Session, after = 0): Promise<HistoryPage> {
    const all: HistoryMessage[] = [];
    for (;;) {
      const page = await this.#call<HistoryPage>(
        'GET',
        `/v1/conversations/${session.conversationId}/messages?after=${after}&limit=${HISTORY_PAGE}`,
        session.token,
      );
      all.push(...page.messages);
      const last = page.messages[page.messages.length - 1];
      if (page.messages.length < HISTORY_PAGE || !last) return { ...page, messages: all };
      after = last.seq;
    }
  }

  profile(session: Session): Promise<ConversationProfile> {
    return this.#call('GET', `/v1/conversations/${session.conversationId}`, session.token);
  }

  /** CSAT: the rating of the closed conversation (once; ALREADY_RATED after that). */
  rate(session: Session, body: RatingRequest): Promise<RatingView> {
    return this.#call(
      'POST',
      `/v1/conversations/${session.conversationId}/rating`,
      session.token,
      body,
    );
  }

  /** An upload link for one file (docs/contract.md, "Attachments"). */
  attachment(session: Session, file: File): Promise<UploadTicket> {
    return this.#call(
      'POST',
      `/v1/conversations/${session.conversationId}/attachments`,
      session.token,
      { name: file.name || 'file', type: file.type || 'application/octet-stream', size: file.size },
    );
  }

  setName(session: Session, name: string): Promise<ConversationProfile> {
    return this.#call(
      'POST',
      `/v1/conversations/${session.conversationId}/profile`,
      session.token,
      {
        name,
      },
    );
  }

  async #call<T>(method: string, path: string, token?: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {};
    if (token) headers['authorization'] = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(this.origin + path, {
        method,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
        credentials: 'omit',
        mode: 'cors',
      });
    } catch (error) {
      throw new ApiError('NETWORK', 0, error instanceof Error ? error.message : 'network error');
    }
    const json = (await response.json().catch(() => ({}))) as {
      error?: {
        code?: string;
        message?: string;
        details?: { retryAfterMs?: unknown; issues?: unknown };
      };
    };
    if (!response.ok) {
      const code = json.error?.code ?? 'UNAVAILABLE';
      const { retryAfterMs: wait, issues } = json.error?.details ?? {};
      throw new ApiError(
        code,
        response.status,
        json.error?.message ?? response.statusText,
        code === 'CONVERSATION_LIMIT' && typeof wait === 'number'
          ? new Date(Date.now() + wait).toISOString()
          : undefined,
        Array.isArray(issues) ? issues.filter((i): i is string => typeof i === 'string') : [],
      );
    }
    return json as T;
  }
}
