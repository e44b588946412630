import { Fragment } from 'preact';
import { useState } from 'preact/hooks';
import { ApiError, expect, type ConsoleClient, type paths } from '../api/client';
import type { Tenant, TenantLimits } from '../api/views';
import { Check, Field, formatTime, inputValue, Link, Page, Show, useAction, useLoad } from '../ui';

const LIMITS: ReadonlyArray<readonly [keyof TenantLimits, string]> = [
  ['conversationsPerDay', 'Conversations a day'],
  ['messagesPerHour', 'Messages an hour'],
  ['concurrentSockets', 'Open sockets'],
  ['retentionDays', 'Retention (days)'],
  ['attachmentMaxBytes', 'Largest attachment (bytes)'],
  ['attachmentsPerHour', 'Attachments an hour'],
];

type SecretName = keyof Tenant['secrets'];
/** The bundle's secrets: lists are comma-separated in the form. */
const SECRETS: ReadonlyArray<readonly [SecretName, string, 'list' | 'text', string?]> = [
  ['botToken', 'Bot token', 'text', '123456:ABC… from BotFather'],
  ['senderBotTokens', 'Sender bot tokens', 'list', 'Comma-separated'],
  [
    'supportGroups',
    'Support groups',
    'list',
    'Chat ids, comma-separated; the first is the default',
  ],
  ['jwtSecret', 'Visitor token secret', 'text', 'At least 32 characters'],
  [
    'serviceToken',
    'Admin API token',
    'text',
    "The site's automation token (at least 24 characters)",
  ],
  ['telegramUserKey', 'Telegram user key', 'text', '32 random bytes, base64'],
];

const list = (text: string) =>
  text
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);

/** 32 random bytes, base64url: a new secret the operator can copy before saving it. */
function randomSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

/** One tenant: status, limits and origins, its write-only secrets, its usage. */
export function TenantPage({ client, id }: { client: ConsoleClient; id: string }) {
  const path = { params: { path: { tenantId: id } } };
  const loaded = useLoad(
    () => expect<Tenant>(client.GET('/v1/platform/tenants/{tenantId}', path)),
    [id],
  );
  const action = useAction();
  const change = (run: () => Promise<unknown>, done: string) =>
    action.run(async () => {
      await run();
      loaded.reload();
    }, done);
  return (
    <Page title={loaded.data?.name ?? id}>
      <p>
        <Link to="/platform">All tenants</Link>
      </p>
      {action.message}
      <Show loaded={loaded}>
        {(tenant) => (
          <>
            <section class="panel" aria-labelledby="tenant-status">
              <h2 id="tenant-status">Status</h2>
              <dl class="facts">
                <dt>Id</dt>
                <dd>
                  <code>{tenant.id}</code>
                </dd>
                <dt>Status</dt>
                <dd>
                  <StatusBadge status={tenant.status} />
                </dd>
                <dt>Site key</dt>
                <dd>
                  <code>{tenant.siteKey}</code>
                  <small class="muted"> — the widget snippet&apos;s data-site-key</small>
                </dd>
                <dt>Created</dt>
                <dd>{formatTime(tenant.createdAt)}</dd>
              </dl>
              {tenant.status === 'deleted' ? null : (
                <div class="buttons">
                  {tenant.status === 'active' ? (
                    <button
                      disabled={action.busy}
                      onClick={() =>
                        void change(
                          () =>
                            expect(client.POST('/v1/platform/tenants/{tenantId}/suspend', path)),
                          'Suspended: nothing of this site is served now.',
                        )
                      }
                    >
                      Suspend
                    </button>
                  ) : (
                    <button
                      class="primary"
                      disabled={action.busy}
                      onClick={() =>
                        void change(
                          () => expect(client.POST('/v1/platform/tenants/{tenantId}/resume', path)),
                          'Resumed.',
                        )
                      }
                    >
                      Resume
                    </button>
                  )}
                  <button
                    class="danger"
                    disabled={action.busy}
                    onClick={() => {
                      if (
                        confirm(
                          `Delete ${tenant.name}? Its data is kept; it is never served again.`,
                        )
                      )
                        void change(
                          () => expect(client.DELETE('/v1/platform/tenants/{tenantId}', path)),
                          'Deleted.',
                        );
                    }}
                  >
                    Delete
                  </button>
                </div>
              )}
            </section>
            <Usage id={id} />
            {tenant.status === 'deleted' ? null : (
              <>
                <SettingsForm
                  tenant={tenant}
                  busy={action.busy}
                  onSave={(body) =>
                    void change(
                      () =>
                        expect(client.PATCH('/v1/platform/tenants/{tenantId}', { ...path, body })),
                      'Saved.',
                    )
                  }
                />
                <SecretsForm
                  tenant={tenant}
                  busy={action.busy}
                  onSave={(secrets) =>
                    change(
                      () =>
                        expect(
                          client.PATCH('/v1/platform/tenants/{tenantId}', {
                            ...path,
                            body: { secrets },
                          }),
                        ),
                      'Secrets saved.',
                    )
                  }
                />
              </>
            )}
          </>
        )}
      </Show>
    </Page>
  );
}

