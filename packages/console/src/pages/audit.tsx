import { useState } from 'preact/hooks';
import { expect, queryString } from '../api/client';
import type { AuditEntry } from '../api/views';

interface AuditPage {
  entries: AuditEntry[];
  nextCursor: string | null;
}
import { navigate, useRoute } from '../router';
import { ErrorNotice, Field, formatTime, inputValue, Page, useConsole, useLoad } from '../ui';

const FILTERS = ['action', 'actor', 'conversationId', 'from', 'to'] as const;
type Filter = (typeof FILTERS)[number];

/** The audit log, newest first, filtered in the URL; the CSV export takes the same filters. */
export function AuditPage() {
  const { client } = useConsole();
  const { query } = useRoute();
  const filters = Object.fromEntries(FILTERS.map((f) => [f, query.get(f) ?? ''])) as Record<
    Filter,
    string
  >;
  const [draft, setDraft] = useState(filters);
  const [older, setOlder] = useState<AuditPage>();
  const [olderError, setOlderError] = useState<unknown>();
  const page = (cursor?: string) =>
    expect<AuditPage>(
      client.GET('/v1/admin/audit', {
        params: {
          query: {
            action: filters.action || undefined,
            actor: filters.actor || undefined,
            conversationId: filters.conversationId || undefined,
            from: filters.from || undefined,
            to: filters.to || undefined,
            limit: 100,
            cursor,
          },
        },
      }),
    );
  const loaded = useLoad(async () => {
    setOlder(undefined);
    return page();
  }, [query.toString()]);
  const entries = [...(loaded.data?.entries ?? []), ...(older?.entries ?? [])];
  const cursor = older ? older.nextCursor : (loaded.data?.nextCursor ?? null);
  const set = (f: Filter) => (e: Event) => setDraft({ ...draft, [f]: inputValue(e) });
  const loadOlder = async () => {
    if (!cursor) return;
    try {
      const next = await page(cursor);
      setOlder({
        entries: [...(older?.entries ?? []), ...next.entries],
        nextCursor: next.nextCursor,
      });
    } catch (error) {
      setOlderError(error);
    }
  };
  return (
    <Page
      title="Audit log"
      actions={
        <a class="button" href={`/v1/admin/audit.csv${queryString(filters)}`} download="audit.csv">
          Export CSV
        </a>
      }
    >
      <form
        class="filters"
        aria-label="Filters"
        onSubmit={(e) => {
          e.preventDefault();
          const next = new URLSearchParams();
          for (const f of FILTERS) if (draft[f]) next.set(f, draft[f]);
          navigate('/audit', next);
        }}
      >
        <Field label="Action">
          <input value={draft.action} onInput={set('action')} placeholder="template.update" />
        </Field>
        <Field label="Actor">
          <input value={draft.actor} onInput={set('actor')} placeholder="agent:7001" />
        </Field>
        <Field label="Conversation id">
          <input value={draft.conversationId} onInput={set('conversationId')} />
        </Field>
        <Field label="From">
          <input type="date" value={draft.from} onInput={set('from')} />
        </Field>
        <Field label="To">
          <input type="date" value={draft.to} onInput={set('to')} />
        </Field>
        <div class="filter-actions">
          <button type="submit" class="primary">
            Apply
          </button>
        </div>
      </form>
      {loaded.error !== undefined ? <ErrorNotice error={loaded.error} /> : null}
      {loaded.data ? <AuditTable entries={entries} /> : null}
      {olderError !== undefined ? <ErrorNotice error={olderError} /> : null}
      {cursor ? (
        <button class="more" onClick={() => void loadOlder()}>
          Older
        </button>
      ) : null}
    </Page>
  );
}

export function AuditTable({ entries }: { entries: AuditEntry[] }) {
  if (entries.length === 0) return <p class="muted">No entries.</p>;
  return (
    <div class="table-wrap" tabIndex={0}>
      <table class="audit">
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Actor</th>
            <th scope="col">Action</th>
            <th scope="col">Details</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((e) => (
            <tr key={e.id}>
              <td>{formatTime(e.at)}</td>
              <td>
                {e.actor.type}:{e.actor.id}
              </td>
              <td>
                <code>{e.action}</code>
              </td>
              <td class="details">
                <code>{JSON.stringify(e.details)}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
