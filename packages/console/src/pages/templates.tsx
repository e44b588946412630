import { useState } from 'preact/hooks';
import { expect } from '../api/client';
import type { Template } from '../api/views';
import {
  Check,
  Field,
  FormButtons,
  Guarded,
  inputValue,
  Page,
  Show,
  Table,
  useAction,
  useConsole,
  useLoad,
} from '../ui';

/** Sample values for the preview; the server fills `{ticket}` and what each key passes. */
const SAMPLE: Record<string, string> = {
  ticket: 'T-1042',
  agent: 'Alice',
  name: 'Alice',
  minutes: '5',
  hours: '2',
};

/** `{name}` replaced as the server does (core's renderTemplate); unknown names stay. */
export function preview(text: string): string {
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => SAMPLE[name] ?? whole);
}

const FLAGS = [
  ['persist', 'Kept in the conversation'],
  ['wsBanner', 'Shown as a banner in the widget'],
  ['telegram', 'Posted to the Telegram topic'],
  ['pin', 'Pinned in the topic'],
] as const;

/** What the editor changes: a template without its `updatedAt` (a new one has none yet). */
type TemplateFields = Omit<Template, 'updatedAt'>;

const fresh: TemplateFields = {
  key: '',
  locale: '',
  text: '',
  wsBanner: false,
  persist: true,
  telegram: false,
  pin: false,
  minIntervalMs: 0,
};

/** System messages and saved replies (`reply.*`), by key and locale; edited with a preview. */
export function TemplatesPage() {
  const { client, may } = useConsole();
  const loaded = useLoad(
    () => expect<{ templates: Template[] }>(client.GET('/v1/admin/templates')),
    [],
  );
  const [draft, setDraft] = useState<(TemplateFields & { isNew: boolean }) | undefined>();
  const action = useAction();
  const save = (t: TemplateFields) =>
    action.run(
      async () => {
        await expect(
          client.PUT('/v1/admin/templates', {
            body: {
              key: t.key,
              locale: t.locale,
              text: t.text,
              wsBanner: t.wsBanner,
              persist: t.persist,
              telegram: t.telegram,
              pin: t.pin,
              minIntervalMs: t.minIntervalMs,
            },
          }),
        );
        setDraft(undefined);
        loaded.reload();
      },
      `Saved ${t.key}${t.locale ? ` (${t.locale})` : ''}.`,
    );
  const remove = (t: TemplateFields) =>
    action.run(async () => {
      await expect(
        client.DELETE('/v1/admin/templates/{key}', {
          params: { path: { key: t.key }, query: { locale: t.locale } },
        }),
      );
      setDraft(undefined);
      loaded.reload();
    }, `Deleted ${t.key}.`);
  const writable = may('templates.write');
  return (
    <Page
      title="Templates"
      actions={
        <Guarded
          permission="templates.write"
          class="primary"
          onClick={() => setDraft({ ...fresh, isNew: true })}
        >
          New template
        </Guarded>
      }
    >
      {action.message}
      {draft ? (
        <form
          class="editor template-editor"
          aria-label={`Template ${draft.key}`}
          onSubmit={(e) => {
            e.preventDefault();
            void save(draft);
          }}
        >
          <div class="row">
            <Field label="Key" hint="System messages: welcome, agent_joined…; replies: reply.*">
              <input
                required
                name="key"
                readOnly={!draft.isNew}
                pattern="[a-z0-9_.\-]{1,64}"
                value={draft.key}
                onInput={(e) => setDraft({ ...draft, key: inputValue(e) })}
              />
            </Field>
            <Field label="Locale" hint="Empty for the default">
              <input
                name="locale"
                readOnly={!draft.isNew}
                value={draft.locale}
                onInput={(e) => setDraft({ ...draft, locale: inputValue(e) })}
              />
            </Field>
          </div>
          <Field label="Text" hint="{ticket} and the key's own variables are filled in">
            <textarea
              name="text"
              required
              rows={4}
              maxLength={4000}
              readOnly={!writable}
              value={draft.text}
              onInput={(e) => setDraft({ ...draft, text: inputValue(e) })}
            />
          </Field>
          <fieldset class="flags">
            <legend>Delivery</legend>
            {FLAGS.map(([flag, label]) => (
              <Check
                key={flag}
                label={label}
                checked={draft[flag]}
                disabled={!writable}
                onChange={(on) => setDraft({ ...draft, [flag]: on })}
              />
            ))}
          </fieldset>
          <Field label="Minimum interval (minutes)" hint="Not shown again in a conversation sooner">
            <input
              type="number"
              min={0}
              value={Math.round(draft.minIntervalMs / 60_000)}
              readOnly={!writable}
              onInput={(e) => setDraft({ ...draft, minIntervalMs: Number(inputValue(e)) * 60_000 })}
            />
          </Field>
          <div class="preview" aria-live="polite">
            <span class="label">Preview</span>
            <p class="bubble">{preview(draft.text) || ' '}</p>
          </div>
          {writable ? (
            <FormButtons busy={action.busy} onCancel={() => setDraft(undefined)}>
              {draft.isNew ? null : (
                <button type="button" class="danger" onClick={() => void remove(draft)}>
                  Delete
                </button>
              )}
            </FormButtons>
          ) : (
            <button type="button" onClick={() => setDraft(undefined)}>
              Close
            </button>
          )}
        </form>
      ) : null}
      <Show loaded={loaded}>
        {({ templates }) => (
          <Table
            rows={[...templates].sort(
              (a, b) => a.key.localeCompare(b.key) || a.locale.localeCompare(b.locale),
            )}
            rowKey={(t) => `${t.key}/${t.locale}`}
            class="templates"
            columns={[
              {
                label: 'Key',
                cell: (t) => (
                  <button
                    class="link"
                    onClick={() => setDraft({ ...t, isNew: false })}
                    aria-label={`Open ${t.key}${t.locale ? ` ${t.locale}` : ''}`}
                  >
                    {t.key}
                  </button>
                ),
              },
              { label: 'Locale', cell: (t) => t.locale || 'default' },
              { label: 'Text', class: 'clip', cell: (t) => t.text },
              {
                label: 'Delivery',
                cell: (t) =>
                  FLAGS.filter(([flag]) => t[flag])
                    .map(([flag]) => flag)
                    .join(', ') || '—',
              },
            ]}
          />
        )}
      </Show>
    </Page>
  );
}
