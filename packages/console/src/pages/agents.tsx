import { useState } from 'preact/hooks';
import { expect } from '../api/client';
import { ROLES, type Agent, type Role } from '../api/views';
import {
  Field,
  FormButtons,
  Guarded,
  inputChecked,
  inputValue,
  Page,
  Show,
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
        <form
          class="editor"
          aria-label="Agent"
          onSubmit={(e) => {
            e.preventDefault();
            void save(draft);
          }}
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
            <select
              value={draft.role}
              onChange={(e) => setDraft({ ...draft, role: inputValue(e) as Role })}
            >
              {ROLES.map((r) => (
                <option key={r} value={r}>
                  {r}
                </option>
              ))}
            </select>
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
          <label class="check">
            <input
              type="checkbox"
              checked={draft.active}
              onChange={(e) => setDraft({ ...draft, active: inputChecked(e) })}
            />{' '}
            Active
          </label>
          <FormButtons busy={action.busy} onCancel={() => setDraft(undefined)} />
        </form>
      ) : null}
      <Show loaded={loaded}>
        {({ agents }) =>
          agents.length === 0 ? (
            <p class="muted">No agents yet.</p>
          ) : (
            <div class="table-wrap" tabIndex={0}>
              <table>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Telegram id</th>
                    <th scope="col">Role</th>
                    <th scope="col">Load / capacity</th>
                    <th scope="col">Presence</th>
                    <th scope="col">Active</th>
                    {may('agents.manage') ? (
                      <th scope="col">
                        <span class="visually-hidden">Actions</span>
                      </th>
                    ) : null}
                  </tr>
                </thead>
                <tbody>
                  {agents.map((a) => (
                    <tr key={a.telegramUserId}>
                      <td>{a.displayName ?? '—'}</td>
                      <td>{a.telegramUserId}</td>
                      <td>{a.role}</td>
                      <td>
                        {a.load ?? 0} / {a.capacity ?? 'default'}
                      </td>
                      <td>{a.presence ?? '—'}</td>
                      <td>{a.active ? 'yes' : 'no'}</td>
                      {may('agents.manage') ? (
                        <td>
                          <button onClick={() => edit(a)}>Edit</button>
                        </td>
                      ) : null}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Show>
    </Page>
  );
}
