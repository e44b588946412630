import { useState } from 'preact/hooks';
import { expect } from '../api/client';
import type { ConversationItem, ConversationPage } from '../api/views';

type ConversationStatus = 'open' | 'closed' | 'waiting' | 'assigned';
type Priority = 'high' | 'normal' | 'low';
import { navigate, useRoute } from '../router';
import { ErrorNotice, Field, formatTime, inputValue, Link, Page, useConsole, useLoad } from '../ui';

const FILTERS = ['status', 'agent', 'group', 'level', 'priority', 'from', 'to', 'q'] as const;
type Filter = (typeof FILTERS)[number];

/** Filters live in the URL (a filtered list can be shared); pages are fetched by cursor. */
export function ConversationsPage() {
  const { client } = useConsole();
  const { query } = useRoute();
  const filters = Object.fromEntries(FILTERS.map((f) => [f, query.get(f) ?? ''])) as Record<
    Filter,
    string
  >;
  const [draft, setDraft] = useState(filters);
  const [more, setMore] = useState<{ items: ConversationItem[]; cursor: string | null }>();
  const [moreError, setMoreError] = useState<unknown>();
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
            group: number(filters.group),
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
  const first = useLoad(async () => {
    setMore(undefined);
    return list();
  }, [query.toString()]);
  const items = [...(first.data?.items ?? []), ...(more?.items ?? [])];
  const cursor = more ? more.cursor : (first.data?.nextCursor ?? null);

  const apply = (event: Event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const f of FILTERS) if (draft[f]) next.set(f, draft[f]);
    navigate('/conversations', next);
  };
  const loadMore = async () => {
    if (!cursor) return;
    try {
      const page = await list(cursor);
      setMore({ items: [...(more?.items ?? []), ...page.items], cursor: page.nextCursor });
    } catch (error) {
      setMoreError(error);
    }
  };
  const set = (f: Filter) => (e: Event) => setDraft({ ...draft, [f]: inputValue(e) });

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
          <select value={draft.status} onChange={set('status')}>
            <option value="">Any</option>
            <option value="open">Open</option>
            <option value="waiting">Waiting for an agent</option>
            <option value="assigned">Assigned</option>
            <option value="closed">Closed</option>
          </select>
        </Field>
        <Field label="Priority">
          <select value={draft.priority} onChange={set('priority')}>
            <option value="">Any</option>
            <option value="high">High</option>
            <option value="normal">Normal</option>
            <option value="low">Low</option>
          </select>
        </Field>
        <Field label="Level">
          <select value={draft.level} onChange={set('level')}>
            <option value="">Any</option>
            <option value="1">1</option>
            <option value="2">2</option>
            <option value="3">3</option>
          </select>
        </Field>
        <Field label="Agent (Telegram id)">
          <input inputMode="numeric" value={draft.agent} onInput={set('agent')} />
        </Field>
        <Field label="Group (chat id)">
          <input value={draft.group} onInput={set('group')} />
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
      {first.error !== undefined ? <ErrorNotice error={first.error} /> : null}
      {first.loading && !first.data ? <p class="muted">Loading…</p> : null}
      {first.data && items.length === 0 ? <p class="muted">No conversations match.</p> : null}
      {items.length > 0 ? (
        <div class="table-wrap" tabIndex={0}>
          <table class="conversations">
            <thead>
              <tr>
                <th scope="col">Ticket</th>
                <th scope="col">Visitor</th>
                <th scope="col">Status</th>
                <th scope="col">Priority</th>
                <th scope="col">Agent</th>
                <th scope="col">Messages</th>
                <th scope="col">Last activity</th>
              </tr>
            </thead>
            <tbody>
              {items.map((c) => (
                <tr key={c.id}>
                  <td>
                    <Link to={`/conversations/${encodeURIComponent(c.ticket)}`}>{c.ticket}</Link>
                  </td>
                  <td>{c.visitorName ?? '—'}</td>
                  <td>
                    <span class={`badge ${c.status}`}>{c.status}</span>
                    {c.waitingSince ? <span class="badge waiting">waiting</span> : null}
                  </td>
                  <td>{c.priority}</td>
                  <td>{c.assignee?.displayName ?? c.assignee?.telegramUserId ?? '—'}</td>
                  <td>{c.messageCount}</td>
                  <td>{formatTime(c.lastActivityAt ?? c.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {moreError !== undefined ? <ErrorNotice error={moreError} /> : null}
      {cursor ? (
        <button onClick={() => void loadMore()} class="more">
          More
        </button>
      ) : null}
    </Page>
  );
}
