import { messageInstruments, meter } from '@topicdesk/telemetry';

/** The bridge's instruments; names and labels are listed in packages/telemetry/README.md. */
export function createBridgeMetrics() {
  const m = meter();
  const { messagesIn, messagesOut, deliveryLatency } = messageInstruments();
  return {
    telegramCalls: m.createCounter('topicdesk_telegram_calls_total', {
      description: 'Bot API calls, by method and result code (200, error_code, or network)',
    }),
    telegramErrors: m.createCounter('topicdesk_telegram_errors_total', {
      description: 'Bot API calls that failed, by method and code (error_code, or network)',
    }),
    telegramRetries: m.createCounter('topicdesk_telegram_retries_total', {
      description: 'Bot API calls repeating a failed call to the same chat and topic, by method',
    }),
    telegram429: m.createCounter('topicdesk_telegram_429_total', {
      description: 'Bot API calls answered 429 Too Many Requests, by method',
    }),
    waitingForBudget: m.createUpDownCounter('topicdesk_telegram_sends_waiting', {
      description: 'Sends waiting for Telegram budget',
    }),
    webhookAuthFailures: m.createCounter('topicdesk_webhook_auth_failures_total', {
      description: 'Webhook calls refused for a wrong secret, by reason (path or header)',
    }),
    updatesIgnored: m.createCounter('topicdesk_telegram_updates_ignored_total', {
      description: 'Updates ignored, by reason',
    }),
    /** Agent messages stored (`kind="agent"`). */
    messagesIn,
    /** Visitor messages Telegram accepted (`kind="visitor"`). */
    messagesOut,
    /** Visitor message stored → Telegram accepted it (`direction="to_telegram"`). */
    deliveryLatency: {
      record: (seconds: number) => deliveryLatency.record(seconds, { direction: 'to_telegram' }),
    },
  };
}
export type BridgeMetrics = ReturnType<typeof createBridgeMetrics>;
