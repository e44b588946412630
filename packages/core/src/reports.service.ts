import {
  AuditRepository,
  ReportRepository,
  type BusinessInterval,
  type ReportFigures,
  type ReportGrouping,
} from '@topicdesk/data';
import type { UnitOfWork } from './unit-of-work';

/** Business hours as the admin API shows them; `schedule` null: 24/7. */
export interface BusinessHoursSettings {
  timeZone: string;
  schedule: BusinessInterval[] | null;
  updatedAt: Date | null;
}

export const ALWAYS_OPEN: BusinessHoursSettings = {
  timeZone: 'UTC',
  schedule: null,
  updatedAt: null,
};

/** A report's range: instants, or local dates (`YYYY-MM-DD`) in the business-hours zone. */
export type ReportBound = Date | { date: string };

export interface ReportRequest {
  tenantId: string;
  from: ReportBound;
  /** A date is inclusive: the report runs to the end of that local day. */
  to: ReportBound;
  groupBy?: ReportGrouping | undefined;
}

/** What a report answers: the rows of its grouping and the totals of the whole range. */
export interface Report {
  from: Date;
  to: Date;
  groupBy: ReportGrouping | undefined;
  businessHours: BusinessHoursSettings;
  rows: ReportFigures[];
  total: ReportFigures;
}

function emptyFigures(): ReportFigures {
  return {
    key: null,
    label: null,
    conversations: 0,
    firstResponses: 0,
    firstResponseAvg: null,
    firstResponseMedian: null,
    firstResponseBusinessAvg: null,
    firstResponseBusinessMedian: null,
    resolutions: 0,
    resolutionAvg: null,
    resolutionMedian: null,
    resolutionBusinessAvg: null,
    replies: 0,
    replyTimeAvg: null,
    surveys: 0,
    ratings: 0,
    positiveRatings: 0,
    slaFirstResponses: 0,
    slaFirstResponsesMet: 0,
    slaResolutions: 0,
    slaResolutionsMet: 0,
  };
}

/**
 * Reports (docs/reports.md) and the business hours they count in. Reading a report writes
 * nothing; a change of business hours is audited like every admin change.
 */
export class Reports {
  constructor(private readonly uow: UnitOfWork) {}

  async businessHours(tenantId: string): Promise<BusinessHoursSettings> {
    const row = await new ReportRepository(this.uow.db).businessHours(tenantId);
    if (!row) return ALWAYS_OPEN;
    return { timeZone: row.time_zone, schedule: row.schedule, updatedAt: row.updated_at };
  }

  setBusinessHours(
    tenantId: string,
    actor: string,
    timeZone: string,
    schedule: BusinessInterval[],
  ): Promise<BusinessHoursSettings> {
    return this.uow.run(async (work) => {
      const row = await new ReportRepository(work.trx).setBusinessHours(
        tenantId,
        timeZone,
        schedule,
      );
      await new AuditRepository(work.trx).record({
        tenantId,
        actorType: 'admin',
        actorId: actor,
        action: 'settings.business_hours',
        details: { timeZone, schedule },
      });
      return { timeZone: row.time_zone, schedule: row.schedule, updatedAt: row.updated_at };
    });
  }

  /** Back to 24/7 (UTC); false when no schedule was set. */
  clearBusinessHours(tenantId: string, actor: string): Promise<boolean> {
    return this.uow.run(async (work) => {
      const cleared = await new ReportRepository(work.trx).clearBusinessHours(tenantId);
      if (cleared)
        await new AuditRepository(work.trx).record({
          tenantId,
          actorType: 'admin',
          actorId: actor,
          action: 'settings.business_hours_clear',
        });
      return cleared;
    });
  }

  async report(request: ReportRequest): Promise<Report> {
    const repository = new ReportRepository(this.uow.db);
    const hours = await this.businessHours(request.tenantId);
    const [from, to] = await Promise.all([
      this.#instant(repository, request.from, hours.timeZone, 0),
      this.#instant(repository, request.to, hours.timeZone, 1),
    ]);
    const query = {
      tenantId: request.tenantId,
      from,
      to,
      timeZone: hours.timeZone,
      schedule: hours.schedule,
    };
    const [rows, totals] = await Promise.all([
      request.groupBy ? repository.figures({ ...query, groupBy: request.groupBy }) : [],
      repository.figures(query),
    ]);
    return {
      from,
      to,
      groupBy: request.groupBy,
      businessHours: hours,
      rows,
      total: totals[0] ?? emptyFigures(),
    };
  }

  /** An instant as it is; a local date as its midnight there, `days` later. */
  #instant(
    repository: ReportRepository,
    bound: ReportBound,
    timeZone: string,
    days: number,
  ): Promise<Date> {
    if (bound instanceof Date) return Promise.resolve(bound);
    return repository.localMidnight(bound.date, timeZone, days);
  }
}
