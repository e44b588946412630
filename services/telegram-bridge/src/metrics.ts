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
      description: 'Sends waiting for Telegram budget (the queue depth of this replica)',
    }),
    sendWait: m.createHistogram('topicdesk_telegram_send_wait_seconds', {
      description: 'Time a call waited in the queue for budget, by priority (normal, cosmetic)',
      unit: 's',
      advice: { explicitBucketBoundaries: [0.01, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600] },
    }),
    botSends: m.createCounter('topicdesk_telegram_bot_sends_total', {
      description: 'Calls given budget, by bot id and priority: how the pool shares the work',
    }),
    groupCalls: m.createCounter('topicdesk_telegram_group_calls_total', {
      description:
        'Calls that show up in a support group, by purpose (topic, header, text, post, rename, header_edit, pin, close, reopen)',
    }),
    webhookAuthFailures: m.createCounter('topicdesk_webhook_auth_failures_total', {
      description: 'Webhook calls refused for a wrong secret, by reason (path or header)',
    }),
    updatesIgnored: m.createCounter('topicdesk_telegram_updates_ignored_total', {
      description: 'Updates ignored, by reason',
    }),
    syncsDeferred: m.createCounter('topicdesk_telegram_syncs_deferred_total', {
      description:
        "Conversation syncs handed back because their tenant held its fair share of the replica's syncs",
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
