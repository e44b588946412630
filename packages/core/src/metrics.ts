import type { Conversation } from '@topicdesk/data';
import { meter, tenantLabel } from '@topicdesk/telemetry';

/**
 * Buckets for the support figures of docs/reports.md, in seconds: from an answer within ten
 * seconds to a conversation resolved after a week.
 */
export const SUPPORT_SECONDS_BUCKETS = [
  10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14_400, 28_800, 86_400, 172_800, 604_800,
] as const;

/**
 * The conversation figures as Prometheus histograms, observed when they happen (after the
 * commit that records them), by whichever service records them: the bridge for first responses,
 * any service that closes a conversation for resolutions. Instruments are created when a service
 * is built (after telemetry starts); the SDK hands the same instrument to every caller.
 */
export function conversationMetrics() {
  const histogram = (name: string, description: string) =>
    meter().createHistogram(name, {
      description,
      unit: 's',
      advice: { explicitBucketBoundaries: [...SUPPORT_SECONDS_BUCKETS] },
    });
  // Per tenant by nature: labelled with the bounded `tenant` (METRICS_TENANT_LABELS).
  const started = meter().createCounter('topicdesk_conversations_started_total', {
    description: 'Conversations started, by channel and tenant',
  });
  return {
    /** One conversation started (after the commit that created it). */
    countStarted: (conversation: Pick<Conversation, 'channel' | 'tenant_id'>) =>
      started.add(1, {
        channel: conversation.channel,
        tenant: tenantLabel(conversation.tenant_id),
      }),
    firstResponse: histogram(
      'topicdesk_first_response_seconds',
      "From a conversation's first visitor message to the first agent reply (docs/reports.md), by channel",
    ),
    resolution: histogram(
      'topicdesk_resolution_seconds',
      "From a conversation's first visitor message to its close (docs/reports.md), by channel",
    ),
  };
}
export type ConversationMetrics = ReturnType<typeof conversationMetrics>;

/** Seconds from `from` to `to`, or undefined when there is no start (the agents wrote first). */
export function secondsBetween(from: Date | null | undefined, to: Date): number | undefined {
  return from ? Math.max(0, (to.getTime() - from.getTime()) / 1000) : undefined;
}

/**
 * The team's figures: conversations given to agents (`how`: `auto` by automatic assignment,
 * `claim` by an agent), how long each waited for that (from its start, or since it was given
 * back or escalated), and escalations (`by`: `agent` or `sla`; `level`: the new one).
 */
export function teamMetrics() {
  const m = meter();
  return {
    assignments: m.createCounter('topicdesk_assignments_total', {
      description: 'Conversations given to an agent, by how (auto, claim)',
    }),
    queueWait: m.createHistogram('topicdesk_queue_wait_seconds', {
      description:
        'How long a conversation waited for an agent (since its start, an unclaim or an escalation), by how it was taken (auto, claim)',
      unit: 's',
      advice: { explicitBucketBoundaries: [...SUPPORT_SECONDS_BUCKETS] },
    }),
    escalations: m.createCounter('topicdesk_escalations_total', {
      description: 'Conversations moved up a level, by who (agent, sla) and the new level',
    }),
  };
}
export type TeamMetrics = ReturnType<typeof teamMetrics>;

/**
 * Data-subject requests (docs/console.md): `kind` `export` or `erase`, `by` `admin` (the admin
 * API) or `visitor` (the private chat's /mydata, /forget); an erase counts each conversation.
 */
export function dataRequestMetrics() {
  return {
    requests: meter().createCounter('topicdesk_data_requests_total', {
      description:
        'Data-subject exports and erasures, by kind (export, erase) and by (admin, visitor)',
    }),
  };
}
