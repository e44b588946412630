import { meter } from '@topicdesk/telemetry';

export function createGatewayMetrics() {
  const m = meter();
  return {
    connections: m.createUpDownCounter('topicdesk_ws_connections', {
      description: 'Open visitor WebSocket connections',
    }),
    framesIn: m.createCounter('topicdesk_ws_frames_in_total', {
      description: 'WS frames received from visitors',
    }),
    framesOut: m.createCounter('topicdesk_ws_frames_out_total', {
      description: 'WS frames sent to visitors, by type',
    }),
    messagesIn: m.createCounter('topicdesk_messages_in_total', {
      description: 'Messages stored from visitors, by kind',
    }),
    messagesOut: m.createCounter('topicdesk_messages_out_total', {
      description: 'Messages delivered live to visitor sockets, by kind',
    }),
    ackLatency: m.createHistogram('topicdesk_ack_latency_seconds', {
      description: 'From a visitor frame received to its ack (stored durably)',
      unit: 's',
    }),
    rateLimited: m.createCounter('topicdesk_rate_limit_hits_total', {
      description: 'Requests or frames refused by a limit, by scope',
    }),
  };
}
export type GatewayMetrics = ReturnType<typeof createGatewayMetrics>;
