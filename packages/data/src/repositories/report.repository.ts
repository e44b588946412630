import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { BusinessHours, BusinessInterval, DB } from '../schema';

export const ReportGrouping = { agent: 'agent', day: 'day', level: 'level' } as const;
export type ReportGrouping = (typeof ReportGrouping)[keyof typeof ReportGrouping];

export interface ReportQuery {
  tenantId: string;
  /** Conversations started in [from, to). */
  from: Date;
  to: Date;
  /** Omitted: one row for the whole range. */
  groupBy?: ReportGrouping | undefined;
  /** Local days (`groupBy=day`) and business hours are counted in this IANA zone. */
  timeZone: string;
  /** The weekly schedule of business hours; null: 24/7. */
  schedule: readonly BusinessInterval[] | null;
  /** SLA clocks of conversations still running are read at this instant (default: now). */
  now?: Date | undefined;
}

/** One group's figures; durations in seconds, null where nothing was measured. */
export interface ReportFigures {
  /**
   * agent: the registered agent's Telegram user id (null: a member not registered, or nobody
   * answered), day: YYYY-MM-DD, level: 1–3; null without a grouping.
   */
  key: string | null;
  /** agent: the display name (null: unanswered); day and level: as `key`. */
  label: string | null;
  conversations: number;
  firstResponses: number;
  firstResponseAvg: number | null;
  firstResponseMedian: number | null;
  firstResponseBusinessAvg: number | null;
  firstResponseBusinessMedian: number | null;
  resolutions: number;
  resolutionAvg: number | null;
  resolutionMedian: number | null;
  resolutionBusinessAvg: number | null;
  replies: number;
  replyTimeAvg: number | null;
  surveys: number;
  ratings: number;
  positiveRatings: number;
  /** Conversations with a first-response SLA target whose outcome is known (met or breached). */
  slaFirstResponses: number;
  slaFirstResponsesMet: number;
  /** The same for the resolution target. */
  slaResolutions: number;
  slaResolutionsMet: number;
}

/** Group key and label of each grouping, over the `conv` rows of the report's query. */
function grouping(
  groupBy: ReportGrouping | undefined,
  tz: string,
): { key: RawBuilder<unknown>; label: RawBuilder<unknown> } {
  switch (groupBy) {
    case undefined:
      return { key: sql`null::text`, label: sql`null::text` };
    case ReportGrouping.agent:
      return {
        key: sql`ag.telegram_user_id::text`,
        label: sql`coalesce(ag.display_name, agent_name)`,
      };
    case ReportGrouping.day: {
      const day = sql`to_char((started_at at time zone ${tz}::text)::date, 'YYYY-MM-DD')`;
      return { key: day, label: day };
    }
    case ReportGrouping.level:
      return { key: sql`conv.level::text`, label: sql`conv.level::text` };
    default: {
      const unknown: never = groupBy;
      return unknown;
    }
  }
}

/**
 * The figures of docs/reports.md, computed in one query per report. A conversation counts in
 * the range it started in (its creation, which is its first visitor message in the widget);
 * every duration starts at its first visitor message. System messages never count as replies.
 */
