import type { ComponentChildren, JSX } from 'preact';
import { createContext } from 'preact';
import { useCallback, useContext, useEffect, useState } from 'preact/hooks';
import { ApiError, type ConsoleClient } from './api/client';
import type { SessionAnswer } from './api/views';
import { href, navigate, onLinkClick, useRoute } from './router';

export interface ConsoleContext {
  client: ConsoleClient;
  session: SessionAnswer;
  /** Whether the signed-in role has the permission (the session answer lists them). */
  may: (permission: string) => boolean;
  signOut: () => Promise<void>;
}

export const Ctx = createContext<ConsoleContext | undefined>(undefined);

export function useConsole(): ConsoleContext {
  const context = useContext(Ctx);
  if (!context) throw new Error('useConsole outside the signed-in console');
  return context;
}

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` now and whenever `deps` change; `reload()` runs it again. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({
    loading: true,
  });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let current = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => current && setState({ data, loading: false }),
      (error: unknown) => current && setState({ error, loading: false }),
    );
    return () => {
      current = false;
    };
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}

/** A change: while it runs the button is busy; its error or `done` text is shown beside. */
export function useAction(): {
  busy: boolean;
  message: ComponentChildren;
  run: (action: () => Promise<unknown>, done?: string) => Promise<void>;
} {
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<ComponentChildren>(null);
  const run = useCallback(async (action: () => Promise<unknown>, done?: string) => {
    setBusy(true);
    setMessage(null);
    try {
      await action();
      if (done) setMessage(<Notice kind="ok">{done}</Notice>);
    } catch (error) {
      setMessage(<ErrorNotice error={error} />);
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, message, run };
}

export function Notice(props: { kind: 'ok' | 'error' | 'info'; children: ComponentChildren }) {
  return (
    <p class={`notice ${props.kind}`} role={props.kind === 'error' ? 'alert' : 'status'}>
      {props.children}
    </p>
  );
}

export function ErrorNotice({ error }: { error: unknown }) {
  if (error instanceof ApiError && error.status === 404 && error.code === 'NOT_FOUND')
    return <Notice kind="info">This gateway does not offer this yet ({error.message}).</Notice>;
  if (error instanceof ApiError)
    return (
      <Notice kind="error">
        {error.message} <code>{error.code}</code>
      </Notice>
    );
  return <Notice kind="error">{error instanceof Error ? error.message : String(error)}</Notice>;
}

/** The loading / error / data states of a `useLoad` answer. */
export function Show<T>(props: { loaded: Loaded<T>; children: (data: T) => ComponentChildren }) {
  const { data, error, loading } = props.loaded;
  if (error !== undefined) return <ErrorNotice error={error} />;
  if (data === undefined)
    return loading ? (
      <p class="muted" aria-busy="true">
        Loading…
      </p>
    ) : null;
  return <>{props.children(data)}</>;
}

export function Link(props: { to: string; class?: string; children: ComponentChildren }) {
  return (
    <a href={href(props.to)} class={props.class} onClick={(e) => onLinkClick(e, props.to)}>
      {props.children}
    </a>
  );
}

export function Page(props: {
  title: string;
  actions?: ComponentChildren;
  children: ComponentChildren;
}) {
  useEffect(() => {
    document.title = `${props.title} · Topicdesk console`;
  }, [props.title]);
  return (
    <section class="page" aria-labelledby="page-title">
      <header class="page-head">
        <h1 id="page-title" tabIndex={-1}>
          {props.title}
        </h1>
        {props.actions ? <div class="actions">{props.actions}</div> : null}
      </header>
      {props.children}
    </section>
  );
}

export function Field(props: { label: string; hint?: string; children: ComponentChildren }) {
  return (
    <label class="field">
      <span class="label">{props.label}</span>
      {props.children}
      {props.hint ? <small class="muted">{props.hint}</small> : null}
    </label>
  );
}

/** A button that needs a permission: without it, disabled and saying why. */
export function Guarded(
  props: { permission: string } & JSX.ButtonHTMLAttributes<HTMLButtonElement>,
) {
  const { permission, children, disabled, ...rest } = props;
  const allowed = useConsole().may(permission);
  return (
    <button
      {...rest}
      disabled={!allowed || disabled}
      title={allowed ? rest.title : `Your role may not do this (${permission})`}
    >
      {children}
    </button>
  );
}

export const inputValue = (event: Event) => (event.currentTarget as HTMLInputElement).value;
export const inputChecked = (event: Event) => (event.currentTarget as HTMLInputElement).checked;

/**
 * The colour scheme the page is drawn in now. Custom properties follow a light/dark switch by
 * themselves; what reads them once (a chart's canvas) redraws when this changes.
 */
export function useColourScheme(): 'light' | 'dark' {
  const query = '(prefers-color-scheme: dark)';
  const [dark, setDark] = useState(() => window.matchMedia(query).matches);
  useEffect(() => {
    const media = window.matchMedia(query);
    const changed = () => setDark(media.matches);
    media.addEventListener('change', changed);
    changed();
    return () => media.removeEventListener('change', changed);
  }, []);
  return dark ? 'dark' : 'light';
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime())
    ? iso
    : date.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'short' });
}

export function formatSeconds(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return '—';
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86_400).toFixed(1)} d`;
}

/** Save and Cancel under an editor form. */
export function FormButtons(props: {
  busy: boolean;
  onCancel: () => void;
  save?: string;
  children?: ComponentChildren;
}) {
  return (
    <div class="buttons">
      <button type="submit" class="primary" disabled={props.busy}>
        {props.save ?? 'Save'}
      </button>
      <button type="button" onClick={props.onCancel}>
        Cancel
      </button>
      {props.children}
    </div>
  );
}

