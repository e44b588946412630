import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, createConsoleClient, expect, type ConsoleClient } from '../api/client';
import type { PlatformSession, Tenant } from '../api/views';
import { navigate, useRoute } from '../router';
import {
  Check,
  ErrorNotice,
  Field,
  FormButtons,
  formatTime,
  inputValue,
  Link,
  Notice,
  Page,
  Show,
  Table,
  useAction,
  useLoad,
} from '../ui';
import { StatusBadge, TenantPage } from './platform-tenant';

type State =
  | { kind: 'loading' }
  | { kind: 'signed-out' }
  | { kind: 'failed'; error: unknown }
  | { kind: 'signed-in'; session: PlatformSession };

/**
 * The platform view (`/console/platform`): the operator of the deployment signs in with
 * PLATFORM_TOKEN, which the gateway exchanges for an httpOnly cookie (the page never keeps the
 * token), and manages tenants. Not a tenant's console: no agent session is needed or used.
 */
export function PlatformApp() {
  const [state, setState] = useState<State>({ kind: 'loading' });
  const client = useMemo(
    () =>
      createConsoleClient({
        baseUrl: location.origin,
        csrfToken: () =>
          state.kind === 'signed-in' ? (state.session.csrfToken ?? undefined) : undefined,
      }),
    [state],
  );
  useEffect(() => {
    expect<PlatformSession>(client.GET('/v1/platform/session')).then(
      (session) => setState({ kind: 'signed-in', session }),
      (error: unknown) =>
        setState(
          error instanceof ApiError && error.status === 401
            ? { kind: 'signed-out' }
            : { kind: 'failed', error },
        ),
    );
  }, []);

  if (state.kind === 'loading')
    return (
      <main class="center" aria-busy="true">
        <p>Loading…</p>
      </main>
    );
  if (state.kind === 'failed')
    return (
      <main class="center">
        <ErrorNotice error={state.error} />
      </main>
    );
  if (state.kind === 'signed-out')
    return (
      <PlatformSignIn
        client={client}
        onSignedIn={(session) => setState({ kind: 'signed-in', session })}
      />
    );
  const signOut = async () => {
    await expect(client.POST('/console/sign-out/platform'));
    setState({ kind: 'signed-out' });
  };
  return <PlatformShell client={client} signOut={signOut} />;
}

function PlatformSignIn(props: {
  client: ConsoleClient;
  onSignedIn: (session: PlatformSession) => void;
}) {
  const [token, setToken] = useState('');
  const action = useAction();
  useEffect(() => {
    document.title = 'Platform sign-in · Topicdesk console';
  }, []);
  return (
    <main class="center sign-in">
      <h1>Topicdesk platform</h1>
      <p>
        Manage the sites (tenants) of this deployment. Sign in with the deployment&apos;s{' '}
        <code>PLATFORM_TOKEN</code>: this browser gets a session of one hour; the page does not keep
        the token.
      </p>
      {action.message}
      <form
        class="editor"
        aria-label="Platform sign-in"
        onSubmit={(e) => {
          e.preventDefault();
          void action.run(async () => {
            const session = await expect<PlatformSession>(
              props.client.POST('/console/sign-in/platform', { body: { token } }),
            );
            setToken('');
            props.onSignedIn(session);
          });
        }}
      >
        <Field label="Platform token">
          <input
            type="password"
            required
            autocomplete="off"
            value={token}
            onInput={(e) => setToken(inputValue(e))}
          />
        </Field>
        <div class="buttons">
          <button type="submit" class="primary" disabled={action.busy}>
            Sign in
          </button>
        </div>
      </form>
      <p class="muted">
        Agents of a site sign in from their bot instead: <Link to="/">the console</Link>.
      </p>
    </main>
  );
}

