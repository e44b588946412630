import { meter } from '@topicdesk/telemetry';

export function createBridgeMetrics() {
  const m = meter();
  return {
    telegramCalls: m.createCounter('topicdesk_telegram_calls_total', {
      description: 'Bot API calls, by method and result code',
    }),
    telegram429: m.createCounter('topicdesk_telegram_429_total', {
      description: 'Bot API calls answered 429 Too Many Requests',
    }),
    waitingForBudget: m.createUpDownCounter('topicdesk_telegram_sends_waiting', {
      description: 'Sends waiting for Telegram budget',
    }),
    webhookAuthFailures: m.createCounter('topicdesk_webhook_auth_failures_total', {
      description: 'Webhook calls refused for a wrong secret',
    }),
    updatesIgnored: m.createCounter('topicdesk_telegram_updates_ignored_total', {
      description: 'Updates ignored, by reason',
    }),
    messagesIn: m.createCounter('topicdesk_messages_in_total', {
      description: 'Messages stored from agents, by kind',
    }),
    messagesOut: m.createCounter('topicdesk_messages_out_total', {
      description: 'Visitor messages delivered to Telegram, by kind',
    }),
    deliveryLatency: m.createHistogram('topicdesk_delivery_latency_seconds', {
      description: 'From a visitor message stored to Telegram accepting it',
      unit: 's',
    }),
  };
}
export type BridgeMetrics = ReturnType<typeof createBridgeMetrics>;
