import { useState } from 'preact/hooks';
import { expect } from '../api/client';
import type { SetupAnswer, Snippet } from '../api/views';
import {
  ErrorNotice,
  Field,
  Guarded,
  inputValue,
  Page,
  Show,
  useAction,
  useConsole,
  useLoad,
} from '../ui';

/** What a new install needs, checked against Telegram through the bridge, with each fix. */
export function SetupPage() {
  const { client } = useConsole();
  const loaded = useLoad(() => expect<SetupAnswer>(client.GET('/v1/admin/setup')), []);
  const webhook = useAction();
  return (
    <Page
      title="Setup"
      actions={
        <button onClick={loaded.reload} disabled={loaded.loading}>
          Check again
        </button>
      }
    >
      <Show loaded={loaded}>
        {({ checks }) => (
          <ul class="checks">
            {checks.map((c) => (
              <li key={c.id} class={c.ok ? 'ok' : 'failed'}>
                <span class="mark" aria-hidden="true">
                  {c.ok ? '✓' : '✗'}
                </span>
                <div>
                  <strong>{c.id}</strong>{' '}
                  <span class="visually-hidden">{c.ok ? 'passed' : 'failed'}</span>
                  {c.detail ? <p>{c.detail}</p> : null}
                  {!c.ok && c.fix ? (
                    <p class="fix">
                      <span class="label">Fix:</span> {c.fix}
                    </p>
                  ) : null}
                  {!c.ok && c.id.includes('webhook') ? (
                    <Guarded
                      permission="settings.write"
                      onClick={() =>
                        void webhook.run(async () => {
                          await expect(client.POST('/v1/admin/setup/webhook'));
                          loaded.reload();
                        }, 'Webhook set.')
                      }
                    >
                      Set the webhook
                    </Guarded>
                  ) : null}
                </div>
              </li>
            ))}
          </ul>
        )}
      </Show>
      {webhook.message}
      <SnippetForm />
    </Page>
  );
}

function SnippetForm() {
  const { client } = useConsole();
  const [origin, setOrigin] = useState('https://www.example.com');
  const [snippet, setSnippet] = useState<Snippet | undefined>();
  const [error, setError] = useState<unknown>();
  return (
    <section class="panel" aria-labelledby="snippet-title">
      <h2 id="snippet-title">Widget snippet</h2>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          setError(undefined);
          expect<Snippet>(
            client.GET('/v1/admin/setup/snippet', { params: { query: { origin } } }),
          ).then(setSnippet, setError);
        }}
      >
        <Field label="Site origin">
          <input type="url" required value={origin} onInput={(e) => setOrigin(inputValue(e))} />
        </Field>
        <div class="filter-actions">
          <button type="submit" class="primary">
            Make snippet
          </button>
        </div>
      </form>
      {error !== undefined ? <ErrorNotice error={error} /> : null}
      {snippet ? (
        <>
          {snippet.originAllowed ? null : (
            <p class="notice error">
              {snippet.origin} is not allowed: {snippet.fix ?? 'add it to ALLOWED_ORIGINS'}.
            </p>
          )}
          <pre class="snippet" tabIndex={0} aria-label="The snippet">
            <code>{snippet.snippet}</code>
          </pre>
          <p class="muted">
            Integrity: <code>{snippet.integrity}</code>
          </p>
        </>
      ) : null}
    </section>
  );
}
