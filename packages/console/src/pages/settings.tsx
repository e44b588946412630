import { useEffect, useState } from 'preact/hooks';
import { expect } from '../api/client';
import {
  DAYS,
  type BusinessHours,
  type Day,
  type Interval,
  type PriorityRule,
  type SlaSettings,
} from '../api/views';
import {
  Field,
  Guarded,
  inputChecked,
  inputValue,
  Page,
  Show,
  useAction,
  useConsole,
  useLoad,
} from '../ui';

/** Business hours, SLA targets and priority rules; changes need settings.write. */
export function SettingsPage() {
  return (
    <Page title="Settings">
      <BusinessHoursForm />
      <SlaForm />
      <PriorityRulesForm />
    </Page>
  );
}

const PRIORITIES = ['high', 'normal', 'low'] as const;

const intervalsText = (list: Interval[] | undefined) =>
  (list ?? []).map((i) => `${i.from}-${i.to}`).join(', ');
const parseIntervals = (text: string): Interval[] =>
  text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const [from = '', to = ''] = part.split('-').map((s) => s.trim());
      return { from, to };
    });

function BusinessHoursForm() {
  const { client } = useConsole();
  const loaded = useLoad(
    () => expect<BusinessHours>(client.GET('/v1/admin/settings/business-hours')),
    [],
  );
  const [zone, setZone] = useState('UTC');
  const [days, setDays] = useState<Record<Day, string>>(
    Object.fromEntries(DAYS.map((d) => [d, ''])) as Record<Day, string>,
  );
  useEffect(() => {
    if (!loaded.data) return;
    setZone(loaded.data.timeZone);
    setDays(
      Object.fromEntries(DAYS.map((d) => [d, intervalsText(loaded.data?.weekly?.[d])])) as Record<
        Day,
        string
      >,
    );
  }, [loaded.data]);
  const action = useAction();
  return (
    <section aria-labelledby="hours-title" class="panel">
      <h2 id="hours-title">Business hours</h2>
      <Show loaded={loaded}>
        {(hours) => (
          <form
            class="editor"
            onSubmit={(e) => {
              e.preventDefault();
              void action.run(async () => {
                await expect(
                  client.PUT('/v1/admin/settings/business-hours', {
                    body: {
                      timeZone: zone,
                      weekly: Object.fromEntries(
                        DAYS.filter((d) => days[d].trim()).map((d) => [d, parseIntervals(days[d])]),
                      ),
                    },
                  }),
                );
                loaded.reload();
              }, 'Business hours saved.');
            }}
          >
            <p class="muted">
              {hours.alwaysOpen ? 'Now: open 24/7.' : 'Reports count business time in these hours.'}
            </p>
            <Field label="Time zone" hint="IANA, e.g. Europe/Berlin">
              <input value={zone} onInput={(e) => setZone(inputValue(e))} required />
            </Field>
            <div class="days">
              {DAYS.map((d) => (
                <Field key={d} label={d} hint="09:00-17:00, closed when empty">
                  <input
                    value={days[d]}
                    onInput={(e) => setDays({ ...days, [d]: inputValue(e) })}
                  />
                </Field>
              ))}
            </div>
            <div class="buttons">
              <Guarded permission="settings.write" type="submit" class="primary">
                Save hours
              </Guarded>
              <Guarded
                permission="settings.write"
                type="button"
                onClick={() =>
                  void action.run(async () => {
                    await expect(client.DELETE('/v1/admin/settings/business-hours'));
                    loaded.reload();
                  }, 'Back to 24/7.')
                }
              >
                Open 24/7
              </Guarded>
            </div>
            {action.message}
          </form>
        )}
      </Show>
    </section>
  );
}

const minutes = (seconds: number | null | undefined) =>
  seconds === null || seconds === undefined ? '' : String(Math.round(seconds / 60));
const seconds = (text: string) => (text.trim() === '' ? null : Math.round(Number(text) * 60));

