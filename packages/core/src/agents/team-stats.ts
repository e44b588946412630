import { AgentTeamRepository, EscalationRepository, type DB, type Kysely } from '@topicdesk/data';
import { formatDuration } from '../durations';
import { capacityOf } from './assignment';

/** What /stats shows of the team: the queue and each online agent's load. */
export interface TeamStats {
  open: number;
  /** Open conversations nobody holds. */
  waiting: number;
  /** Since when the longest-waiting one waits (null: none waits). */
  oldestWaitingSince: Date | null;
  online: Array<{ name: string; load: number; capacity: number; level: number | null }>;
}

/** The team's figures now, for /stats (in General or a topic). */
export async function teamStats(
  db: Kysely<DB>,
  tenantId: string,
  defaultCapacity: number,
): Promise<TeamStats> {
  // One after another: inside a command's transaction they share one connection anyway.
  const queue = await new EscalationRepository(db).queue(tenantId);
  const loads = await new AgentTeamRepository(db).loads(tenantId, { onlineOnly: true });
  const open = await db
    .selectFrom('conversations')
    .select((eb) => eb.fn.countAll<number>().as('open'))
    .where('tenant_id', '=', tenantId)
    .where('status', '=', 'open')
    .executeTakeFirstOrThrow();
  return {
    open: Number(open.open),
    waiting: queue.waiting,
    oldestWaitingSince: queue.oldest,
    online: loads.map((l) => ({
      name: l.agent.display_name,
      load: l.load,
      capacity: capacityOf(l, defaultCapacity),
      level: l.agent.level,
    })),
  };
}

/**
 * The short /stats post:
 * "📊 Open: 4 · Waiting: 1, the longest for 3m 5s"
 * "🟢 Online: Dana 2/3 · Lee (L2) 0/2"
 */
export function teamStatsText(stats: TeamStats, now: Date = new Date()): string {
  const wait =
    stats.oldestWaitingSince === null
      ? ''
      : `, the longest for ${formatDuration((now.getTime() - stats.oldestWaitingSince.getTime()) / 1000)}`;
  const online =
    stats.online.length === 0
      ? 'nobody'
      : stats.online
          .map(
            (a) => `${a.name}${a.level !== null ? ` (L${a.level})` : ''} ${a.load}/${a.capacity}`,
          )
          .join(' · ');
  return [`📊 Open: ${stats.open} · Waiting: ${stats.waiting}${wait}`, `🟢 Online: ${online}`].join(
    '\n',
  );
}
