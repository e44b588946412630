import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { expect } from '../api/client';
import type { Report } from '../api/views';
import {
  Field,
  formatSeconds,
  inputValue,
  Page,
  Show,
  useColourScheme,
  useConsole,
  useLoad,
} from '../ui';

const DAY_MS = 86_400_000;
const isoDate = (date: Date) => date.toISOString().slice(0, 10);

/** Figures by day from GET /v1/admin/reports?groupBy=day, drawn with uPlot. */
export function ReportsPage() {
  const { client } = useConsole();
  const [range, setRange] = useState({
    from: isoDate(new Date(Date.now() - 13 * DAY_MS)),
    to: isoDate(new Date(Date.now() + DAY_MS)),
  });
  const loaded = useLoad(
    () =>
      expect<Report>(
        client.GET('/v1/admin/reports', {
          params: { query: { from: range.from, to: range.to, groupBy: 'day' } },
        }),
      ),
    [range.from, range.to],
  );
  return (
    <Page title="Reports">
      <form class="filters" aria-label="Range" onSubmit={(e) => e.preventDefault()}>
        <Field label="From">
          <input
            type="date"
            value={range.from}
            onChange={(e) => setRange({ ...range, from: inputValue(e) })}
          />
        </Field>
        <Field label="To (not included)">
          <input
            type="date"
            value={range.to}
            onChange={(e) => setRange({ ...range, to: inputValue(e) })}
          />
        </Field>
      </form>
      <Show loaded={loaded}>
        {(report) => {
          // Every day of the range, those without conversations too (the report leaves them out).
          const byDay = new Map(report.rows.map((r) => [r.key, r]));
          const keys: string[] = [];
          for (let t = Date.parse(range.from); t < Date.parse(range.to); t += DAY_MS)
            keys.push(isoDate(new Date(t)));
          const days = keys.map((k) => Date.parse(`${k}T12:00:00Z`) / 1000);
          const rows = keys.map((k) => byDay.get(k));
          const minutes = (s: number | null | undefined) => (s == null ? null : s / 60);
          return (
            <>
              <ul class="cards" aria-label="Totals">
                <li class="card">
                  <span class="card-label">Conversations</span>
                  <span class="card-value">{report.total.conversations}</span>
                </li>
                <li class="card">
                  <span class="card-label">First response (median)</span>
                  <span class="card-value">
                    {formatSeconds(report.total.firstResponse.medianSeconds)}
                  </span>
                </li>
                <li class="card">
                  <span class="card-label">Resolution (median)</span>
                  <span class="card-value">
                    {formatSeconds(report.total.resolution.medianSeconds)}
                  </span>
                </li>
                <li class="card">
                  <span class="card-label">CSAT</span>
                  <span class="card-value">
                    {report.total.csat.score === null
                      ? '—'
                      : `${Math.round(report.total.csat.score * 100)} %`}
                  </span>
                </li>
              </ul>
              <div class="charts">
                <Chart
                  title="Volume by day"
                  unit="conversations"
                  x={days}
                  series={[['Conversations', rows.map((r) => r?.conversations ?? 0)]]}
                  bars
                />
                {(
                  [
                    ['First response', 'firstResponse'],
                    ['Resolution', 'resolution'],
                  ] as const
                ).map(([title, figure]) => (
                  <Chart
                    key={figure}
                    title={title}
                    unit="minutes"
                    x={days}
                    series={[
                      ['Average', rows.map((r) => minutes(r?.[figure].avgSeconds))],
                      ['Median', rows.map((r) => minutes(r?.[figure].medianSeconds))],
                    ]}
                  />
                ))}
                <Chart
                  title="CSAT"
                  unit="% positive"
                  x={days}
                  series={[
                    ['CSAT', rows.map((r) => (r?.csat.score == null ? null : r.csat.score * 100))],
                  ]}
                />
              </div>
            </>
          );
        }}
      </Show>
    </Page>
  );
}

type Series = [label: string, values: Array<number | null>];

/** One uPlot chart, as wide as its box, in the page's colours (light or dark). */
function Chart(props: {
  title: string;
  unit: string;
  x: number[];
  series: Series[];
  bars?: boolean;
}) {
  const box = useRef<HTMLDivElement>(null);
  // The canvas takes its colours when drawn: a light/dark switch draws it again.
  const scheme = useColourScheme();
  const empty = props.series.every(([, values]) => values.every((v) => v === null));
  useEffect(() => {
    const element = box.current;
    if (!element || empty) return;
    const style = getComputedStyle(element);
    const colour = (name: string) => style.getPropertyValue(name).trim() || 'gray';
    const palette = [colour('--chart-1'), colour('--chart-2')];
    const axis = {
      stroke: colour('--text'),
      grid: { stroke: colour('--line') },
      ticks: { stroke: colour('--line') },
    };
    const plot = new uPlot(
      {
        width: Math.max(element.clientWidth, 240),
        height: 220,
        scales: { x: { time: true } },
        axes: [axis, { ...axis, label: props.unit }],
        series: [
          {},
          ...props.series.map(([label], i) => ({
            label,
            stroke: palette[i % palette.length],
            width: 2,
            ...(props.bars
              ? {
                  fill: palette[i % palette.length],
                  paths: uPlot.paths.bars?.({ size: [0.6, 40] }),
                }
              : { points: { show: true } }),
          })),
        ],
      },
      [props.x, ...props.series.map(([, values]) => values)] as uPlot.AlignedData,
      element,
    );
    const resize = new ResizeObserver(() =>
      plot.setSize({ width: Math.max(element.clientWidth, 240), height: 220 }),
    );
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [props.x, props.series, props.unit, props.bars, empty, scheme]);
  return (
    <figure class="chart">
      <figcaption>{props.title}</figcaption>
      {empty ? (
        <p class="muted">Nothing measured in this range.</p>
      ) : (
        <div ref={box} role="img" aria-label={`${props.title}, ${props.unit} by day`} />
      )}
    </figure>
  );
}
