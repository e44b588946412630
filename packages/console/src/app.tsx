import type { ComponentChildren } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, createConsoleClient, expect, type ConsoleClient } from './api/client';
import type { SessionAnswer } from './api/views';
import { AgentsPage } from './pages/agents';
import { AuditPage } from './pages/audit';
import { ConversationsPage } from './pages/conversations';
import { GroupsPage } from './pages/groups';
import { OverviewPage } from './pages/overview';
import { PlatformApp } from './pages/platform';
import { ReportsPage } from './pages/reports';
import { SessionsPage } from './pages/sessions';
import { SettingsPage } from './pages/settings';
import { SetupPage } from './pages/setup';
import { SignInPage } from './pages/sign-in';
import { TemplatesPage } from './pages/templates';
import { TranscriptPage } from './pages/transcript';
import { navigate, useRoute } from './router';
import { Ctx, ErrorNotice, Link, useConsole, type ConsoleContext } from './ui';

interface NavItem {
  path: string;
  label: string;
  /** Shown only with this permission. */
  permission: string;
  page: () => ComponentChildren;
}

const NAV: NavItem[] = [
  { path: '/', label: 'Overview', permission: 'reports.read', page: () => <OverviewPage /> },
  {
    path: '/conversations',
    label: 'Conversations',
    permission: 'transcripts.read',
    page: () => <ConversationsPage />,
  },
  { path: '/agents', label: 'Agents', permission: 'settings.read', page: () => <AgentsPage /> },
  { path: '/groups', label: 'Groups', permission: 'settings.read', page: () => <GroupsPage /> },
  {
    path: '/templates',
    label: 'Templates',
    permission: 'settings.read',
    page: () => <TemplatesPage />,
  },
  {
    path: '/settings',
    label: 'Settings',
    permission: 'settings.read',
    page: () => <SettingsPage />,
  },
  { path: '/reports', label: 'Reports', permission: 'reports.read', page: () => <ReportsPage /> },
  { path: '/audit', label: 'Audit log', permission: 'audit.read', page: () => <AuditPage /> },
  { path: '/setup', label: 'Setup', permission: 'operations', page: () => <SetupPage /> },
  { path: '/sessions', label: 'Sessions', permission: 'session', page: () => <SessionsPage /> },
];

type SessionState =
  | { kind: 'loading' }
  | { kind: 'signed-out' }
  | { kind: 'failed'; error: unknown }
  | { kind: 'signed-in'; answer: SessionAnswer };

/** The console, or at /console/platform the deployment operator's platform view. */
export function App() {
  const { path } = useRoute();
  return path === '/platform' || path.startsWith('/platform/') ? (
    <PlatformApp />
  ) : (
    <TenantConsole />
  );
}

function TenantConsole() {
  const [state, setState] = useState<SessionState>({ kind: 'loading' });
  const options = useMemo(
    () => ({
      baseUrl: location.origin,
      csrfToken: () => (state.kind === 'signed-in' ? state.answer.csrfToken : undefined),
    }),
    [state],
  );
  const client = useMemo(() => createConsoleClient(options), [options]);
  useEffect(() => {
    miniAppSignIn(client)
      .then(() => expect<SessionAnswer>(client.GET('/v1/console/session')))
      .then(
        (answer) => setState({ kind: 'signed-in', answer }),
        (error: unknown) =>
          setState(
            error instanceof ApiError && error.status === 401
              ? { kind: 'signed-out' }
              : { kind: 'failed', error },
          ),
      );
    // Once: the session does not change under a loaded page but by signing out.
  }, []);

  const context = useMemo((): ConsoleContext | undefined => {
    if (state.kind !== 'signed-in') return undefined;
    const answer = state.answer;
    return {
      client,
      session: answer,
      may: (permission) => answer.permissions.includes(permission),
      signOut: async () => {
        await expect(client.POST('/v1/console/sign-out'));
        setState({ kind: 'signed-out' });
        navigate('/');
      },
    };
  }, [state, client, options]);

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
  if (!context) return <SignInPage />;
  return (
    <Ctx.Provider value={context}>
      <Shell />
    </Ctx.Provider>
  );
}

/**
 * Opened inside Telegram as a Mini App (the bot's "Open the console here" button), the page's
 * fragment carries `tgWebAppData`: it is posted once to open a session, then taken out of the
 * URL so a reload or a shared address never carries it.
 */
async function miniAppSignIn(client: ConsoleClient): Promise<void> {
  const initData = new URLSearchParams(location.hash.slice(1)).get('tgWebAppData');
  if (!initData) return;
  history.replaceState(history.state, '', `${location.pathname}${location.search}`);
  await expect(client.POST('/console/sign-in/mini-app', { body: { initData } }));
}

function pageOf(path: string): { item: NavItem | undefined; page: ComponentChildren } {
  const transcript = /^\/conversations\/([^/]+)$/.exec(path);
  if (transcript)
    return {
      item: NAV[1],
      page: <TranscriptPage id={decodeURIComponent(transcript[1]!)} />,
    };
  const item = NAV.find((n) => n.path === path);
  return { item, page: item?.page() };
}

function Shell() {
  const { path } = useRoute();
  const { session, may, signOut } = useConsole();
  const { item, page } = pageOf(path);
  const nav = NAV.filter((n) => may(n.permission));
  const [menuOpen, setMenuOpen] = useState(false);
  useEffect(() => setMenuOpen(false), [path]);
  return (
    <div class="shell">
      <a class="skip" href="#main">
        Skip to the page
      </a>
      <header class="top">
        <span class="brand">Topicdesk</span>
        <button
          class="menu-toggle"
          aria-expanded={menuOpen}
          aria-controls="nav"
          onClick={() => setMenuOpen(!menuOpen)}
        >
          Menu
        </button>
        <span class="who">
          <bdi>{session.session.agent.displayName ?? session.session.agent.telegramUserId}</bdi>
          <span class="role">{session.session.role}</span>
        </span>
        <button class="link" onClick={() => void signOut()}>
          Sign out
        </button>
      </header>
      <nav id="nav" class={menuOpen ? 'open' : ''} aria-label="Console">
        <ul>
          {nav.map((n) => (
            <li key={n.path}>
              <Link to={n.path} class={n === item ? 'current' : ''}>
                <span aria-current={n === item ? 'page' : undefined}>{n.label}</span>
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main">
        {item && may(item.permission) ? (
          page
        ) : item ? (
          <p class="notice info">Your role may not see this page.</p>
        ) : (
          <p class="notice info">
            No such page. <Link to="/">Overview</Link>
          </p>
        )}
      </main>
    </div>
  );
}
