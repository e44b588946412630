import {
  Assignment,
  awayWhenIdle,
  type AttachmentService,
  Housekeeping,
  SlaMonitor,
  type AssignmentOptions,
  type SlaEscalator,
  UnitOfWork,
  type DB,
  type Kysely,
  type Publisher,
  type TopicPolicy,
} from '@topicdesk/core';
import { meter, ROOT_CONTEXT, SpanKind, withSpan, type Logger } from '@topicdesk/telemetry';

export interface SchedulerDeps {
  db: Kysely<DB>;
  /** Publishes what the jobs' changes announce (the outbox relay). */
  relay: Publisher;
  logger: Logger;
  intervalMs: number;
  /** The clock; tests move it. */
  now: () => Date;
}

export interface Job {
  readonly name: string;
  /** Does the due work once; returns how many items it handled. Safe to run again. */
  run(): Promise<number>;
}

/** The use cases run on the scheduler's database and relay (one unit of work per batch). */
function housekeepingFor(deps: SchedulerDeps): Housekeeping {
  return new Housekeeping(new UnitOfWork(deps.db, deps.relay));
}

/** Closes conversations idle longer than the limit: the visitor is told, the topic is closed. */
export function autoCloseJob(deps: SchedulerDeps, autoCloseAfterMs: number): Job {
  const housekeeping = housekeepingFor(deps);
  const closed = meter().createCounter('topicdesk_auto_closed_total', {
    description: 'Conversations closed for inactivity',
  });
  return {
    name: 'auto-close',
    async run() {
      const count = await housekeeping.closeIdle(new Date(deps.now().getTime() - autoCloseAfterMs));
      closed.add(count);
      return count;
    },
  };
}

/**
 * Reminds the topic of conversations nobody has claimed: one reminder per entry of
 * `afterMs` (5 and 15 minutes by default); the last one is pinned.
 */
export function unclaimedReminderJob(deps: SchedulerDeps, afterMs: readonly number[]): Job {
  const housekeeping = housekeepingFor(deps);
  return {
    name: 'unclaimed-reminders',
    async run() {
      let total = 0;
      for (const [index, after] of afterMs.entries()) {
        total += await housekeeping.remindUnclaimed({
          waitingBefore: new Date(deps.now().getTime() - after),
          reminder: index + 1,
          minutes: Math.round(after / 60_000),
          pin: index + 1 === afterMs.length,
          at: deps.now(),
        });
      }
      return total;
    },
  };
}

/**
 * Deletes closed conversations older than the retention period (messages, notes and marks go
 * with them) and, under the `delete` policy, their topics in Telegram. `retentionMs` is the
 * deployment's; a tenant whose limits set `retentionDays` is purged after that instead.
 */
export function retentionJob(
  deps: SchedulerDeps,
  retentionMs: number,
  topicPolicy: TopicPolicy,
  files: Pick<AttachmentService, 'eraseFilesOf'>,
): Job {
  const housekeeping = new Housekeeping(new UnitOfWork(deps.db, deps.relay), undefined, files);
  const purged = meter().createCounter('topicdesk_retention_purged_total', {
    description: 'Closed conversations purged by retention',
  });
  return {
    name: 'retention',
    async run() {
      // Each tenant's plan may keep its conversations for another time (limits.retentionDays).
      const count = await housekeeping.purgeClosed({ now: deps.now(), retentionMs }, topicPolicy);
      purged.add(count);
      // Private-chat users left without conversations are forgotten too (their encrypted id).
      const forgotten = await housekeeping.forgetOrphanUsers(
        new Date(deps.now().getTime() - retentionMs),
      );
      if (forgotten > 0)
        deps.logger.info({ forgotten }, 'private-chat users without conversations purged');
      return count + forgotten;
    },
  };
}

/**
 * Online agents silent in the support groups for `idleMs` go away (audited); one conditional
 * update, so replicas running it at once move each agent once.
 */
export function idleAwayJob(deps: SchedulerDeps, idleMs: number): Job {
  const uow = new UnitOfWork(deps.db, deps.relay);
  return {
    name: 'idle-away',
    run: () => awayWhenIdle(uow, new Date(deps.now().getTime() - idleMs), deps.now()),
  };
}

/**
 * Automatic assignment's catch-all pass: conversations waiting for an agent get one who has a
 * free place (the bridge assigns at once when it can; this catches what it missed).
 */
export function assignmentJob(deps: SchedulerDeps, options: AssignmentOptions): Job {
  const assignment = new Assignment(new UnitOfWork(deps.db, deps.relay), options);
  return { name: 'assignment', run: () => assignment.drainAll() };
}

/**
 * SLAs: the reminder before each target and the breach notice once it passed, posted to the topic
 * once per conversation and target across replicas; with `autoEscalate` and an escalator, each
 * breach is escalated once. Conversations of priorities without targets are the unclaimed
 * reminders' (above).
 */
export function slaJob(
  deps: SchedulerDeps,
  options: { autoEscalate: boolean; escalator?: SlaEscalator | undefined },
): Job {
  const monitor = new SlaMonitor({
    uow: new UnitOfWork(deps.db, deps.relay),
    logger: deps.logger,
    autoEscalate: options.autoEscalate,
    escalator: options.escalator,
  });
  return {
    name: 'sla',
    async run() {
      const { reminders, breaches, escalations } = await monitor.run(deps.now());
      return reminders + breaches + escalations;
    },
  };
}

/** Deletes attachments no message took within `afterMs`, and their bytes. */
export function attachmentOrphanJob(
  deps: SchedulerDeps,
  attachments: Pick<AttachmentService, 'sweepOrphans'>,
  afterMs: number,
): Job {
  return {
    name: 'attachment-orphans',
    run: () => attachments.sweepOrphans(new Date(deps.now().getTime() - afterMs)),
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
        // Each run is a trace of its own: its queries, and what its closes set off in the bridge.
        const handled = await withSpan(
          `scheduler ${job.name}`,
          {
            kind: SpanKind.INTERNAL,
            parent: ROOT_CONTEXT,
            attributes: { 'topicdesk.job': job.name },
          },
          async (span) => {
            const count = await job.run();
            span.setAttribute('topicdesk.job.handled', count);
            return count;
          },
        );
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
