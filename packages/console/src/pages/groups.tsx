import { useState } from 'preact/hooks';
import { expect } from '../api/client';
import type { Group } from '../api/views';
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

const LEVELS = [
  ['1', '1'],
  ['2', '2'],
  ['3', '3'],
] as const;

interface Draft {
  chatId: string;
  title: string;
  level: string;
  locales: string;
  segments: string;
  active: boolean;
}

/** A comma-separated field's entries, trimmed, without empty ones. */
const entries = (list: string) =>
  list
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);

/**
 * Support groups besides SUPPORT_GROUP_ID: level, segments (a bot channel's roles) and locales
 * route new conversations.
 */
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
            locales: entries(d.locales),
            segments: entries(d.segments),
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
          onClick={() =>
            setDraft({
              chatId: '',
              title: '',
              level: '1',
              locales: '',
              segments: '',
              active: true,
            })
          }
        >
          Add group
        </Guarded>
      }
    >
      {action.message}
      {draft ? (
        <EditorForm
          label="Group"
          busy={action.busy}
          onSave={() => void save(draft)}
          onCancel={() => setDraft(undefined)}
          active={{ checked: draft.active, onChange: (active) => setDraft({ ...draft, active }) }}
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
            <Choice
              value={draft.level}
              options={LEVELS}
              onChange={(level) => setDraft({ ...draft, level })}
            />
          </Field>
          <Field label="Locales" hint="Comma-separated, e.g. de, fr">
            <input
              value={draft.locales}
              onInput={(e) => setDraft({ ...draft, locales: inputValue(e) })}
            />
          </Field>
          <Field
            label="Segments"
            hint="A bot channel's roles, comma-separated and exactly as its bot passes them, e.g. vip"
          >
            <input
              value={draft.segments}
              onInput={(e) => setDraft({ ...draft, segments: inputValue(e) })}
            />
          </Field>
        </EditorForm>
      ) : null}
      <Show loaded={loaded}>
        {({ groups }) => (
          <Table
            rows={groups}
            rowKey={(g) => g.chatId}
            empty="Only the default support group (SUPPORT_GROUP_ID)."
            columns={[
              { label: 'Title', cell: (g) => <bdi>{g.title ?? '—'}</bdi> },
              { label: 'Chat id', cell: (g) => g.chatId },
              { label: 'Level', cell: (g) => g.level },
              { label: 'Segments', cell: (g) => <bdi>{g.segments.join(', ') || '—'}</bdi> },
              { label: 'Locales', cell: (g) => g.locales.join(', ') || 'any' },
              { label: 'Active', cell: (g) => (g.active ? 'yes' : 'no') },
              may('settings.write') && {
                label: 'Actions',
                hiddenLabel: true,
                cell: (g) => (
                  <button
                    onClick={() =>
                      setDraft({
                        chatId: String(g.chatId),
                        title: g.title ?? '',
                        level: String(g.level),
                        locales: g.locales.join(', '),
                        segments: g.segments.join(', '),
                        active: g.active,
                      })
                    }
                  >
                    Edit
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