function PlatformShell(props: { client: ConsoleClient; signOut: () => Promise<void> }) {
  const { path } = useRoute();
  const tenant = /^\/platform\/tenants\/([^/]+)$/.exec(path);
  return (
    <div class="shell platform">
      <a class="skip" href="#main">
        Skip to the page
      </a>
      <header class="top">
        <span class="brand">
          <Link to="/platform">Topicdesk platform</Link>
        </span>
        <button class="link" onClick={() => void props.signOut()}>
          Sign out
        </button>
      </header>
      <main id="main">
        {tenant ? (
          <TenantPage client={props.client} id={decodeURIComponent(tenant[1]!)} />
        ) : path === '/platform' ? (
          <TenantsPage client={props.client} />
        ) : (
          <p class="notice info">
            No such page. <Link to="/platform">Tenants</Link>
          </p>
        )}
      </main>
    </div>
  );
}

interface NewTenantDraft {
  id: string;
  name: string;
  plan: string;
}

/** Every tenant (deleted ones on request), and a form for a new one. */
function TenantsPage({ client }: { client: ConsoleClient }) {
  const [withDeleted, setWithDeleted] = useState(false);
  const loaded = useLoad(
    () =>
      expect<{ items: Tenant[]; nextCursor: string | null }>(
        client.GET('/v1/platform/tenants', {
          params: { query: { limit: 200, includeDeleted: withDeleted ? 'true' : 'false' } },
        }),
      ),
    [withDeleted],
  );
  const [draft, setDraft] = useState<NewTenantDraft | undefined>();
  const action = useAction();
  const create = (d: NewTenantDraft) =>
    action.run(async () => {
      const created = await expect<Tenant>(
        client.POST('/v1/platform/tenants', {
          body: {
            name: d.name,
            ...(d.id ? { id: d.id } : {}),
            ...(d.plan ? { plan: d.plan } : {}),
          },
        }),
      );
      navigate(`/platform/tenants/${encodeURIComponent(created.id)}`);
    });
  return (
    <Page
      title="Tenants"
      actions={
        <button class="primary" onClick={() => setDraft({ id: '', name: '', plan: '' })}>
          New tenant
        </button>
      }
    >
      {action.message}
      {draft ? (
        <form
          class="editor"
          aria-label="New tenant"
          onSubmit={(e) => {
            e.preventDefault();
            void create(draft);
          }}
        >
          <Field label="Name">
            <input
              required
              value={draft.name}
              onInput={(e) => setDraft({ ...draft, name: inputValue(e) })}
            />
          </Field>
          <div class="row">
            <Field label="Id" hint="Optional: lower-case letters, digits and -">
              <input
                pattern="[a-z0-9][a-z0-9\-]{1,62}"
                value={draft.id}
                onInput={(e) => setDraft({ ...draft, id: inputValue(e) })}
              />
            </Field>
            <Field label="Plan" hint="Optional">
              <input
                value={draft.plan}
                onInput={(e) => setDraft({ ...draft, plan: inputValue(e) })}
              />
            </Field>
          </div>
          <FormButtons busy={action.busy} save="Create" onCancel={() => setDraft(undefined)} />
        </form>
      ) : null}
      <Check label="Show deleted tenants" checked={withDeleted} onChange={setWithDeleted} />
      <Show loaded={loaded}>
        {({ items, nextCursor }) => (
          <>
            <Table
              rows={items}
              rowKey={(t) => t.id}
              columns={[
                {
                  label: 'Name',
                  cell: (t) => (
                    <Link to={`/platform/tenants/${encodeURIComponent(t.id)}`}>
                      <bdi>{t.name}</bdi>
                    </Link>
                  ),
                },
                { label: 'Id', cell: (t) => <code>{t.id}</code> },
                { label: 'Status', cell: (t) => <StatusBadge status={t.status} /> },
                { label: 'Plan', cell: (t) => t.plan },
                { label: 'Bot', cell: (t) => (t.secrets.botToken.set ? 'set' : '—') },
                { label: 'Created', cell: (t) => formatTime(t.createdAt) },
              ]}
            />
            {nextCursor ? (
              <Notice kind="info">More than 200 tenants: the first 200 are shown.</Notice>
            ) : null}
          </>
        )}
      </Show>
    </Page>
  );
}