interface SettingsBody {
  name: string;
  plan: string;
  limits: TenantLimits;
  allowedOrigins: string[];
}

function SettingsForm(props: {
  tenant: Tenant;
  busy: boolean;
  onSave: (body: SettingsBody) => void;
}) {
  const { tenant } = props;
  const [name, setName] = useState(tenant.name);
  const [plan, setPlan] = useState(tenant.plan);
  const [origins, setOrigins] = useState(tenant.allowedOrigins.join(', '));
  const [limits, setLimits] = useState<Record<string, string>>(
    Object.fromEntries(LIMITS.map(([key]) => [key, tenant.limits[key]?.toString() ?? ''])),
  );
  return (
    <form
      class="panel editor"
      aria-labelledby="tenant-settings"
      onSubmit={(e) => {
        e.preventDefault();
        props.onSave({
          name,
          plan,
          allowedOrigins: list(origins),
          limits: Object.fromEntries(
            LIMITS.filter(([key]) => limits[key]).map(([key]) => [key, Number(limits[key])]),
          ),
        });
      }}
    >
      <h2 id="tenant-settings">Settings and limits</h2>
      <div class="row">
        <Field label="Name">
          <input required value={name} onInput={(e) => setName(inputValue(e))} />
        </Field>
        <Field label="Plan">
          <input required value={plan} onInput={(e) => setPlan(inputValue(e))} />
        </Field>
      </div>
      <Field
        label="Allowed origins"
        hint="The sites that may embed the widget, comma-separated; empty: the deployment's ALLOWED_ORIGINS"
      >
        <input value={origins} onInput={(e) => setOrigins(inputValue(e))} />
      </Field>
      <div class="row">
        {LIMITS.map(([key, label]) => (
          <Field key={key} label={label} hint="Empty: the deployment's default">
            <input
              type="number"
              min="1"
              inputMode="numeric"
              value={limits[key]}
              onInput={(e) => setLimits({ ...limits, [key]: inputValue(e) })}
            />
          </Field>
        ))}
      </div>
      <div class="buttons">
        <button type="submit" class="primary" disabled={props.busy}>
          Save
        </button>
      </div>
    </form>
  );
}

type SecretsChange = NonNullable<
  NonNullable<
    paths['/v1/platform/tenants/{tenantId}']['patch']['requestBody']
  >['content']['application/json']['secrets']
>;