function SlaForm() {
  const { client } = useConsole();
  const loaded = useLoad(() => expect<SlaSettings>(client.GET('/v1/admin/settings/sla')), []);
  const [draft, setDraft] = useState<SlaSettings | undefined>();
  useEffect(() => setDraft(loaded.data), [loaded.data]);
  const action = useAction();
  const target = (p: (typeof PRIORITIES)[number]) =>
    draft?.targets[p] ?? {
      firstResponseSeconds: null,
      resolutionSeconds: null,
      businessHours: false,
    };
  return (
    <section aria-labelledby="sla-title" class="panel">
      <h2 id="sla-title">SLA targets</h2>
      <Show loaded={loaded}>
        {() =>
          draft ? (
            <form
              class="editor"
              onSubmit={(e) => {
                e.preventDefault();
                const targets: SlaSettings['targets'] = {};
                for (const p of PRIORITIES) {
                  const t = target(p);
                  if (t.firstResponseSeconds !== null || t.resolutionSeconds !== null)
                    targets[p] = t;
                }
                void action.run(async () => {
                  await expect(
                    client.PUT('/v1/admin/settings/sla', {
                      body: { remindAtPercent: draft.remindAtPercent, targets },
                    }),
                  );
                  loaded.reload();
                }, 'SLA targets saved.');
              }}
            >
              <div class="table-wrap" tabIndex={0}>
                <table>
                  <thead>
                    <tr>
                      <th scope="col">Priority</th>
                      <th scope="col">First response (min)</th>
                      <th scope="col">Resolution (min)</th>
                      <th scope="col">Business hours</th>
                    </tr>
                  </thead>
                  <tbody>
                    {PRIORITIES.map((p) => {
                      const t = target(p);
                      const put = (change: Partial<typeof t>) =>
                        setDraft({
                          ...draft,
                          targets: { ...draft.targets, [p]: { ...t, ...change } },
                        });
                      return (
                        <tr key={p}>
                          <th scope="row">{p}</th>
                          <td>
                            <input
                              type="number"
                              min={1}
                              aria-label={`${p}: first response in minutes`}
                              value={minutes(t.firstResponseSeconds)}
                              onInput={(e) => put({ firstResponseSeconds: seconds(inputValue(e)) })}
                            />
                          </td>
                          <td>
                            <input
                              type="number"
                              min={1}
                              aria-label={`${p}: resolution in minutes`}
                              value={minutes(t.resolutionSeconds)}
                              onInput={(e) => put({ resolutionSeconds: seconds(inputValue(e)) })}
                            />
                          </td>
                          <td>
                            <input
                              type="checkbox"
                              aria-label={`${p}: count business hours only`}
                              checked={t.businessHours}
                              onChange={(e) => put({ businessHours: inputChecked(e) })}
                            />
                          </td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              </div>
              <Field label="Remind at (% of the target)">
                <input
                  type="number"
                  min={1}
                  max={99}
                  value={draft.remindAtPercent ?? ''}
                  onInput={(e) =>
                    setDraft({
                      ...draft,
                      remindAtPercent: inputValue(e) === '' ? null : Number(inputValue(e)),
                    })
                  }
                />
              </Field>
              <Guarded permission="settings.write" type="submit" class="primary">
                Save SLA
              </Guarded>
              {action.message}
            </form>
          ) : null
        }
      </Show>
    </section>
  );
}

function PriorityRulesForm() {
  const { client } = useConsole();
  const loaded = useLoad(
    () => expect<{ rules: PriorityRule[] }>(client.GET('/v1/admin/priority-rules')),
    [],
  );
  const [rules, setRules] = useState<PriorityRule[]>([]);
  useEffect(() => setRules(loaded.data?.rules ?? []), [loaded.data]);
  const action = useAction();
  const put = (index: number, change: Partial<PriorityRule>) =>
    setRules(rules.map((r, i) => (i === index ? { ...r, ...change } : r)));
  return (
    <section aria-labelledby="rules-title" class="panel">
      <h2 id="rules-title">Priority rules</h2>
      <p class="muted">The first rule that matches a new conversation sets its priority.</p>
      <Show loaded={loaded}>
        {() => (
          <form
            class="editor"
            onSubmit={(e) => {
              e.preventDefault();
              void action.run(async () => {
                await expect(client.PUT('/v1/admin/priority-rules', { body: { rules } }));
                loaded.reload();
              }, 'Rules saved.');
            }}
          >
            <ol class="rules">
              {rules.map((r, i) => (
                <li key={i} class="row">
                  <Field label="Page URL starts with">
                    <input
                      value={r.pageUrlPrefix ?? ''}
                      onInput={(e) => put(i, { pageUrlPrefix: inputValue(e) || null })}
                    />
                  </Field>
                  <Field label="Locale">
                    <input
                      value={r.locale ?? ''}
                      onInput={(e) => put(i, { locale: inputValue(e) || null })}
                    />
                  </Field>
                  <Field label="Priority">
                    <select
                      value={r.priority}
                      onChange={(e) =>
                        put(i, { priority: inputValue(e) as PriorityRule['priority'] })
                      }
                    >
                      {PRIORITIES.map((p) => (
                        <option key={p} value={p}>
                          {p}
                        </option>
                      ))}
                    </select>
                  </Field>
                  <button type="button" onClick={() => setRules(rules.filter((_, j) => j !== i))}>
                    Remove
                  </button>
                </li>
              ))}
            </ol>
            <div class="buttons">
              <button
                type="button"
                onClick={() =>
                  setRules([
                    ...rules,
                    { pageUrlPrefix: null, locale: null, segment: null, priority: 'high' },
                  ])
                }
              >
                Add rule
              </button>
              <Guarded permission="settings.write" type="submit" class="primary">
                Save rules
              </Guarded>
            </div>
            {action.message}
          </form>
        )}
      </Show>
    </section>
  );
}
