import { metrics, type Histogram, type Meter } from '@opentelemetry/api';

/** The meter of the running process (a no-op meter before initTelemetry). */
export function meter(): Meter {
  return metrics.getMeter('topicdesk');
}

/**
 * Buckets for durations in seconds, from a fast ack (milliseconds) to a send that waited out
 * Telegram's per-group budget (minutes). The SDK's default buckets are meant for milliseconds.
 */
export const SECONDS_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600,
] as const;

/** A histogram of durations in seconds (`topicdesk_…_seconds`) with SECONDS_BUCKETS. */
export function secondsHistogram(name: string, description: string): Histogram {
  return meter().createHistogram(name, {
    description,
    unit: 's',
    advice: { explicitBucketBoundaries: [...SECONDS_BUCKETS] },
  });
}

/**
 * Instruments that more than one service records into (the gateway and the bridge, which share
 * one meter in one-process mode): created here so their descriptions always agree.
 */
export function messageInstruments() {
  const m = meter();
  return {
    messagesIn: m.createCounter('topicdesk_messages_in_total', {
      description: 'Messages stored, by kind: visitor (gateway) and agent (bridge)',
    }),
    messagesOut: m.createCounter('topicdesk_messages_out_total', {
      description:
        'Messages delivered, by kind: visitor messages to Telegram (bridge), messages written ' +
        'to visitor sockets (gateway)',
    }),
    deliveryLatency: secondsHistogram(
      'topicdesk_delivery_latency_seconds',
      'End-to-end delivery, by direction: to_telegram from a visitor message stored to Telegram ' +
        'accepting it (bridge); to_visitor from an agent message stored to its WebSocket frame ' +
        'written (gateway)',
    ),
  };
}
