// The plugin's calls to Topicdesk's bot-channel API (docs/bot-channels.md of Topicdesk): plain
// fetch, the channel secret as Bearer, and every call retried with the same body — its
// `updateId` is the idempotency key — until Topicdesk acknowledges it, with a bounded backoff.

/** What Topicdesk answers a user's action with. */
export interface TurnAnswer {
  /**
   * `stored` (a message reached the agents), `command` (support started, ended, rated),
   * `refused` (a limit, or nothing to end), `duplicate` (a retry of an applied call),
   * `ignored:not_in_support` (the user has no open conversation: the text is the bot's).
   */
  outcome: string;
  /** Whether the user has an open conversation after the call. */
  inSupport: boolean;
  /** Texts to show the user (limits, "already connected"…), each with an optional button. */
  answers: Array<{ text: string; button?: { text: string; callbackData: string } }>;
  /** The text of a pressed button's toast ('' for none). */
  toast: string;
}

/** Who a call is about: the update it comes from, and its user. */
export interface TurnInput {
  /** The update's `update_id`: the idempotency key. */
  updateId: number;
  /** The user's Telegram id (their chat with the bot); Topicdesk stores it only encrypted. */
  userId: number;
  locale?: string | undefined;
  segment?: string | undefined;
}

export interface RetryOptions {
  /** Tries in all before a call fails with TopicdeskUnavailableError (default 8). */
  attempts?: number;
  /** First wait between tries, doubled each time (default 500 ms). */
  baseDelayMs?: number;
  /** Longest wait between tries (default 15 s). */
  maxDelayMs?: number;
}

export interface ClientOptions {
  /** Topicdesk's public URL (the gateway), e.g. `https://support.example.com`. */
  url: string;
  /** The channel secret `POST /v1/admin/bot-channels` returned. */
  channelSecret: string;
  retry?: RetryOptions | undefined;
  /** A fetch of your own (default: the global one, Node 20+). */
  fetch?: typeof fetch | undefined;
  /** How long one try may take (default 10 s). */
  timeoutMs?: number | undefined;
}

/** Topicdesk refused the call for good (a bad secret, a bad request): no retry helps. */
export class TopicdeskError extends Error {
  override readonly name = 'TopicdeskError';
  constructor(
    /** The stable code of Topicdesk's error table (CHANNEL_SECRET_INVALID, INVALID_REQUEST…). */
    readonly code: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** Topicdesk did not acknowledge the call after every try (down, or unreachable). */
export class TopicdeskUnavailableError extends Error {
  override readonly name = 'TopicdeskUnavailableError';
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The wait before try `attempt` (1-based, after a failure): doubling, capped, jittered. */
export function backoffMs(attempt: number, retry: Required<RetryOptions>): number {
  const base = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(base / 2 + (Math.random() * base) / 2);
}

/** The bot-channel API of one Topicdesk, for one channel. */
export class TopicdeskClient {
  readonly #base: string;
  readonly #retry: Required<RetryOptions>;
  readonly #fetch: typeof fetch;
  readonly #timeoutMs: number;

  constructor(private readonly options: ClientOptions) {
    this.#base = options.url.replace(/\/+$/, '');
    this.#retry = {
      attempts: options.retry?.attempts ?? 8,
      baseDelayMs: options.retry?.baseDelayMs ?? 500,
      maxDelayMs: options.retry?.maxDelayMs ?? 15_000,
    };
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
  }

  support(input: TurnInput): Promise<TurnAnswer> {
    return this.#send('POST', '/v1/channels/bot/support', input);
  }

  message(input: TurnInput & { messageId: number; text: string }): Promise<TurnAnswer> {
    return this.#send('POST', '/v1/channels/bot/messages', input);
  }

  end(input: TurnInput & { conversationId?: string | undefined }): Promise<TurnAnswer> {
    return this.#send('POST', '/v1/channels/bot/end', input);
  }

  rate(input: TurnInput & { conversationId: string; rating: number }): Promise<TurnAnswer> {
    return this.#send('POST', '/v1/channels/bot/rating', input);
  }

  /** The users with an open conversation: who is in support after a restart of the bot. */
  async usersInSupport(): Promise<number[]> {
    const answer = await this.#send<{ userIds: number[] }>('GET', '/v1/channels/bot/users');
    return answer.userIds;
  }

  async #send<T>(method: 'GET' | 'POST', path: string, body?: object): Promise<T> {
    let last: unknown;
    for (let attempt = 1; attempt <= this.#retry.attempts; attempt++) {
      if (attempt > 1) await sleep(backoffMs(attempt - 1, this.#retry));
      let response: Response;
      try {
        response = await this.#fetch(`${this.#base}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${this.options.channelSecret}`,
            ...(body ? { 'content-type': 'application/json' } : {}),
          },
          ...(body ? { body: JSON.stringify(body) } : {}),
          signal: AbortSignal.timeout(this.#timeoutMs),
        });
      } catch (error) {
        // Network error or timeout: the call may or may not have landed; the retry is
        // deduplicated by its update id.
        last = error;
        continue;
      }
      if (response.ok) return (await response.json()) as T;
      const failure = await errorOf(response);
      // 429 and 5xx pass; every other refusal is final.
      if (response.status !== 429 && response.status < 500)
        throw new TopicdeskError(failure.code, failure.message, response.status);
      last = new TopicdeskError(failure.code, failure.message, response.status);
    }
    throw new TopicdeskUnavailableError(
      `Topicdesk did not acknowledge ${method} ${path} after ${this.#retry.attempts} tries`,
      { cause: last },
    );
  }
}

async function errorOf(response: Response): Promise<{ code: string; message: string }> {
  try {
    const body = (await response.json()) as { error?: { code?: unknown; message?: unknown } };
    return {
      code: typeof body.error?.code === 'string' ? body.error.code : `HTTP_${response.status}`,
      message: typeof body.error?.message === 'string' ? body.error.message : response.statusText,
    };
  } catch {
    return { code: `HTTP_${response.status}`, message: response.statusText };
  }
}
