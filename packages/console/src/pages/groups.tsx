import { useState } from 'preact/hooks';
import { expect } from '../api/client';
import type { Group } from '../api/views';
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
  chatId: string;
  title: string;
  level: string;
  locales: string;
  active: boolean;
}

/** Support groups besides SUPPORT_GROUP_ID: level and locales route new conversations. */
export function GroupsPage() {
  const { client, may } = useConsole();
  const loaded = useLoad(() => expect<{ groups: Group[] }>(client.GET('/v1/admin/groups')), []);
  const [draft, setDraft] = useState<Draft | undefined>();
  const action = useAction();
  const save = (d: Draft) =>
    action.run(async () => {
      await expect(
        client.PUT('/v1/admin/groups/{chatId}', {
          params: { path: { chatId: d.chatId } },
          body: {
            title: d.title || null,
            level: Number(d.level),
            locales: d.locales
              .split(',')
              .map((l) => l.trim())
              .filter(Boolean),
            active: d.active,
          },
        }),
      );
      setDraft(undefined);
      loaded.reload();
    }, 'Saved.');
  return (
    <Page
      title="Groups"
      actions={
        <Guarded
          permission="settings.write"
          class="primary"
          onClick={() => setDraft({ chatId: '', title: '', level: '1', locales: '', active: true })}
        >
          Add group
        </Guarded>
      }
    >
      {action.message}
      {draft ? (
        <form
          class="editor"
          aria-label="Group"
          onSubmit={(e) => {
            e.preventDefault();
            void save(draft);
          }}
        >
          <Field label="Chat id" hint="-100 and ten or more digits">
            <input
              required
              pattern="-100[0-9]{10,12}"
              value={draft.chatId}
              onInput={(e) => setDraft({ ...draft, chatId: inputValue(e) })}
            />
          </Field>
          <Field label="Title">
            <input
              value={draft.title}
              onInput={(e) => setDraft({ ...draft, title: inputValue(e) })}
            />
          </Field>
          <Field label="Level">
            <select
              value={draft.level}
              onChange={(e) => setDraft({ ...draft, level: inputValue(e) })}
            >
              <option value="1">1</option>
              <option value="2">2</option>
              <option value="3">3</option>
            </select>
          </Field>
          <Field label="Locales" hint="Comma-separated, e.g. de, fr">
            <input
              value={draft.locales}
              onInput={(e) => setDraft({ ...draft, locales: inputValue(e) })}
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
        {({ groups }) =>
          groups.length === 0 ? (
            <p class="muted">Only the default support group (SUPPORT_GROUP_ID).</p>
          ) : (
            <div class="table-wrap" tabIndex={0}>
              <table>
                <thead>
                  <tr>
                    <th scope="col">Title</th>
                    <th scope="col">Chat id</th>
                    <th scope="col">Level</th>
                    <th scope="col">Locales</th>
                    <th scope="col">Active</th>
                    {may('settings.write') ? (
                      <th scope="col">
                        <span class="visually-hidden">Actions</span>
                      </th>
                    ) : null}
                  </tr>
                </thead>
                <tbody>
                  {groups.map((g) => (
                    <tr key={g.chatId}>
                      <td>{g.title ?? '—'}</td>
                      <td>{g.chatId}</td>
                      <td>{g.level}</td>
                      <td>{g.locales.join(', ') || 'any'}</td>
                      <td>{g.active ? 'yes' : 'no'}</td>
                      {may('settings.write') ? (
                        <td>
                          <button
                            onClick={() =>
                              setDraft({
                                chatId: String(g.chatId),
                                title: g.title ?? '',
                                level: String(g.level),
                                locales: g.locales.join(', '),
                                active: g.active,
                              })
                            }
                          >
                            Edit
                          </button>
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
