import { useState } from 'preact/hooks';
import { expect } from '../api/client';
import type { Tombstone, Transcript, TranscriptMessage } from '../api/views';
import { AuditTable } from './audit';
import { formatTime, Guarded, Link, Page, Show, useAction, useConsole, useLoad } from '../ui';

/** One conversation, read-only: its messages, the agents' internal notes and its audit trail. */
export function TranscriptPage(props: { id: string }) {
  const { client } = useConsole();
  const path = `/v1/admin/conversations/${encodeURIComponent(props.id)}`;
  const loaded = useLoad(
    () =>
      expect<Transcript>(
        client.GET('/v1/admin/conversations/{id}', { params: { path: { id: props.id } } }),
      ),
    [props.id],
  );
  return (
    <Page
      title={`Conversation ${props.id}`}
      actions={<Link to="/conversations">All conversations</Link>}
    >
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
            <DataRequests
              id={props.id}
              path={path}
              ticket={t.conversation.ticket}
              onErased={loaded.reload}
            />
            <h2>Messages</h2>
            {t.messages.length === 0 ? <p class="muted">No messages.</p> : null}
            <ol class="transcript">
              {t.messages.map((m) => (
                <Message key={m.seq} message={m} />
              ))}
            </ol>
            <h2>Internal notes</h2>
            {t.notes.length === 0 ? (
              <p class="muted">No notes.</p>
            ) : (
              <ul class="notes">
                {t.notes.map((n) => (
                  <li key={n.id}>
                    <p class="text">{n.text}</p>
                    <small class="muted">
                      {n.authorName ?? 'Agent'} · {formatTime(n.at)}
                    </small>
                  </li>
                ))}
              </ul>
            )}
            <h2>Audit trail</h2>
            {t.audit ? (
              <AuditTable entries={t.audit} />
            ) : (
              <p class="muted">Your role does not see the audit log.</p>
            )}
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

const AUTHORS: Record<string, string> = { visitor: 'Visitor', agent: 'Agent', system: 'System' };

function Message({ message: m }: { message: TranscriptMessage }) {
  const kind = m.author.kind;
  const name = m.author.displayName ?? AUTHORS[kind] ?? kind;
  return (
    <li class={`message ${kind}`}>
      <div class="meta">
        <strong>
          <bdi>{name}</bdi>
        </strong>{' '}
        <time dateTime={m.at}>{formatTime(m.at)}</time>
        {m.editedAt ? <span class="badge">edited</span> : null}
        {m.deletedAt ? <span class="badge closed">deleted</span> : null}
      </div>
      {/* Text is rendered as text, never as HTML. */}
      <p class="text">{m.text ?? ''}</p>
      {m.attachments.length > 0 ? (
        <ul class="attachments">
          {m.attachments.map((a) => (
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

const TOPIC_CHOICES = [
  ['keep', 'Keep it, renamed'],
  ['delete', 'Delete it'],
] as const;

/** Export (JSON or a readable transcript) and erase, each only for the roles that may. */
function DataRequests(props: { id: string; path: string; ticket: string; onErased: () => void }) {
  const { client, may } = useConsole();
  const [confirming, setConfirming] = useState(false);
  const [topic, setTopic] = useState<'keep' | 'delete'>('keep');
  const [tombstone, setTombstone] = useState<Tombstone | undefined>();
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
              const answer = await expect<{ tombstone: Tombstone }>(
                client.POST('/v1/admin/conversations/{id}/erase', {
                  params: { path: { id: props.id } },
                  body: { topic },
                }),
              );
              setTombstone(answer.tombstone);
              setConfirming(false);
              props.onErased();
            });
          }}
        >
          <p>
            Erase everything stored about {props.ticket}? Messages, names, page data and files are
            deleted for good; a tombstone and an audit entry stay.
          </p>
          <fieldset>
            <legend>The Telegram topic</legend>
            {TOPIC_CHOICES.map(([value, label]) => (
              <label key={value}>
                <input
                  type="radio"
                  name="topic"
                  checked={topic === value}
                  onChange={() => setTopic(value)}
                />{' '}
                {label}
              </label>
            ))}
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
      {tombstone ? (
        <p class="notice ok" role="status">
          Erased {formatTime(tombstone.erasedAt)} by {tombstone.erasedBy.id}; the topic was{' '}
          {tombstone.topic === 'delete' ? 'deleted' : 'kept and renamed'}.
        </p>
      ) : null}
    </div>
  );
}
