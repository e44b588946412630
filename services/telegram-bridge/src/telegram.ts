import { Api, GrammyError, HttpError } from 'grammy';
import type { BridgeMetrics } from './metrics';

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
    if (/message thread not found|TOPIC_DELETED|thread not found/i.test(description))
      return { kind: 'topic_missing' };
    if (/TOPIC_CLOSED/i.test(description)) return { kind: 'topic_closed' };
    if (/TOPIC_NOT_MODIFIED/i.test(description)) return { kind: 'topic_not_modified' };
    return { kind: 'rejected', description };
  }
  if (error instanceof HttpError) return { kind: 'transient', description: error.message };
  return { kind: 'transient', description: error instanceof Error ? error.message : String(error) };
}

/** grammY's Api with every call counted by method and outcome. */
export function createTelegramApi(
  token: string,
  apiRoot: string,
  metrics: BridgeMetrics,
  timeoutSeconds = 20,
): Api {
  // grammY's default timeout is 500 s; a send must fail fast enough to be retried.
  const api = new Api(token, { apiRoot: apiRoot.replace(/\/+$/, ''), timeoutSeconds });
  api.config.use(async (prev, method, payload, signal) => {
    try {
      const result = await prev(method, payload, signal);
      metrics.telegramCalls.add(1, { method, code: result.ok ? 200 : result.error_code });
      if (!result.ok && result.error_code === 429) metrics.telegram429.add(1, { method });
      return result;
    } catch (error) {
      metrics.telegramCalls.add(1, { method, code: 'network' });
      throw error;
    }
  });
  return api;
}

export function botIdOf(token: string): string {
  return token.slice(0, token.indexOf(':'));
}
