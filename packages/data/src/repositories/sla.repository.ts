import { sql, type Kysely } from 'kysely';
import type {
  ConversationPriority,
  DB,
  SlaEvent,
  SlaEventKind,
  SlaPolicy,
  SlaTarget,
  SlaTargetSet,
} from '../schema';

/** A target of an open conversation that is due for its reminder or its breach notice. */
export interface DueSlaTarget {
  tenantId: string;
  conversationId: string;
  ticket: string;
  priority: ConversationPriority;
  target: SlaTarget;
  kind: SlaEventKind;
  targetSeconds: number;
  businessHours: boolean;
  /** Seconds counted so far (business seconds where the target counts business hours). */
  elapsedSeconds: number;
  /** The agent who holds the conversation (to mention), if anyone does. */
  claimedBy: { telegramUserId: number; name: string } | null;
}

export interface SlaEventInput {
  tenantId: string;
  conversationId: string;
  target: SlaTarget;
  kind: SlaEventKind;
  priority: ConversationPriority;
  targetSeconds: number;
  businessHours: boolean;
  at: Date;
  /** A breach to escalate automatically (the escalator runs after the commit). */
  escalate?: boolean | undefined;
}

/**
 * SLA targets (one policy per tenant) and the reminders and breach notices posted for them.
 * The clock of every target starts at the conversation's first visitor message, as the reports'
 * durations do (docs/reports.md); business seconds come from `topicdesk_business_seconds` and the
 * tenant's business hours, the same function the reports use.
 */
export class SlaRepository {
  constructor(private readonly db: Kysely<DB>) {}

  policy(tenantId: string): Promise<SlaPolicy | undefined> {
    return this.db
      .selectFrom('sla_policies')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .executeTakeFirst();
  }

