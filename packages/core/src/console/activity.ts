import type { Fanout } from '@topicdesk/fanout';
import type { Logger } from '@topicdesk/telemetry';

/**
 * The fanout channel on which every process says "a conversation of this tenant changed" (one
 * started, changed status or holder, got a message). The console's live overview listens on it,
 * on whichever gateway replica holds the browser; conversation ids are uuids, so the name cannot
 * clash with a conversation's own channel.
 */
export function activityChannel(tenantId: string): string {
  return `activity:${tenantId}`;
}

/** What crosses the activity channel: only that something changed, never what. */
export interface ActivityEvent {
  type: 'activity';
  [key: string]: unknown;
}

/** How often one process tells a tenant's activity at most (the listeners coalesce further). */
const DEFAULT_INTERVAL_MS = 250;

/**
 * Tells the activity channel that a tenant's conversations changed, at most once per interval
 * per tenant from this process: the first change at once, those that follow within the
 * interval as one more at its end. The outbox relay calls it for every row it publishes, so
 * whatever announces a change (a gateway, a bridge, the scheduler) is heard.
 */
export class ActivitySignal {
  readonly #windows = new Map<string, { timer: NodeJS.Timeout; again: boolean }>();

  constructor(
    private readonly fanout: Fanout,
    private readonly logger: Logger,
    private readonly intervalMs = DEFAULT_INTERVAL_MS,
  ) {}

  changed(tenantId: string): void {
    const window = this.#windows.get(tenantId);
    if (window) {
      window.again = true;
      return;
    }
    this.#tell(tenantId);
  }

  #tell(tenantId: string): void {
    const timer = setTimeout(() => {
      const ended = this.#windows.get(tenantId);
      this.#windows.delete(tenantId);
      if (ended?.again) this.#tell(tenantId);
    }, this.intervalMs);
    timer.unref();
    this.#windows.set(tenantId, { timer, again: false });
    const event: ActivityEvent = { type: 'activity' };
    this.fanout.publish(activityChannel(tenantId), event).catch((error: unknown) => {
      // The overview's next change, or its own heartbeat refresh, catches up.
      this.logger.warn({ err: error, tenantId }, 'could not tell the console of activity');
    });
  }

  /** Drops the pending trailing signals (at shutdown). */
  stop(): void {
    for (const window of this.#windows.values()) clearTimeout(window.timer);
    this.#windows.clear();
  }
}
