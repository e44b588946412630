import { ConversationService, type OutboxRelay } from '@topicdesk/core';
import { ConversationRepository, OutboxRepository, type DB, type Kysely } from '@topicdesk/data';
import { meter, type Logger } from '@topicdesk/telemetry';

export interface SchedulerDeps {
  db: Kysely<DB>;
  relay: OutboxRelay;
  logger: Logger;
  autoCloseAfterMs: number;
  intervalMs: number;
  /** The clock; tests move it. */
  now?: () => Date;
}

export interface Job {
  readonly name: string;
  /** Does the due work once; returns how many items it handled. */
  run(): Promise<number>;
}

const BATCH = 100;
export const AUTO_CLOSE_NOTE =
  'This conversation was closed after a period of inactivity. Write again any time to start a new one.';

/**
 * Closes conversations idle longer than the limit. Each batch claims its rows with
 * FOR UPDATE SKIP LOCKED, so replicas running at once never close the same conversation twice,
 * and a conversation closed meanwhile is left alone.
 */
export function autoCloseJob(deps: SchedulerDeps): Job {
  const service = new ConversationService(deps.db, deps.relay);
  const closed = meter().createCounter('topicdesk_auto_closed_total', {
    description: 'Conversations closed for inactivity',
  });
  const now = deps.now ?? (() => new Date());
  return {
    name: 'auto-close',
    async run() {
      let total = 0;
      for (;;) {
        const { count, rows } = await deps.db.transaction().execute(async (trx) => {
          const idle = await new ConversationRepository(trx).claimIdle(
            new Date(now().getTime() - deps.autoCloseAfterMs),
            BATCH,
          );
          const all = [];
          for (const conversation of idle) {
            const rows = await service.closeInTransaction(trx, {
              tenantId: conversation.tenant_id,
              conversationId: conversation.id,
              actor: { type: 'system', id: 'scheduler' },
              reason: 'idle',
              note: AUTO_CLOSE_NOTE,
            });
            if (rows) all.push(...rows);
          }
          return { count: idle.length, rows: await new OutboxRepository(trx).add(all) };
        });
        await deps.relay.publish(rows);
        total += count;
        closed.add(count);
        if (count < BATCH) return total;
      }
    },
  };
}

/** Runs every job on an interval; a failing job is logged and counted, the others go on. */
export function startScheduler(
  deps: SchedulerDeps,
  jobs: readonly Job[],
): { runOnce(): Promise<void>; stop(): Promise<void> } {
  const runs = meter().createCounter('topicdesk_scheduler_runs_total', {
    description: 'Scheduler job runs, by job',
  });
  const failures = meter().createCounter('topicdesk_scheduler_failures_total', {
    description: 'Scheduler job failures, by job',
  });
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;

  const runOnce = async () => {
    for (const job of jobs) {
      try {
        const handled = await job.run();
        runs.add(1, { job: job.name });
        if (handled > 0) deps.logger.info({ job: job.name, handled }, 'job ran');
      } catch (error) {
        failures.add(1, { job: job.name });
        deps.logger.error({ err: error, job: job.name }, 'job failed');
      }
    }
  };
  const tick = () => {
    running = runOnce().finally(() => {
      running = undefined;
      if (!stopped) timer = setTimeout(tick, deps.intervalMs);
    });
  };
  timer = setTimeout(tick, Math.min(deps.intervalMs, 1000));
  return {
    runOnce,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
