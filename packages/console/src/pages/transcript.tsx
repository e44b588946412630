import { useState } from 'preact/hooks';
import type { AuditEntry, Transcript, TranscriptMessage } from '../api/views';
import { AuditTable } from './audit';
import {
  formatTime,
  Guarded,
  Link,
  Page,
  Show,
  useAction,
  useConsole,
  useLoad,
} from '../ui';

/** One conversation, read-only: its messages, the agents' internal notes and its audit trail. */
export function TranscriptPage(props: { id: string }) {
  const { call } = useConsole();
  const path = `/v1/admin/conversations/${encodeURIComponent(props.id)}`;
  const loaded = useLoad(() => call<Transcript>('GET', path), [path]);
  return (
    <Page title={`Conversation ${props.id}`} actions={<Link to="/conversations">All conversations</Link>}>
      <Show loaded={loaded}>
        {(t) => (
          <>
            <dl class="pairs">
              <Pair label="Status" value={t.conversation.status} />
              <Pair label="Priority" value={t.conversation.priority} />
              <Pair label="Level" value={t.conversation.level} />
              <Pair label="Visitor" value={t.conversation.visitorName ?? '—'} />
              <Pair
                label="Agent"
                value={
                  t.conversation.assignee?.displayName ??
                  t.conversation.assignee?.telegramUserId ??
                  '—'
                }
              />
              <Pair label="Started" value={formatTime(t.conversation.createdAt)} />
            </dl>
            <DataRequests path={path} ticket={t.conversation.ticket} onErased={loaded.reload} />
            <h2>Messages</h2>
            {t.messages.length === 0 ? <p class="muted">No messages.</p> : null}
            <ol class="transcript">
              {t.messages.map((m, i) => (
                <Message key={m.seq ?? m.id ?? i} message={m} />
              ))}
            </ol>
            <h2>Internal notes</h2>
            {(t.notes ?? []).length === 0 ? (
              <p class="muted">No notes.</p>
            ) : (
              <ul class="notes">
                {(t.notes ?? []).map((n, i) => (
                  <li key={n.id ?? i}>
                    <p class="text">{n.text}</p>
                    <small class="muted">
                      {n.agentName ?? n.author ?? ''} · {formatTime(n.createdAt ?? n.at)}
                    </small>
                  </li>
                ))}
              </ul>
            )}
            <h2>Audit trail</h2>
            <AuditTable entries={(t.audit ?? []) as AuditEntry[]} />
          </>
        )}
      </Show>
    </Page>
  );
}

function Pair(props: { label: string; value: string | number }) {
  return (
    <div>
      <dt>{props.label}</dt>
      <dd>{props.value}</dd>
    </div>
  );
}

function authorOf(m: TranscriptMessage): { kind: string; name: string } {
  const author = typeof m.author === 'object' && m.author !== null ? m.author : undefined;
  const kind = author?.kind ?? (typeof m.author === 'string' ? m.author : (m.kind ?? 'system'));
  const name =
    author?.displayName ?? m.agentName ?? m.agent?.displayName ?? (kind === 'agent' ? 'Agent' : kind);
  return { kind, name: name === 'visitor' ? 'Visitor' : name === 'system' ? 'System' : name };
}

function Message({ message: m }: { message: TranscriptMessage }) {
  const { kind, name } = authorOf(m);
  return (
    <li class={`message ${kind}`}>
      <div class="meta">
        <strong>{name}</strong> <time>{formatTime(m.createdAt ?? m.at)}</time>
        {m.editedAt ? <span class="badge">edited</span> : null}
        {m.deletedAt ? <span class="badge closed">deleted</span> : null}
      </div>
      {/* Text is rendered as text, never as HTML. */}
      <p class="text">{m.text ?? ''}</p>
      {(m.attachments ?? []).length > 0 ? (
        <ul class="attachments">
          {(m.attachments ?? []).map((a) => (
            <li key={a.id}>
              {a.url ? (
                <a href={a.url} rel="noopener noreferrer">
                  {a.name}
                </a>
              ) : (
                a.name
              )}
            </li>
          ))}
        </ul>
      ) : null}
    </li>
  );
}

/** Export (JSON or a readable transcript) and erase, each only for the roles that may. */
function DataRequests(props: { path: string; ticket: string; onErased: () => void }) {
  const { call, may } = useConsole();
  const [confirming, setConfirming] = useState(false);
  const [topic, setTopic] = useState<'keep' | 'delete'>('keep');
  const action = useAction();
  if (!may('data.export') && !may('data.erase')) return null;
  return (
    <div class="data-requests">
      {may('data.export') ? (
        <>
          <a class="button" href={`${props.path}/export`} download={`${props.ticket}.json`}>
            Export JSON
          </a>
          <a
            class="button"
            href={`${props.path}/export?format=text`}
            download={`${props.ticket}.txt`}
          >
            Export transcript
          </a>
        </>
      ) : null}
      <Guarded permission="data.erase" class="danger" onClick={() => setConfirming(true)}>
        Erase…
      </Guarded>
      {confirming ? (
        <form
          class="confirm"
          onSubmit={(e) => {
            e.preventDefault();
            void action.run(async () => {
              await call('POST', `${props.path}/erase`, { topic });
              setConfirming(false);
              props.onErased();
            }, 'Erased.');
          }}
        >
          <p>
            Erase everything stored about {props.ticket}? Messages, names, page data and files
            are deleted for good; a tombstone and an audit entry stay.
          </p>
          <fieldset>
            <legend>The Telegram topic</legend>
            <label>
              <input
                type="radio"
                name="topic"
                checked={topic === 'keep'}
                onChange={() => setTopic('keep')}
              />{' '}
              Keep it, renamed
            </label>
            <label>
              <input
                type="radio"
                name="topic"
                checked={topic === 'delete'}
                onChange={() => setTopic('delete')}
              />{' '}
              Delete it
            </label>
          </fieldset>
          <button type="submit" class="danger" disabled={action.busy}>
            Erase for good
          </button>{' '}
          <button type="button" onClick={() => setConfirming(false)}>
            Cancel
          </button>
        </form>
      ) : null}
      {action.message}
    </div>
  );
}
