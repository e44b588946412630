import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { DEFAULT_TENANT_ID, ReportRepository, type BusinessInterval } from '../src/index';
import { backends, useDatabase } from './backends';

/** Monday to Friday, 09:00–17:00 local time. */
const OFFICE: BusinessInterval[] = [1, 2, 3, 4, 5].map((day) => ({
  day,
  start: '09:00',
  end: '17:00',
}));

for (const backend of backends) {
  describe(`business hours (${backend.name})`, () => {
    const database = useDatabase(backend);

    const businessSeconds = async (
      from: string,
      to: string,
      zone: string,
      schedule: BusinessInterval[] | null,
    ) => {
      const json = schedule === null ? null : JSON.stringify(schedule);
      const result = await sql<{ seconds: number | null }>`
        select topicdesk_business_seconds(
          ${from}::timestamptz, ${to}::timestamptz, ${zone}::text, ${json}::jsonb
        ) as seconds
      `.execute(database.db);
      return result.rows[0]?.seconds;
    };

    it('counts only the hours of the schedule, local to its zone, across a weekend', async () => {
      // Friday 16:30 to Monday 09:30 in Berlin (UTC+1): 30 minutes on Friday, 30 on Monday.
      expect(
        await businessSeconds(
          '2026-12-04T15:30:00Z',
          '2026-12-07T08:30:00Z',
          'Europe/Berlin',
          OFFICE,
        ),
      ).toBe(3600);
      // The same instants in New York (UTC-5): Friday 10:30–17:00 and Monday 03:30 (closed).
      expect(
        await businessSeconds(
          '2026-12-04T15:30:00Z',
          '2026-12-07T08:30:00Z',
          'America/New_York',
          OFFICE,
        ),
      ).toBe(6.5 * 3600);
      // A weekend only: nothing.
      expect(
        await businessSeconds(
          '2026-12-05T08:00:00Z',
          '2026-12-06T20:00:00Z',
          'Europe/Berlin',
          OFFICE,
        ),
      ).toBe(0);
      // No schedule: every second; a span ending before it starts: none; no end: unknown.
      expect(
        await businessSeconds('2026-12-05T08:00:00Z', '2026-12-05T09:00:00Z', 'UTC', null),
      ).toBe(3600);
      expect(
        await businessSeconds('2026-12-05T09:00:00Z', '2026-12-05T08:00:00Z', 'UTC', OFFICE),
      ).toBe(0);
    });

    it('follows daylight saving time (Berlin moves to UTC+2 on 2026-03-29)', async () => {
      // Friday 16:00 CET (15:00Z) to Monday 10:00 CEST (08:00Z): one hour each side.
      expect(
        await businessSeconds(
          '2026-03-27T15:00:00Z',
          '2026-03-30T08:00:00Z',
          'Europe/Berlin',
          OFFICE,
        ),
      ).toBe(7200);
    });

    it('ends a day at 24:00 and adds the intervals of a split day', async () => {
      const late: BusinessInterval[] = [
        { day: 6, start: '08:00', end: '12:00' },
        { day: 6, start: '20:00', end: '24:00' },
      ];
      // Saturday 2026-12-05, 10:00 to Sunday 02:00 UTC: 2 h in the morning, 4 h at night.
      expect(
        await businessSeconds('2026-12-05T10:00:00Z', '2026-12-06T02:00:00Z', 'UTC', late),
      ).toBe(6 * 3600);
    });

    it('keeps one schedule per tenant, replaced by a new one and cleared back to none', async () => {
      const reports = new ReportRepository(database.db);
      expect(await reports.businessHours(DEFAULT_TENANT_ID)).toBeUndefined();
      await reports.setBusinessHours(DEFAULT_TENANT_ID, 'UTC', OFFICE);
      const saved = await reports.setBusinessHours(
        DEFAULT_TENANT_ID,
        'Europe/Berlin',
        OFFICE.slice(0, 1),
      );
      expect(saved).toMatchObject({ time_zone: 'Europe/Berlin', schedule: OFFICE.slice(0, 1) });
      expect((await reports.businessHours(DEFAULT_TENANT_ID))?.schedule).toEqual(
        OFFICE.slice(0, 1),
      );
      expect(await reports.localMidnight('2026-03-29', 'Europe/Berlin', 1)).toEqual(
        new Date('2026-03-29T22:00:00Z'),
      );
      expect(await reports.clearBusinessHours(DEFAULT_TENANT_ID)).toBe(true);
      expect(await reports.clearBusinessHours(DEFAULT_TENANT_ID)).toBe(false);
    });
  });
}