export interface Column<T> {
  label: string;
  /** The header is read by screen readers only (an actions column). */
  hiddenLabel?: boolean;
  cell: (row: T) => ComponentChildren;
  class?: string;
}

/** A table in a box that scrolls sideways on a phone (and can be scrolled by keyboard). */
export function Table<T>(props: {
  rows: readonly T[];
  columns: ReadonlyArray<Column<T> | false>;
  rowKey: (row: T) => string | number;
  /** A class for a row that stands out (e.g. a paused bot). */
  rowClass?: (row: T) => string | undefined;
  class?: string;
  empty?: string;
}) {
  if (props.rows.length === 0 && props.empty) return <p class="muted">{props.empty}</p>;
  const columns = props.columns.filter((c): c is Column<T> => c !== false);
  return (
    <div class="table-wrap" tabIndex={0}>
      <table class={props.class}>
        <thead>
          <tr>
            {columns.map((c) => (
              <th scope="col" key={c.label}>
                {c.hiddenLabel ? <span class="visually-hidden">{c.label}</span> : c.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.rows.map((row) => (
            <tr key={props.rowKey(row)} class={props.rowClass?.(row)}>
              {columns.map((c) => (
                <td key={c.label} class={c.class} data-label={c.label}>
                  {c.cell(row)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** A checkbox with its label after it. */
export function Check(props: {
  label: string;
  checked: boolean;
  onChange: (on: boolean) => void;
  disabled?: boolean;
}) {
  return (
    <label class="check">
      <input
        type="checkbox"
        checked={props.checked}
        disabled={props.disabled}
        onChange={(e) => props.onChange(inputChecked(e))}
      />{' '}
      {props.label}
    </label>
  );
}

/** A select over `[value, label]` pairs. */
export function Choice(props: {
  value: string;
  options: ReadonlyArray<readonly [string, string]>;
  onChange: (value: string) => void;
}) {
  return (
    <select value={props.value} onChange={(e) => props.onChange(inputValue(e))}>
      {props.options.map(([value, label]) => (
        <option key={value} value={value}>
          {label}
        </option>
      ))}
    </select>
  );
}

/**
 * Filters kept in the URL (a filtered list can be shared and survives a reload): the applied
 * ones, a draft the form edits, and `apply` that navigates to the draft.
 */
export function useUrlFilters<F extends string>(names: readonly F[], path: string) {
  const { query } = useRoute();
  const filters = Object.fromEntries(names.map((f) => [f, query.get(f) ?? ''])) as Record<
    F,
    string
  >;
  const [draft, setDraft] = useState(filters);
  /** A field's handler: an input's event, or a Choice's value. */
  const set = (name: F) => (input: Event | string) =>
    setDraft({ ...draft, [name]: typeof input === 'string' ? input : inputValue(input) });
  const apply = (event: Event) => {
    event.preventDefault();
    const next = new URLSearchParams();
    for (const f of names) if (draft[f]) next.set(f, draft[f]);
    navigate(path, next);
  };
  return { filters, draft, set, apply, key: query.toString() };
}

/** The filter form's Apply button. */
export function ApplyButton() {
  return (
    <div class="filter-actions">
      <button type="submit" class="primary">
        Apply
      </button>
    </div>
  );
}

/** An editor: its fields, an Active box if given, Save and Cancel. */
export function EditorForm(props: {
  label: string;
  busy: boolean;
  onSave: () => void;
  onCancel: () => void;
  active?: { checked: boolean; onChange: (on: boolean) => void };
  children: ComponentChildren;
}) {
  return (
    <form
      class="editor"
      aria-label={props.label}
      onSubmit={(e) => {
        e.preventDefault();
        props.onSave();
      }}
    >
      {props.children}
      {props.active ? <Check label="Active" {...props.active} /> : null}
      <FormButtons busy={props.busy} onCancel={props.onCancel} />
    </form>
  );
}

/** From and To date fields of a filter form (UTC days; To includes its day). */
export function DateFields<F extends string>(props: {
  draft: Record<F | 'from' | 'to', string>;
  set: (name: F | 'from' | 'to') => (input: Event | string) => void;
}) {
  return (
    <>
      <Field label="From">
        <input type="date" value={props.draft.from} onInput={props.set('from')} />
      </Field>
      <Field label="To">
        <input type="date" value={props.draft.to} onInput={props.set('to')} />
      </Field>
    </>
  );
}

export interface CursorPage<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * A list fetched by cursor: the first page whenever `key` changes (the filters), then `more()`
 * appends the next. A cursor is the server's and is passed back as it came.
 */
export function useCursorPages<T>(load: (cursor?: string) => Promise<CursorPage<T>>, key: string) {
  const [more, setMore] = useState<CursorPage<T>>();
  const [moreError, setMoreError] = useState<unknown>();
  const first = useLoad(async () => {
    setMore(undefined);
    return load();
  }, [key]);
  const items = [...(first.data?.items ?? []), ...(more?.items ?? [])];
  const cursor = more ? more.nextCursor : (first.data?.nextCursor ?? null);
  const loadMore = async () => {
    if (!cursor) return;
    try {
      const page = await load(cursor);
      setMore({ items: [...(more?.items ?? []), ...page.items], nextCursor: page.nextCursor });
    } catch (error) {
      setMoreError(error);
    }
  };
  return { first, items, hasMore: cursor !== null, loadMore, moreError };
}
