import {
  Permission,
  ReportGrouping,
  type BusinessHoursSettings,
  type BusinessInterval,
  type Report,
  type ReportBound,
  type ReportFigures,
  type Reports,
} from '@topicdesk/core';
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { adminRoute, principalOf } from './admin-access';
import { csvField, wantsCsv } from './csv';
import { ErrorCode, GatewayError } from './errors';
import { parse } from './validation';
import { businessHoursAnswer, reportAnswer } from './answers';

export interface ReportRoutesOptions {
  reports: Reports;
}

/** Weekdays as the API names them; the index is Postgres' `extract(dow)` (0 = Sunday). */
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
type Day = (typeof DAYS)[number];

const MAX_RANGE_DAYS = 366;
const DAY_MS = 86_400_000;

const clock = z.string().regex(/^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$/, 'HH:MM, 00:00 to 24:00');
const interval = z
  .strictObject({ from: clock, to: clock })
  .refine((i) => i.from < i.to, 'from must be before to');
const dayIntervals = z
  .array(interval)
  .max(8)
  .refine((list) => {
    const sorted = [...list].sort((a, b) => (a.from < b.from ? -1 : 1));
    return sorted.every((i, n) => n === 0 || sorted[n - 1]!.to <= i.from);
  }, 'intervals of one day must not overlap')
  .optional();

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    // Intl's answer to an unknown zone is a RangeError: that is the "no" this returns.
    return false;
  }
}

/** `PUT /v1/admin/settings/business-hours`: a zone and the hours of each day (absent: closed). */
const businessHoursBody = z.strictObject({
  timeZone: z.string().max(64).refine(isTimeZone, 'an IANA time zone such as Europe/Berlin or UTC'),
  weekly: z.strictObject({
    sun: dayIntervals,
    mon: dayIntervals,
    tue: dayIntervals,
    wed: dayIntervals,
    thu: dayIntervals,
    fri: dayIntervals,
    sat: dayIntervals,
  }),
});

const DATE = /^\d{4}-\d{2}-\d{2}$/;
/** A local date (in the business-hours zone) or an ISO 8601 instant with its offset. */
const bound = z.union([
  z
    .string()
    .regex(DATE)
    .refine((v) => !Number.isNaN(Date.parse(`${v}T00:00:00Z`)), 'not a date')
    .transform((date): ReportBound => ({ date })),
  z.iso.datetime({ offset: true }).transform((v): ReportBound => new Date(v)),
]);

const reportQuery = z
  .strictObject({
    from: bound,
    to: bound,
    groupBy: z.enum([ReportGrouping.agent, ReportGrouping.day, ReportGrouping.level]).optional(),
  })
  .refine(({ from, to }) => approximate(to, 1) > approximate(from, 0), {
    message: 'to must be after from',
    path: ['to'],
  })
  .refine(
    ({ from, to }) => approximate(to, 1) - approximate(from, 0) <= (MAX_RANGE_DAYS + 1) * DAY_MS,
    {
      message: `at most ${MAX_RANGE_DAYS} days`,
      path: ['to'],
    },
  );

/** A bound as UTC milliseconds, dates at UTC midnight `days` later (for the checks above). */
function approximate(value: ReportBound, days: number): number {
  return value instanceof Date
    ? value.getTime()
    : Date.parse(`${value.date}T00:00:00Z`) + days * DAY_MS;
}

function weeklyView(schedule: readonly BusinessInterval[] | null) {
  if (schedule === null) return null;
  const weekly: Partial<Record<Day, Array<{ from: string; to: string }>>> = {};
  for (const i of schedule) {
    const day = DAYS[i.day];
    if (day) (weekly[day] ??= []).push({ from: i.start, to: i.end });
  }
  return weekly;
}

function businessHoursView(hours: BusinessHoursSettings) {
  return {
    timeZone: hours.timeZone,
    alwaysOpen: hours.schedule === null,
    weekly: weeklyView(hours.schedule),
    updatedAt: hours.updatedAt?.toISOString() ?? null,
  };
}

const round = (value: number | null, digits: number) =>
  value === null ? null : Number(value.toFixed(digits));
const ratio = (part: number, whole: number) => (whole === 0 ? null : round(part / whole, 4));

/** One group's figures as the API shows them (docs/reports.md): seconds to the millisecond. */
function figuresView(f: ReportFigures) {
  return {
    conversations: f.conversations,
    firstResponse: {
      count: f.firstResponses,
      avgSeconds: round(f.firstResponseAvg, 3),
      medianSeconds: round(f.firstResponseMedian, 3),
      businessAvgSeconds: round(f.firstResponseBusinessAvg, 3),
      businessMedianSeconds: round(f.firstResponseBusinessMedian, 3),
    },
    resolution: {
      count: f.resolutions,
      avgSeconds: round(f.resolutionAvg, 3),
      medianSeconds: round(f.resolutionMedian, 3),
      businessAvgSeconds: round(f.resolutionBusinessAvg, 3),
    },
    replyTime: { count: f.replies, avgSeconds: round(f.replyTimeAvg, 3) },
    csat: {
      surveys: f.surveys,
      ratings: f.ratings,
      positive: f.positiveRatings,
      score: ratio(f.positiveRatings, f.ratings),
      responseRate: ratio(f.ratings, f.surveys),
    },
    sla: {
      firstResponse: {
        measured: f.slaFirstResponses,
        met: f.slaFirstResponsesMet,
        attainment: ratio(f.slaFirstResponsesMet, f.slaFirstResponses),
      },
      resolution: {
        measured: f.slaResolutions,
        met: f.slaResolutionsMet,
        attainment: ratio(f.slaResolutionsMet, f.slaResolutions),
      },
    },
  };
}