  setPolicy(
    tenantId: string,
    targets: Partial<Record<ConversationPriority, SlaTargetSet>>,
    remindAtPercent: number | null,
  ): Promise<SlaPolicy> {
    const values = {
      targets: JSON.stringify(targets),
      remind_at_percent: remindAtPercent,
      updated_at: new Date(),
    };
    return this.db
      .insertInto('sla_policies')
      .values({ tenant_id: tenantId, ...values })
      .onConflict((oc) => oc.column('tenant_id').doUpdateSet(values))
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  /**
   * Targets due at `now`: of open conversations with a topic whose priority has the target,
   * whose breach was not posted yet, and whose clock has passed the target (a breach; meeting it
   * to the second is meeting it, as in the reports) or reached the reminder's share of it (a reminder, if none was posted). A first response is due only while
   * no agent has replied after the first visitor message. Only active tenants' conversations.
   * Oldest conversations first.
   */
  async due(now: Date, limit: number): Promise<DueSlaTarget[]> {
    const result = await sql<{
      tenant_id: string;
      conversation_id: string;
      ticket: string;
      priority: ConversationPriority;
      target: SlaTarget;
      target_seconds: number;
      business_hours: boolean;
      elapsed: number;
      remind_at_percent: number | null;
      reminded: boolean;
      claimed_by_telegram_user_id: number | null;
      claimed_by_name: string | null;
    }>`
      with clocks as (
        select c.tenant_id, c.id as conversation_id, c.ticket, c.priority,
          c.claimed_by_telegram_user_id, c.claimed_by_name, t.target, p.remind_at_percent,
          fv.at as started_at,
          (p.targets -> c.priority ->> t.target)::int as target_seconds,
          coalesce((p.targets -> c.priority ->> 'business_hours')::boolean, false) as business_hours
        from conversations c
        join sla_policies p on p.tenant_id = c.tenant_id
        cross join (values ('first_response'), ('resolution')) as t(target)
        join lateral (
          select min(m.created_at) as at from messages m
          where m.conversation_id = c.id and m.kind = 'visitor'
        ) fv on fv.at is not null
        where c.status = 'open' and c.topic_id is not null
          and p.targets -> c.priority ->> t.target is not null
          -- A suspended or deleted tenant's topics get nothing (its clocks wait for a resume).
          and exists (select 1 from tenants tn where tn.id = c.tenant_id and tn.status = 'active')
          and not exists (
            select 1 from sla_events e
            where e.conversation_id = c.id and e.target = t.target and e.kind = 'breach'
          )
          and (t.target = 'resolution' or not exists (
            select 1 from messages m
            where m.conversation_id = c.id and m.kind = 'agent' and m.created_at >= fv.at
          ))
      ),
      measured as (
        select k.*,
          case when k.business_hours then
            topicdesk_business_seconds(k.started_at, ${now}::timestamptz,
              coalesce(bh.time_zone, 'UTC'), bh.schedule)
          else extract(epoch from ${now}::timestamptz - k.started_at)::double precision
          end as elapsed,
          exists (
            select 1 from sla_events e
            where e.conversation_id = k.conversation_id and e.target = k.target
              and e.kind = 'reminder'
          ) as reminded
        from clocks k
        left join business_hours bh on bh.tenant_id = k.tenant_id
        -- Business seconds never outrun the calendar: most clocks stop here, uncomputed.
        where extract(epoch from ${now}::timestamptz - k.started_at)
          >= k.target_seconds * coalesce(k.remind_at_percent, 100) / 100.0
      )
      select * from measured
      where elapsed > target_seconds
        or (remind_at_percent is not null and not reminded
          and elapsed >= target_seconds * remind_at_percent / 100.0)
      order by started_at, conversation_id, target
      limit ${limit}
    `.execute(this.db);
    return result.rows.map((row) => ({
      tenantId: row.tenant_id,
      conversationId: row.conversation_id,
      ticket: row.ticket,
      priority: row.priority,
      target: row.target,
      kind: row.elapsed > row.target_seconds ? 'breach' : 'reminder',
      targetSeconds: row.target_seconds,
      businessHours: row.business_hours,
      elapsedSeconds: row.elapsed,
      claimedBy:
        row.claimed_by_telegram_user_id === null
          ? null
          : {
              telegramUserId: Number(row.claimed_by_telegram_user_id),
              name: row.claimed_by_name ?? 'Support',
            },
    }));
  }

  /**
   * Records that a reminder or breach was posted; false when it already was (another replica,
   * or an earlier run): the caller then posts nothing. Concurrent inserts of the same event wait
   * for each other on the primary key, so exactly one of them returns true.
   */
  async record(input: SlaEventInput): Promise<boolean> {
    const inserted = await this.db
      .insertInto('sla_events')
      .values({
        tenant_id: input.tenantId,
        conversation_id: input.conversationId,
        target: input.target,
        kind: input.kind,
        priority: input.priority,
        target_seconds: input.targetSeconds,
        business_hours: input.businessHours,
        created_at: input.at,
        escalation: input.escalate ? 'pending' : null,
      })
      .onConflict((oc) => oc.columns(['conversation_id', 'target', 'kind']).doNothing())
      .returning('conversation_id')
      .executeTakeFirst();
    return inserted !== undefined;
  }

  events(tenantId: string, conversationId: string): Promise<SlaEvent[]> {
    return this.db
      .selectFrom('sla_events')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('conversation_id', '=', conversationId)
      .orderBy('created_at')
      .execute();
  }

  /** Breaches waiting for their escalation, locked for this transaction, skipped by other replicas. */
  claimPendingEscalations(limit: number): Promise<SlaEvent[]> {
    return this.db
      .selectFrom('sla_events')
      .selectAll()
      .where('escalation', '=', 'pending')
      .orderBy('created_at')
      .limit(limit)
      .forUpdate()
      .skipLocked()
      .execute();
  }

  /** The escalation's outcome: done, or one more failed attempt (`failed` once given up). */
  async setEscalation(
    tenantId: string,
    event: Pick<SlaEvent, 'conversation_id' | 'target'>,
    outcome: { done: true } | { done: false; error: string; giveUp: boolean },
  ): Promise<void> {
    await this.db
      .updateTable('sla_events')
      .set((eb) =>
        outcome.done
          ? { escalation: 'done', escalation_attempts: eb('escalation_attempts', '+', 1) }
          : {
              escalation: outcome.giveUp ? 'failed' : 'pending',
              escalation_attempts: eb('escalation_attempts', '+', 1),
              escalation_error: outcome.error,
            },
      )
      .where('tenant_id', '=', tenantId)
      .where('conversation_id', '=', event.conversation_id)
      .where('target', '=', event.target)
      .where('kind', '=', 'breach')
      .execute();
  }
}
