import { DEFAULT_TENANT_ID } from '@topicdesk/core';
import { SpanKind, SpanStatusCode, tenantLabel, withSpan } from '@topicdesk/telemetry';
import { Api, GrammyError, HttpError } from 'grammy';
import type { BridgeMetrics } from '../metrics';

/** What a failed Bot API call means for the caller. */
export type TelegramFailure =
  | { kind: 'rate_limited'; retryAfterMs: number }
  | { kind: 'topic_missing' }
  | { kind: 'topic_closed' }
  | { kind: 'topic_not_modified' }
  | { kind: 'rejected'; description: string }
  | { kind: 'transient'; description: string };

export function classifyTelegramError(error: unknown): TelegramFailure {
  if (error instanceof GrammyError) {
    const description = error.description;
    if (error.error_code === 429) {
      return {
        kind: 'rate_limited',
        retryAfterMs: Math.max(1, error.parameters.retry_after ?? 1) * 1000,
      };
    }
    if (error.error_code >= 500) return { kind: 'transient', description };
    // A wrong token, a bot removed from the group or without rights: an operator fixes that,
    // and the messages wait for it instead of failing for good.
    if (
      error.error_code === 401 ||
      error.error_code === 403 ||
      /chat not found|not enough rights/i.test(description)
    ) {
      return { kind: 'transient', description };
    }
    if (/message thread not found|TOPIC_DELETED|thread not found/i.test(description))
      return { kind: 'topic_missing' };
    if (/TOPIC_CLOSED/i.test(description)) return { kind: 'topic_closed' };
    if (/TOPIC_NOT_MODIFIED/i.test(description)) return { kind: 'topic_not_modified' };
    return { kind: 'rejected', description };
  }
  if (error instanceof HttpError) return { kind: 'transient', description: error.message };
  return { kind: 'transient', description: error instanceof Error ? error.message : String(error) };
}

/** Long polls: a new call after a failed one is the loop going on, not a retry of a message. */
const UNTRACKED_METHODS: ReadonlySet<string> = new Set(['getUpdates']);
const RETRY_MEMORY_MS = 10 * 60_000;
const RETRY_MEMORY_SIZE = 10_000;

/**
 * Remembers Bot API calls that failed, by method and target (chat, topic, topic name), so the
 * next call of the same kind to the same target counts as a retry of it: after a 429, a 5xx or a
 * network error the bridge sends again on a later attempt (possibly merged with newer messages),
 * which is still the same delivery as far as an operator is concerned.
 */
export class RetryTracker {
  readonly #failed = new Map<string, { failures: number; at: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  static key(method: string, payload: unknown): string | undefined {
    if (UNTRACKED_METHODS.has(method)) return undefined;
    const p = (payload ?? {}) as Record<string, unknown>;
    const part = (value: unknown) =>
      typeof value === 'string' || typeof value === 'number' ? String(value) : '';
    return [method, part(p['chat_id']), part(p['message_thread_id']), part(p['name'])].join('|');
  }

  /** How many failed calls of this kind came right before (0 for a first attempt). */
  previousFailures(key: string | undefined): number {
    if (key === undefined) return 0;
    const entry = this.#failed.get(key);
    if (!entry) return 0;
    if (this.now() - entry.at > RETRY_MEMORY_MS) {
      this.#failed.delete(key);
      return 0;
    }
    return entry.failures;
  }

  failed(key: string | undefined): void {
    if (key === undefined) return;
    const failures = this.previousFailures(key) + 1;
    this.#failed.delete(key);
    this.#failed.set(key, { failures, at: this.now() });
    // Oldest first in a Map: drop from the front when full.
    for (const oldest of this.#failed.keys()) {
      if (this.#failed.size <= RETRY_MEMORY_SIZE) break;
      this.#failed.delete(oldest);
    }
  }

  succeeded(key: string | undefined): void {
    if (key !== undefined) this.#failed.delete(key);
  }
}

/**
 * grammY's Api with every call traced and counted: a CLIENT span `telegram <method>` (chat and
 * topic ids, HTTP status, Telegram's error code, retry_after, and the retry count) whose context
 * reaches the HTTP request, and the call/error/429/retry counters, by method and code.
 */
export function createTelegramApi(
  token: string,
  apiRoot: string,
  metrics: BridgeMetrics,
  timeoutSeconds = 20,
  retries = new RetryTracker(),
  /** The tenant whose bot this is (its calls and 429s are labelled with it, bounded). */
  tenantId: string = DEFAULT_TENANT_ID,
): Api {
  // grammY's default timeout is 500 s; a send must fail fast enough to be retried.
  const api = new Api(token, { apiRoot: apiRoot.replace(/\/+$/, ''), timeoutSeconds });
  // Per-bot labels: with a pool of sender bots, each bot's budget use and 429s show apart. A bot
  // is one tenant's, so its tenant label adds no series.
  const bot = botIdOf(token);
  const tenant = tenantLabel(tenantId);
  api.config.use(async (prev, method, payload, signal) => {
    const key = RetryTracker.key(method, payload);
    const previousFailures = retries.previousFailures(key);
    const target = (payload ?? {}) as Record<string, unknown>;
    const attributes: Record<string, string | number> = {
      'rpc.system': 'telegram_bot_api',
      'rpc.method': method,
      'telegram.bot_id': bot,
      'telegram.retry_count': previousFailures,
    };
    for (const [field, attribute] of [
      ['chat_id', 'telegram.chat_id'],
      ['message_thread_id', 'telegram.message_thread_id'],
    ] as const) {
      const value = target[field];
      // A positive chat id is a private chat, i.e. a user's Telegram id: never in a span.
      if (field === 'chat_id' && Number(value) > 0) continue;
      if (typeof value === 'number' || typeof value === 'string') attributes[attribute] = value;
    }
    if (previousFailures > 0) metrics.telegramRetries.add(1, { method });
    return withSpan(`telegram ${method}`, { kind: SpanKind.CLIENT, attributes }, async (span) => {
      try {
        const result = await prev(method, payload, signal);
        if (result.ok) {
          span.setAttribute('http.response.status_code', 200);
          metrics.telegramCalls.add(1, { method, code: 200, bot, tenant });
          retries.succeeded(key);
          return result;
        }
        const code = result.error_code;
        span.setAttributes({
          'http.response.status_code': code,
          'telegram.error_code': code,
          ...(result.parameters?.retry_after !== undefined
            ? { 'telegram.retry_after': result.parameters.retry_after }
            : {}),
        });
        span.setStatus({ code: SpanStatusCode.ERROR, message: result.description });
        metrics.telegramCalls.add(1, { method, code, bot, tenant });
        metrics.telegramErrors.add(1, { method, code, bot, tenant });
        if (code === 429) metrics.telegram429.add(1, { method, bot, tenant });
        // A refusal (400) is final for this payload; only what is retried later is a failure
        // to remember.
        if (code === 429 || code >= 500) retries.failed(key);
        else retries.succeeded(key);
        return result;
      } catch (error) {
        span.setAttribute('telegram.error_code', 'network');
        metrics.telegramCalls.add(1, { method, code: 'network', bot, tenant });
        metrics.telegramErrors.add(1, { method, code: 'network', bot, tenant });
        retries.failed(key);
        throw error;
      }
    });
  });
  return api;
}

export function botIdOf(token: string): string {
  return token.slice(0, token.indexOf(':'));
}
