import type { SessionView } from '../api/views';
import { expect } from '../api/client';
import { formatTime, Page, Show, Table, useAction, useConsole, useLoad } from '../ui';

/** Active sessions: one's own, or everyone's with sessions.manage; revoke; sign out. */
export function SessionsPage() {
  const { client, may, signOut } = useConsole();
  const loaded = useLoad(
    () => expect<{ sessions: SessionView[] }>(client.GET('/v1/admin/sessions')),
    [],
  );
  const action = useAction();
  const revoke = (id: string) =>
    action.run(async () => {
      await expect(client.DELETE('/v1/admin/sessions/{id}', { params: { path: { id } } }));
      loaded.reload();
    }, 'Revoked.');
  return (
    <Page
      title="Sessions"
      actions={
        <button class="primary" onClick={() => void signOut()}>
          Sign out
        </button>
      }
    >
      <p class="muted">
        {may('sessions.manage') ? "Everyone's active sessions." : 'Your active sessions.'}
      </p>
      {action.message}
      <Show loaded={loaded}>
        {({ sessions }) => (
          <Table
            rows={sessions}
            rowKey={(s) => s.id}
            columns={[
              {
                label: 'Agent',
                cell: (s) => (
                  <>
                    <bdi>{s.agent.displayName ?? s.agent.telegramUserId}</bdi>
                    {s.current ? <span class="badge open">this one</span> : null}
                  </>
                ),
              },
              { label: 'Role', cell: (s) => s.role },
              {
                label: 'Browser',
                cell: (s) => <span title={s.userAgent ?? undefined}>{browserOf(s.userAgent)}</span>,
              },
              { label: 'Signed in', cell: (s) => formatTime(s.createdAt) },
              { label: 'Last seen', cell: (s) => formatTime(s.lastSeenAt) },
              {
                label: 'Actions',
                hiddenLabel: true,
                cell: (s) => (
                  <button
                    class="danger"
                    disabled={action.busy}
                    onClick={() => (s.current ? void signOut() : void revoke(s.id))}
                  >
                    {s.current ? 'Sign out' : 'Revoke'}
                  </button>
                ),
              },
            ]}
          />
        )}
      </Show>
    </Page>
  );
}

/** "Chrome 156 on Linux" from a user agent: the whole string is the cell's title. */
export function browserOf(userAgent: string | null): string {
  if (!userAgent) return '—';
  const browser =
    /(Edg|OPR|Firefox|Chrome|Version)\/(\d+)/.exec(userAgent) ?? /(Safari)\/(\d+)/.exec(userAgent);
  const name = { Edg: 'Edge', OPR: 'Opera', Version: 'Safari' }[browser?.[1] ?? ''] ?? browser?.[1];
  const platform = /(Windows|Android|iPhone|iPad|Mac OS X|Linux)/.exec(userAgent)?.[1];
  const label = name ? `${name} ${browser?.[2] ?? ''}`.trim() : 'A browser';
  return platform ? `${label} on ${platform === 'Mac OS X' ? 'macOS' : platform}` : label;
}
