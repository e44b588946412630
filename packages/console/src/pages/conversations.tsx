import { expect } from '../api/client';
import type { ConversationPage } from '../api/views';

type ConversationStatus = 'open' | 'closed' | 'waiting' | 'assigned';
type Priority = 'high' | 'normal' | 'low';
import {
  ApplyButton,
  DateFields,
  Choice,
  ErrorNotice,
  Field,
  formatTime,
  Link,
  Page,
  Table,
  useConsole,
  useCursorPages,
  useUrlFilters,
} from '../ui';

const STATUSES = [
  ['', 'Any'],
  ['open', 'Open'],
  ['waiting', 'Waiting for an agent'],
  ['assigned', 'Assigned'],
  ['closed', 'Closed'],
] as const;
const PRIORITIES = [
  ['', 'Any'],
  ['high', 'High'],
  ['normal', 'Normal'],
  ['low', 'Low'],
] as const;
const LEVELS = [
  ['', 'Any'],
  ['1', '1'],
  ['2', '2'],
  ['3', '3'],
] as const;

const FILTERS = ['status', 'agent', 'group', 'level', 'priority', 'from', 'to', 'q'] as const;

/** Filters live in the URL (a filtered list can be shared); pages are fetched by cursor. */
export function ConversationsPage() {
  const { client } = useConsole();
  const { filters, draft, set, apply, key } = useUrlFilters(FILTERS, '/conversations');
  const number = (text: string) => (text === '' ? undefined : Number(text));
  const list = (cursor?: string) =>
    expect<ConversationPage>(
      client.GET('/v1/admin/conversations', {
        params: {
          query: {
            status: (filters.status || undefined) as ConversationStatus | undefined,
            priority: (filters.priority || undefined) as Priority | undefined,
            level: number(filters.level),
            agent: number(filters.agent),
            group: filters.group === 'default' ? 'default' : number(filters.group),
            // Dates are UTC days: `to` includes its day.
            from: filters.from || undefined,
            to: filters.to || undefined,
            q: filters.q || undefined,
            limit: 50,
            cursor,
          },
        },
      }),
    );
  const { first, items, hasMore, loadMore, moreError } = useCursorPages(list, key);

  return (
    <Page title="Conversations">
      <form class="filters" onSubmit={apply} aria-label="Filters">
        <Field label="Search">
          <input
            type="search"
            value={draft.q}
            onInput={set('q')}
            placeholder="Ticket, name, e-mail, text"
          />
        </Field>
        <Field label="Status">
          <Choice value={draft.status} options={STATUSES} onChange={set('status')} />
        </Field>
        <Field label="Priority">
          <Choice value={draft.priority} options={PRIORITIES} onChange={set('priority')} />
        </Field>
        <Field label="Level">
          <Choice value={draft.level} options={LEVELS} onChange={set('level')} />
        </Field>
        <Field label="Agent (Telegram id)">
          <input inputMode="numeric" value={draft.agent} onInput={set('agent')} />
        </Field>
        <Field label="Group (chat id, or default)">
          <input value={draft.group} onInput={set('group')} />
        </Field>
        <DateFields draft={draft} set={set} />
        <ApplyButton />
      </form>
      {first.error !== undefined ? <ErrorNotice error={first.error} /> : null}
      {first.loading && !first.data ? <p class="muted">Loading…</p> : null}
      {first.data && items.length === 0 ? <p class="muted">No conversations match.</p> : null}
      {items.length > 0 ? (
        <Table
          rows={items}
          rowKey={(c) => c.id}
          class="conversations"
          columns={[
            {
              label: 'Ticket',
              cell: (c) => (
                <Link to={`/conversations/${encodeURIComponent(c.ticket)}`}>{c.ticket}</Link>
              ),
            },
            { label: 'Visitor', cell: (c) => <bdi>{c.visitorName ?? '—'}</bdi> },
            {
              label: 'Status',
              cell: (c) => (
                <>
                  <span class={`badge ${c.status}`}>{c.status}</span>
                  {c.waitingSince ? <span class="badge waiting">waiting</span> : null}
                </>
              ),
            },
            { label: 'Priority', cell: (c) => c.priority },
            {
              label: 'Agent',
              cell: (c) => (
                <bdi>{c.assignee?.displayName ?? c.assignee?.telegramUserId ?? '—'}</bdi>
              ),
            },
            { label: 'Messages', cell: (c) => c.messageCount },
            { label: 'Last activity', cell: (c) => formatTime(c.lastActivityAt ?? c.createdAt) },
          ]}
        />
      ) : null}
      {moreError !== undefined ? <ErrorNotice error={moreError} /> : null}
      {hasMore ? (
        <button onClick={() => void loadMore()} class="more">
          More
        </button>
      ) : null}
    </Page>
  );
}
