import {
  ConversationService,
  SystemMessageKey,
  UnitOfWork,
  type OutboxRelay,
} from '@topicdesk/core';
import {
  AuditRepository,
  ConversationRepository,
  OutboxRepository,
  TelegramUserRepository,
  type Conversation,
  type DB,
  type Kysely,
  type OutboxInput,
} from '@topicdesk/data';
import { meter, ROOT_CONTEXT, SpanKind, withSpan, type Logger } from '@topicdesk/telemetry';

export interface SchedulerDeps {
  db: Kysely<DB>;
  relay: OutboxRelay;
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

const BATCH = 100;

/**
 * Runs `step` on batches of rows claimed with FOR UPDATE SKIP LOCKED until a batch comes back
 * short: replicas running the same job at once never handle the same row twice, and a row
 * whose state changed meanwhile no longer matches the claim query.
 */
async function inBatches(
  db: Kysely<DB>,
  relay: OutboxRelay,
  claim: (repository: ConversationRepository) => Promise<Conversation[]>,
  step: (trx: Kysely<DB>, conversation: Conversation) => Promise<OutboxInput[]>,
): Promise<number> {
  let total = 0;
  for (;;) {
    const { count, rows } = await db.transaction().execute(async (trx) => {
      const claimed = await claim(new ConversationRepository(trx));
      const all: OutboxInput[] = [];
      for (const conversation of claimed) all.push(...(await step(trx, conversation)));
      return { count: claimed.length, rows: await new OutboxRepository(trx).add(all) };
    });
    await relay.publish(rows);
    total += count;
    if (count < BATCH) return total;
  }
}

/** Closes conversations idle longer than the limit: the visitor is told, the topic is closed. */
export function autoCloseJob(deps: SchedulerDeps, autoCloseAfterMs: number): Job {
  const service = new ConversationService(new UnitOfWork(deps.db, deps.relay));
  const closed = meter().createCounter('topicdesk_auto_closed_total', {
    description: 'Conversations closed for inactivity',
  });
  return {
    name: 'auto-close',
    async run() {
      const count = await inBatches(
        deps.db,
        deps.relay,
        (repository) =>
          repository.claimIdle(new Date(deps.now().getTime() - autoCloseAfterMs), BATCH),
        async (trx, conversation) =>
          (await service.closeInTransaction(trx, {
            tenantId: conversation.tenant_id,
            conversationId: conversation.id,
            actor: { type: 'system', id: 'scheduler' },
            reason: 'idle',
            templateKey: SystemMessageKey.autoClosed,
          })) ?? [],
      );
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
  const service = new ConversationService(new UnitOfWork(deps.db, deps.relay));
  return {
    name: 'unclaimed-reminders',
    async run() {
      let total = 0;
      for (const [index, after] of afterMs.entries()) {
        const reminder = index + 1;
        total += await inBatches(
          deps.db,
          deps.relay,
          (repository) =>
            repository.claimDueReminders(new Date(deps.now().getTime() - after), reminder, BATCH),
          async (trx, conversation) => {
            await new ConversationRepository(trx).setRemindersSent(
              conversation.tenant_id,
              conversation.id,
              reminder,
            );
            return service.emitSystemInTransaction(trx, {
              conversation,
              key: SystemMessageKey.unclaimedReminder,
              vars: { minutes: Math.round(after / 60_000) },
              pin: reminder === afterMs.length,
              at: deps.now(),
            });
          },
        );
      }
      return total;
    },
  };
}

/**
 * Deletes closed conversations older than the retention period (messages, notes and marks go
 * with them) and, under the `delete` policy, their topics in Telegram.
 */
export function retentionJob(
  deps: SchedulerDeps,
  retentionMs: number,
  topicPolicy: 'delete' | 'keep',
): Job {
  const purged = meter().createCounter('topicdesk_retention_purged_total', {
    description: 'Closed conversations purged by retention',
  });
  return {
    name: 'retention',
    async run() {
      const count = await inBatches(
        deps.db,
        deps.relay,
        (repository) =>
          repository.claimPurgeable(new Date(deps.now().getTime() - retentionMs), BATCH),
        async (trx, conversation) => {
          await new ConversationRepository(trx).delete(conversation.tenant_id, conversation.id);
          await new AuditRepository(trx).record({
            tenantId: conversation.tenant_id,
            actorType: 'system',
            actorId: 'scheduler',
            action: 'conversation.purge',
            conversationId: conversation.id,
            details: { ticket: conversation.ticket, topicPolicy },
          });
          if (topicPolicy !== 'delete' || conversation.topic_id === null) return [];
          return [
            {
              tenantId: conversation.tenant_id,
              destination: 'bus' as const,
              topic: 'topicRemoval',
              payload: {
                tenantId: conversation.tenant_id,
                conversationId: conversation.id,
                topicId: String(conversation.topic_id),
                groupChatId: String(conversation.group_chat_id ?? 0),
              },
            },
          ];
        },
      );
      purged.add(count);
      // Private-chat users left without conversations are forgotten too (their encrypted id).
      const forgotten = await new TelegramUserRepository(deps.db).purgeOrphans(
        new Date(deps.now().getTime() - retentionMs),
      );
      if (forgotten > 0)
        deps.logger.info({ forgotten }, 'private-chat users without conversations purged');
      return count + forgotten;
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
