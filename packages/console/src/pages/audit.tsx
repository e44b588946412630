import { expect, queryString } from '../api/client';
import type { AuditEntry } from '../api/views';
import {
  ApplyButton,
  DateFields,
  ErrorNotice,
  Field,
  formatTime,
  Page,
  Table,
  useConsole,
  useCursorPages,
  useUrlFilters,
} from '../ui';

const FILTERS = ['action', 'actor', 'conversationId', 'from', 'to'] as const;

/** The audit log, newest first, filtered in the URL; the CSV export takes the same filters. */
export function AuditPage() {
  const { client } = useConsole();
  const { filters, draft, set, apply, key } = useUrlFilters(FILTERS, '/audit');
  const query = {
    action: filters.action || undefined,
    actor: filters.actor || undefined,
    conversationId: filters.conversationId || undefined,
    from: filters.from || undefined,
    to: filters.to || undefined,
  };
  const { first, items, hasMore, loadMore, moreError } = useCursorPages(async (cursor) => {
    const page = await expect(
      client.GET('/v1/admin/audit', { params: { query: { ...query, limit: 100, cursor } } }),
    );
    return { items: page.entries, nextCursor: page.nextCursor };
  }, key);
  return (
    <Page
      title="Audit log"
      actions={
        <a class="button" href={`/v1/admin/audit.csv${queryString(query)}`} download="audit.csv">
          Export CSV
        </a>
      }
    >
      <form class="filters" aria-label="Filters" onSubmit={apply}>
        <Field label="Action">
          <input value={draft.action} onInput={set('action')} placeholder="template.update" />
        </Field>
        <Field label="Actor">
          <input value={draft.actor} onInput={set('actor')} placeholder="agent:7001" />
        </Field>
        <Field label="Conversation id">
          <input value={draft.conversationId} onInput={set('conversationId')} />
        </Field>
        <DateFields draft={draft} set={set} />
        <ApplyButton />
      </form>
      {first.error !== undefined ? <ErrorNotice error={first.error} /> : null}
      {first.data ? <AuditTable entries={items} /> : null}
      {moreError !== undefined ? <ErrorNotice error={moreError} /> : null}
      {hasMore ? (
        <button class="more" onClick={() => void loadMore()}>
          Older
        </button>
      ) : null}
    </Page>
  );
}

export function AuditTable({ entries }: { entries: AuditEntry[] }) {
  return (
    <Table
      rows={entries}
      rowKey={(e) => e.id}
      class="audit"
      empty="No entries."
      columns={[
        { label: 'When', cell: (e) => formatTime(e.at) },
        { label: 'Actor', cell: (e) => `${e.actor.type}:${e.actor.id}` },
        { label: 'Action', cell: (e) => <code>{e.action}</code> },
        {
          label: 'Details',
          class: 'details',
          cell: (e) => <code>{JSON.stringify(e.details)}</code>,
        },
      ]}
    />
  );
}