/** Write-only: each secret shows whether it is set (and its fingerprint), never its value. */
function SecretsForm(props: {
  tenant: Tenant;
  busy: boolean;
  onSave: (secrets: SecretsChange) => Promise<void>;
}) {
  const [values, setValues] = useState<Partial<Record<SecretName, string>>>({});
  const [cleared, setCleared] = useState<Partial<Record<SecretName, boolean>>>({});
  // Each name's form is checked by the gateway (a list where it takes a list).
  const change: Record<string, string | string[] | null> = {};
  for (const [name, , kind] of SECRETS) {
    const value = values[name]?.trim();
    if (cleared[name]) change[name] = null;
    else if (value) change[name] = kind === 'list' ? list(value) : value;
  }
  const changed = Object.keys(change).length > 0;
  return (
    <form
      class="panel editor"
      aria-labelledby="tenant-secrets"
      autocomplete="off"
      onSubmit={(e) => {
        e.preventDefault();
        void props.onSave(change as SecretsChange).then(() => {
          setValues({});
          setCleared({});
        });
      }}
    >
      <h2 id="tenant-secrets">Secrets</h2>
      <p class="muted">
        Stored encrypted and never shown again. Leave a field empty to keep its value.
      </p>
      {SECRETS.map(([name, label, kind, hint]) => {
        const state = props.tenant.secrets[name];
        const status = state.set
          ? `set${state.count === undefined ? '' : ` (${state.count})`} · ${state.fingerprint ?? ''}`
          : 'not set';
        return (
          <div class="secret" key={name}>
            <Field label={`${label} — ${status}`} hint={hint}>
              <input
                type={kind === 'list' || values[name] ? 'text' : 'password'}
                autocomplete="off"
                spellcheck={false}
                disabled={cleared[name]}
                value={values[name] ?? ''}
                onInput={(e) => setValues({ ...values, [name]: inputValue(e) })}
              />
            </Field>
            <div class="buttons">
              {name === 'jwtSecret' || name === 'serviceToken' ? (
                <button
                  type="button"
                  onClick={() => setValues({ ...values, [name]: randomSecret() })}
                >
                  Generate
                </button>
              ) : null}
              {state.set ? (
                <Check
                  label="Clear"
                  checked={cleared[name] ?? false}
                  onChange={(on) => setCleared({ ...cleared, [name]: on })}
                />
              ) : null}
            </div>
          </div>
        );
      })}
      <div class="buttons">
        <button type="submit" class="primary" disabled={props.busy || !changed}>
          Save secrets
        </button>
      </div>
    </form>
  );
}

interface UsageAnswer {
  conversationsToday: number;
  messagesThisHour: number;
  openSockets: number;
  limits: TenantLimits;
}

/** GET /v1/platform/tenants/:id/usage, where the gateway offers it. */
function Usage({ id }: { id: string }) {
  const loaded = useLoad(async () => {
    const response = await fetch(`/v1/platform/tenants/${encodeURIComponent(id)}/usage`, {
      credentials: 'same-origin',
    });
    // Until the gateway reports usage (an older one): null, said so in the panel.
    if (response.status === 404) return null;
    if (!response.ok) throw await ApiError.from(response);
    return (await response.json()) as UsageAnswer;
  }, [id]);
  return (
    <section class="panel" aria-labelledby="tenant-usage">
      <h2 id="tenant-usage">Usage</h2>
      <Show loaded={loaded}>
        {(usage) =>
          usage ? (
            <dl class="facts">
              {(
                [
                  [
                    'Conversations today',
                    usage.conversationsToday,
                    usage.limits.conversationsPerDay,
                  ],
                  ['Messages this hour', usage.messagesThisHour, usage.limits.messagesPerHour],
                  ['Open sockets', usage.openSockets, usage.limits.concurrentSockets],
                ] as const
              ).map(([label, used, limit]) => (
                <Fragment key={label}>
                  <dt>{label}</dt>
                  <dd>
                    {used} {limit === undefined ? '(no limit set)' : `of ${limit}`}
                  </dd>
                </Fragment>
              ))}
            </dl>
          ) : (
            <p class="muted">This gateway does not report usage yet.</p>
          )
        }
      </Show>
    </section>
  );
}

export function StatusBadge({ status }: { status: Tenant['status'] }) {
  const kind = status === 'active' ? 'open' : status === 'suspended' ? 'paused' : 'closed';
  return <span class={`badge ${kind}`}>{status}</span>;
}
