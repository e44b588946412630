import { messageInstruments, meter, secondsHistogram } from '@topicdesk/telemetry';

/** The gateway's instruments; names and labels are listed in packages/telemetry/README.md. */
export function createGatewayMetrics() {
  const m = meter();
  const { messagesIn, messagesOut, deliveryLatency } = messageInstruments();
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
    /** Visitor messages stored (`kind="visitor"`). */
    messagesIn,
    /** `message` frames written to visitor sockets, live or on resume, by kind. */
    messagesOut,
    ackLatency: secondsHistogram(
      'topicdesk_ack_latency_seconds',
      'From a visitor frame received to its ack (stored durably)',
    ),
    /** Agent message stored → its frame written to a visitor socket (`direction="to_visitor"`). */
    deliveryLatency: {
      record: (seconds: number) => deliveryLatency.record(seconds, { direction: 'to_visitor' }),
    },
    rateLimited: m.createCounter('topicdesk_rate_limit_hits_total', {
      description: 'Requests or frames refused by a limit, by scope',
    }),
    /** Admin and console requests refused by the access hook, by `code`. */
    accessRefused: m.createCounter('topicdesk_admin_access_refused_total', {
      description: 'Admin API requests refused by authentication, CSRF or role, by code',
    }),
    /** Console sign-ins by `outcome`: `signed_in` or the refusal's code. */
    signIns: m.createCounter('topicdesk_console_sign_ins_total', {
      description: 'Console sign-ins through a link, by outcome',
    }),
    /** Open console overview streams (Server-Sent Events) on this replica. */
    overviewStreams: m.createUpDownCounter('topicdesk_console_overview_streams', {
      description: 'Open console overview event streams',
    }),
  };
}
export type GatewayMetrics = ReturnType<typeof createGatewayMetrics>;
