import { sql, type Kysely } from 'kysely';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations see the database as it was then */

/**
 * CSAT and reports (issue 14).
 *
 * - `conversation_ratings`: one rating (1–5, optional comment) per conversation, whichever
 *   channel gave it (the widget, or the private chat's buttons). The private chat's ratings,
 *   kept until now in `telegram_conversations.rating`, move here; that column and `rated_at`
 *   go (`rating_prompted_at` stays: it is the private chat's delivery bookkeeping).
 * - `business_hours`: a tenant's weekly schedule and IANA time zone; no row means 24/7 in UTC.
 * - `topicdesk_business_seconds(from, to, tz, schedule)`: the seconds of [from, to) that fall
 *   in the schedule's hours, local to `tz` (DST included); a NULL schedule counts every second.
 *   Reports compute their business-hours variants with it in one query.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('conversation_ratings')
    .addColumn('conversation_id', 'uuid', (c) =>
      c.primaryKey().references('conversations.id').onDelete('cascade'),
    )
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('score', 'smallint', (c) => c.notNull().check(sql`score between 1 and 5`))
    .addColumn('comment', 'text')
    // Where it was given: `web` (the widget) or `telegram` (the private chat's buttons).
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('conversation_ratings_tenant_created_idx')
    .on('conversation_ratings')
    .columns(['tenant_id', 'created_at'])
    .execute();
  await sql`
    insert into conversation_ratings (conversation_id, tenant_id, score, channel, created_at)
    select conversation_id, tenant_id, rating, 'telegram', coalesce(rated_at, created_at)
    from telegram_conversations
    where rating is not null
  `.execute(db);
  await db.schema
    .alterTable('telegram_conversations')
    .dropColumn('rating')
    .dropColumn('rated_at')
    .execute();

  await db.schema
    .createTable('business_hours')
    .addColumn('tenant_id', 'text', (c) => c.primaryKey().references('tenants.id'))
    .addColumn('time_zone', 'text', (c) => c.notNull())
    // [{ "day": 0–6 (0 = Sunday, as extract(dow)), "start": "09:00", "end": "17:00" }, …]
    .addColumn('schedule', 'jsonb', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  // Each local day the range touches, each interval of that weekday: the overlap with the range.
  // `date + time` is a local timestamp; `at time zone tz` makes it the instant it is there.
  await sql`
    create function topicdesk_business_seconds(
      from_at timestamptz, to_at timestamptz, tz text, schedule jsonb
    ) returns double precision language sql stable as $$
      select case
        when from_at is null or to_at is null then null
        when to_at <= from_at then 0::double precision
        when schedule is null then extract(epoch from to_at - from_at)::double precision
        else coalesce((
          select sum(greatest(0, extract(epoch from
            least(to_at, (d.day + (s.value ->> 'end')::time) at time zone tz)
            - greatest(from_at, (d.day + (s.value ->> 'start')::time) at time zone tz))))
          from generate_series(
            (from_at at time zone tz)::date::timestamp,
            (to_at at time zone tz)::date::timestamp,
            interval '1 day') as d(day)
          join jsonb_array_elements(schedule) as s(value)
            on (s.value ->> 'day')::int = extract(dow from d.day)::int
        ), 0)::double precision
      end
    $$
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop function topicdesk_business_seconds(timestamptz, timestamptz, text, jsonb)`.execute(
    db,
  );
  await db.schema.dropTable('business_hours').execute();
  await db.schema
    .alterTable('telegram_conversations')
    .addColumn('rating', 'smallint', (c) => c.check(sql`rating between 1 and 5`))
    .addColumn('rated_at', 'timestamptz')
    .execute();
  await sql`
    update telegram_conversations t
    set rating = r.score, rated_at = r.created_at
    from conversation_ratings r
    where r.conversation_id = t.conversation_id
  `.execute(db);
  await db.schema.dropTable('conversation_ratings').execute();
}
