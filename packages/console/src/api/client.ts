import createClient, { type Client } from 'openapi-fetch';
import type { paths } from './schema.gen';

export type { paths };

/** An error answer of the API: `{ error: { code, message } }` with a stable code (docs/errors.md). */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }

  static async from(response: Response, body?: unknown): Promise<ApiError> {
    const parsed: unknown = body ?? (await response.json().catch(() => undefined));
    const error = (parsed as { error?: { code?: unknown; message?: unknown } } | null)?.error;
    return new ApiError(
      response.status,
      typeof error?.code === 'string' ? error.code : `HTTP_${response.status}`,
      typeof error?.message === 'string' ? error.message : response.statusText,
    );
  }
}

export interface ConsoleClientOptions {
  /** The gateway's origin; in the page, its own. */
  baseUrl: string;
  /** The session's CSRF token, sent with every change (POST, PUT, DELETE). */
  csrfToken?: () => string | undefined;
  /** Headers for every request: a test's `cookie` and `origin`; a page needs none. */
  headers?: Record<string, string>;
  fetch?: typeof fetch;
}

/** JSON answers only: a route that answers CSV or text too is typed by its JSON answer. */
export type ConsoleClient = Client<paths, 'application/json'>;

/**
 * The typed client of the admin and console API, generated from /openapi.json (schema.gen.ts):
 * paths, parameters, bodies and answers are checked by TypeScript; the answers' types are the
 * schemas the gateway's routes declare, named for the pages in views.ts.
 */
export function createConsoleClient(options: ConsoleClientOptions): ConsoleClient {
  const client = createClient<paths, 'application/json'>({
    baseUrl: options.baseUrl,
    credentials: 'same-origin',
    ...(options.headers ? { headers: options.headers } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  client.use({
    onRequest({ request }) {
      const token = options.csrfToken?.();
      if (request.method !== 'GET' && token) request.headers.set('x-csrf-token', token);
      return request;
    },
  });
  return client;
}

/** The answer's body as the document types it, or an ApiError for an error answer. */
export async function expect<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok) throw await ApiError.from(response, error);
  return data as T;
}

/** `?a=1&b=2` of the values set, or ''. */
export function queryString(query: Record<string, string | number | undefined | null>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query))
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  const text = params.toString();
  return text ? `?${text}` : '';
}