function reportView(report: Report) {
  return {
    from: report.from.toISOString(),
    to: report.to.toISOString(),
    groupBy: report.groupBy ?? null,
    businessHours: businessHoursView(report.businessHours),
    rows: report.rows.map((row) => ({ key: row.key, label: row.label, ...figuresView(row) })),
    total: figuresView(report.total),
  };
}

const CSV_COLUMNS = [
  'key',
  'label',
  'conversations',
  'first_response_count',
  'first_response_avg_seconds',
  'first_response_median_seconds',
  'first_response_business_avg_seconds',
  'first_response_business_median_seconds',
  'resolution_count',
  'resolution_avg_seconds',
  'resolution_median_seconds',
  'resolution_business_avg_seconds',
  'reply_count',
  'reply_time_avg_seconds',
  'surveys',
  'ratings',
  'positive_ratings',
  'csat_score',
  'response_rate',
  'sla_first_response_measured',
  'sla_first_response_met',
  'sla_first_response_attainment',
  'sla_resolution_measured',
  'sla_resolution_met',
  'sla_resolution_attainment',
] as const;

function csvRow(key: string | null, label: string | null, f: ReportFigures): string {
  const v = figuresView(f);
  return [
    key,
    label,
    v.conversations,
    v.firstResponse.count,
    v.firstResponse.avgSeconds,
    v.firstResponse.medianSeconds,
    v.firstResponse.businessAvgSeconds,
    v.firstResponse.businessMedianSeconds,
    v.resolution.count,
    v.resolution.avgSeconds,
    v.resolution.medianSeconds,
    v.resolution.businessAvgSeconds,
    v.replyTime.count,
    v.replyTime.avgSeconds,
    v.csat.surveys,
    v.csat.ratings,
    v.csat.positive,
    v.csat.score,
    v.csat.responseRate,
    v.sla.firstResponse.measured,
    v.sla.firstResponse.met,
    v.sla.firstResponse.attainment,
    v.sla.resolution.measured,
    v.sla.resolution.met,
    v.sla.resolution.attainment,
  ]
    .map(csvField)
    .join(',');
}

/** The report as CSV: a header, a row per group, then the totals (`key` "total"). */
export function reportCsv(report: Report): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const row of report.rows) lines.push(csvRow(row.key, row.label, row));
  lines.push(csvRow('total', null, report.total));
  return `${lines.join('\r\n')}\r\n`;
}

/**
 * Reports and the business hours they count in (admin API):
 * `GET /v1/admin/reports?from&to&groupBy=agent|day|level` (JSON, or CSV with
 * `Accept: text/csv`) and `GET`/`PUT`/`DELETE /v1/admin/settings/business-hours`. Definitions:
 * docs/reports.md; contract: docs/contract.md.
 */
export const reportRoutes: FastifyPluginAsync<ReportRoutesOptions> = async (app, options) => {
  const { reports } = options;

  app.get(
    '/v1/admin/reports',
    adminRoute(
      Permission.reportsRead,
      'First response, resolution and CSAT figures (JSON or CSV)',
      {
        query: reportQuery,
        responses: {
          200: { description: 'the report; CSV with Accept: text/csv', type: 'text/csv' },
        },
        answers: { 200: reportAnswer },
      },
    ),
    async (request, reply) => {
      const query = parse(reportQuery, request.query, 'query');
      const report = await reports.report({ tenantId: principalOf(request).tenantId, ...query });
      if (!wantsCsv(request.headers.accept)) return reportView(report);
      const name = `report-${report.from.toISOString().slice(0, 10)}-${query.groupBy ?? 'total'}.csv`;
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${name}"`)
        .send(reportCsv(report));
    },
  );

  app.get(
    '/v1/admin/settings/business-hours',
    adminRoute(Permission.settingsRead, 'Business hours (24/7 in UTC unless set)', {
      answers: { 200: businessHoursAnswer },
    }),
    async (request) =>
      businessHoursView(await reports.businessHours(principalOf(request).tenantId)),
  );

  app.put(
    '/v1/admin/settings/business-hours',
    adminRoute(Permission.settingsWrite, 'Sets the business hours', {
      body: businessHoursBody,
      answers: { 200: businessHoursAnswer },
    }),
    async (request) => {
      const body = parse(businessHoursBody, request.body ?? {});
      const schedule: BusinessInterval[] = [];
      DAYS.forEach((day, index) => {
        for (const i of body.weekly[day] ?? [])
          schedule.push({ day: index, start: i.from, end: i.to });
      });
      if (schedule.length === 0)
        throw new GatewayError(ErrorCode.INVALID_REQUEST, 'the request does not match the API', {
          issues: ['weekly: at least one interval (DELETE goes back to 24/7)'],
        });
      return businessHoursView(
        await reports.setBusinessHours(
          principalOf(request).tenantId,
          principalOf(request).actorId,
          body.timeZone,
          schedule,
        ),
      );
    },
  );

  app.delete(
    '/v1/admin/settings/business-hours',
    adminRoute(Permission.settingsWrite, 'Goes back to 24/7', {
      answers: { 200: businessHoursAnswer },
    }),
    async (request) => {
      await reports.clearBusinessHours(principalOf(request).tenantId, principalOf(request).actorId);
      return businessHoursView(await reports.businessHours(principalOf(request).tenantId));
    },
  );
};