export class ReportRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async figures(query: ReportQuery): Promise<ReportFigures[]> {
    const { key, label } = grouping(query.groupBy, query.timeZone);
    const schedule = query.schedule === null ? null : JSON.stringify(query.schedule);
    const tz = query.timeZone;
    const now = query.now ?? new Date();
    const result = await sql<ReportFigures>`
      with conv as (
        select c.id, c.status, c.closed_at, c.priority,
          -- Its level: where an escalation took it (0015) or its group's, the higher.
          greatest(c.level, coalesce(g.level, 1)) as level,
          coalesce(fv.at, c.created_at) as started_at,
          fv.at as first_visitor_at,
          fa.at as first_agent_at,
          -- Whose conversation it is: the agent who claimed it, else who answered first.
          case when c.claimed_by_telegram_user_id is not null then c.claimed_by_agent_id
               else fa.agent_id end as agent_id,
          case when c.claimed_by_telegram_user_id is not null then c.claimed_by_name
               else fa.author_name end as agent_name,
          r.score,
          (r.score is not null
            or (c.channel = 'web' and c.status = 'closed')
            or t.rating_prompted_at is not null) as surveyed
        from conversations c
        left join support_groups g on g.tenant_id = c.tenant_id and g.chat_id = c.group_chat_id
        left join lateral (
          select min(m.created_at) as at from messages m
          where m.conversation_id = c.id and m.kind = 'visitor'
        ) fv on true
        left join lateral (
          select m.created_at as at, m.agent_id, m.author_name from messages m
          where m.conversation_id = c.id and m.kind = 'agent' and m.created_at >= fv.at
          order by m.seq limit 1
        ) fa on true
        left join conversation_ratings r on r.conversation_id = c.id
        left join telegram_conversations t on t.conversation_id = c.id
        where c.tenant_id = ${query.tenantId}
          and c.created_at >= ${query.from} and c.created_at < ${query.to}
      ),
      exchanges as (
        -- Visitor and agent messages in order; a visitor message after anything but a visitor
        -- message starts a wait, which the next agent message ends.
        select conversation_id, seq, kind, created_at,
          lag(kind) over (partition by conversation_id order by seq) as previous
        from messages
        where conversation_id in (select id from conv) and kind in ('visitor', 'agent')
      ),
      waits as (
        select conversation_id, kind, previous, created_at,
          max(case when kind = 'visitor' and previous is distinct from 'visitor' then created_at end)
            over (partition by conversation_id order by seq) as waiting_since
        from exchanges
      ),
      replies as (
        select conversation_id,
          extract(epoch from created_at - waiting_since)::double precision as seconds
        from waits
        where kind = 'agent' and previous = 'visitor'
      ),
      sla as (
        -- SLA targets of the conversation's priority (the tenant's policy as it is now); each
        -- clock runs from the first visitor message to the first reply (first response) or the
        -- close (resolution), or to now while that has not happened.
        select conv.id, conv.first_agent_at, conv.status,
          (sp.targets -> conv.priority ->> 'first_response')::double precision as fr_target,
          (sp.targets -> conv.priority ->> 'resolution')::double precision as res_target,
          coalesce((sp.targets -> conv.priority ->> 'business_hours')::boolean, false) as business,
          conv.first_visitor_at,
          coalesce(conv.first_agent_at,
            case when conv.status = 'closed' then conv.closed_at end, ${now}::timestamptz) as fr_end,
          case when conv.status = 'closed' then conv.closed_at else ${now}::timestamptz end as res_end
        from conv
        join sla_policies sp on sp.tenant_id = ${query.tenantId}
      ),
      sla_clocks as (
        select id, first_agent_at, status, fr_target, res_target,
          case when business
            then topicdesk_business_seconds(first_visitor_at, fr_end, ${tz}::text, ${schedule}::jsonb)
            else extract(epoch from fr_end - first_visitor_at)::double precision end as fr_elapsed,
          case when business
            then topicdesk_business_seconds(first_visitor_at, res_end, ${tz}::text, ${schedule}::jsonb)
            else extract(epoch from res_end - first_visitor_at)::double precision end as res_elapsed
        from sla
        where fr_target is not null or res_target is not null
      ),
      measured as (
        select conv.*, ${key} as key, ${label} as label,
          extract(epoch from first_agent_at - first_visitor_at)::double precision as first_response,
          topicdesk_business_seconds(first_visitor_at, first_agent_at, ${tz}::text, ${schedule}::jsonb)
            as first_response_business,
          case when status = 'closed' then
            extract(epoch from closed_at - first_visitor_at)::double precision end as resolution,
          case when status = 'closed' then
            topicdesk_business_seconds(first_visitor_at, closed_at, ${tz}::text, ${schedule}::jsonb)
            end as resolution_business
        from conv
        left join agents ag on ag.id = conv.agent_id
      )
      select m.key, m.label,
        count(*)::int as conversations,
        count(m.first_response)::int as "firstResponses",
        avg(m.first_response) as "firstResponseAvg",
        percentile_cont(0.5) within group (order by m.first_response) as "firstResponseMedian",
        avg(m.first_response_business) as "firstResponseBusinessAvg",
        percentile_cont(0.5) within group (order by m.first_response_business)
          as "firstResponseBusinessMedian",
        count(m.resolution)::int as resolutions,
        avg(m.resolution) as "resolutionAvg",
        percentile_cont(0.5) within group (order by m.resolution) as "resolutionMedian",
        avg(m.resolution_business) as "resolutionBusinessAvg",
        coalesce(sum(rp.replies), 0)::int as replies,
        sum(rp.total) / nullif(sum(rp.replies), 0)::double precision as "replyTimeAvg",
        count(*) filter (where m.surveyed)::int as surveys,
        count(m.score)::int as ratings,
        count(*) filter (where m.score >= 4)::int as "positiveRatings",
        -- Met: within the target. Breached: past it, answered or closed late, or still waiting.
        count(*) filter (where s.fr_target is not null
          and (s.first_agent_at is not null or s.fr_elapsed > s.fr_target))::int
          as "slaFirstResponses",
        count(*) filter (where s.fr_target is not null
          and s.first_agent_at is not null and s.fr_elapsed <= s.fr_target)::int
          as "slaFirstResponsesMet",
        count(*) filter (where s.res_target is not null
          and (s.status = 'closed' or s.res_elapsed > s.res_target))::int as "slaResolutions",
        count(*) filter (where s.res_target is not null
          and s.status = 'closed' and s.res_elapsed <= s.res_target)::int as "slaResolutionsMet"
      from measured m
      left join (
        select conversation_id, count(*) as replies, sum(seconds) as total
        from replies group by conversation_id
      ) rp on rp.conversation_id = m.id
      left join sla_clocks s on s.id = m.id
      group by m.key, m.label
      order by m.key nulls last, m.label nulls last
    `.execute(this.db);
    return result.rows;
  }

  /** Midnight of the local `date` (YYYY-MM-DD) in `timeZone`, `days` later (DST as it falls). */
  async localMidnight(date: string, timeZone: string, days: number): Promise<Date> {
    const result = await sql<{ at: Date }>`
      select ((${date}::date + ${days}::int)::timestamp at time zone ${timeZone}::text) as at
    `.execute(this.db);
    const row = result.rows[0];
    if (!row) throw new Error('no answer to a constant query');
    return row.at;
  }

  businessHours(tenantId: string): Promise<BusinessHours | undefined> {
    return this.db
      .selectFrom('business_hours')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .executeTakeFirst();
  }

  async setBusinessHours(
    tenantId: string,
    timeZone: string,
    schedule: readonly BusinessInterval[],
  ): Promise<BusinessHours> {
    const values = {
      time_zone: timeZone,
      schedule: JSON.stringify(schedule),
      updated_at: new Date(),
    };
    return this.db
      .insertInto('business_hours')
      .values({ tenant_id: tenantId, ...values })
      .onConflict((oc) => oc.column('tenant_id').doUpdateSet(values))
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  /** Back to 24/7 in UTC; false when no schedule was set. */
  async clearBusinessHours(tenantId: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('business_hours')
      .where('tenant_id', '=', tenantId)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }
}
