import { useState } from 'preact/hooks';
import { expect } from '../api/client';
import { ROLES, type Agent, type Role } from '../api/views';
import {
  Choice,
  Field,
  EditorForm,
  Guarded,
  inputValue,
  Page,
  Show,
  Table,
  useAction,
  useConsole,
  useLoad,
} from '../ui';

interface Draft {
  telegramUserId: string;
  displayName: string;
  role: Role;
  capacity: string;
  active: boolean;
}
const blank: Draft = {
  telegramUserId: '',
  displayName: '',
  role: 'agent',
  capacity: '',
  active: true,
};

/** Agents with roles, capacity and load; registering or changing one needs agents.manage. */
export function AgentsPage() {
  const { client, may } = useConsole();
  const loaded = useLoad(() => expect<{ agents: Agent[] }>(client.GET('/v1/admin/agents')), []);
  const [draft, setDraft] = useState<Draft | undefined>();
  const action = useAction();
  const save = (d: Draft) =>
    action.run(async () => {
      await expect(
        client.PUT('/v1/admin/agents/{telegramUserId}', {
          params: { path: { telegramUserId: Number(d.telegramUserId) } },
          body: {
            displayName: d.displayName,
            role: d.role,
            active: d.active,
            capacity: d.capacity === '' ? null : Number(d.capacity),
          },
        }),
      );
      setDraft(undefined);
      loaded.reload();
    }, 'Saved.');
  const edit = (a: Agent) =>
    setDraft({
      telegramUserId: String(a.telegramUserId),
      displayName: a.displayName ?? '',
      role: a.role,
      capacity: a.capacity === null ? '' : String(a.capacity),
      active: a.active,
    });
  return (
    <Page
      title="Agents"
      actions={
        <Guarded permission="agents.manage" class="primary" onClick={() => setDraft(blank)}>
          Add agent
        </Guarded>
      }
    >
      {action.message}
      {draft ? (
        <EditorForm
          label="Agent"
          busy={action.busy}
          onSave={() => void save(draft)}
          onCancel={() => setDraft(undefined)}
          active={{ checked: draft.active, onChange: (active) => setDraft({ ...draft, active }) }}
        >
          <Field label="Telegram user id">
            <input
              required
              inputMode="numeric"
              pattern="[0-9]+"
              value={draft.telegramUserId}
              onInput={(e) => setDraft({ ...draft, telegramUserId: inputValue(e) })}
            />
          </Field>
          <Field label="Display name">
            <input
              required
              value={draft.displayName}
              onInput={(e) => setDraft({ ...draft, displayName: inputValue(e) })}
            />
          </Field>
          <Field label="Role">
            <Choice
              value={draft.role}
              options={ROLES.map((r) => [r, r] as const)}
              onChange={(role) => setDraft({ ...draft, role: role as Role })}
            />
          </Field>
          <Field label="Capacity" hint="Open conversations at once; empty for the default">
            <input
              type="number"
              min={0}
              max={1000}
              value={draft.capacity}
              onInput={(e) => setDraft({ ...draft, capacity: inputValue(e) })}
            />
          </Field>
        </EditorForm>
      ) : null}
      <Show loaded={loaded}>
        {({ agents }) => (
          <Table
            rows={agents}
            rowKey={(a) => a.telegramUserId}
            empty="No agents yet."
            columns={[
              { label: 'Name', cell: (a) => <bdi>{a.displayName ?? '—'}</bdi> },
              { label: 'Telegram id', cell: (a) => a.telegramUserId },
              { label: 'Role', cell: (a) => a.role },
              {
                label: 'Load / capacity',
                cell: (a) => `${a.load ?? 0} / ${a.capacity ?? 'default'}`,
              },
              { label: 'Presence', cell: (a) => a.presence ?? '—' },
              { label: 'Active', cell: (a) => (a.active ? 'yes' : 'no') },
              may('agents.manage') && {
                label: 'Actions',
                hiddenLabel: true,
                cell: (a) => <button onClick={() => edit(a)}>Edit</button>,
              },
            ]}
          />
        )}
      </Show>
    </Page>
  );
}
