import { useEffect, useState } from 'preact/hooks';
import { expect } from '../api/client';
import type { Overview, OverviewAgent } from '../api/views';
import { ErrorNotice, formatSeconds, formatTime, Page, Table, useConsole } from '../ui';
import { TelegramBots } from './overview-bots';

type Live = 'connecting' | 'live' | 'reconnecting';

/**
 * Live numbers: the SSE stream sends a snapshot at once and again after each change (on any
 * replica). EventSource reconnects by itself; until the first event the page shows one GET.
 */
export function OverviewPage() {
  const { client } = useConsole();
  const [overview, setOverview] = useState<Overview | undefined>();
  const [live, setLive] = useState<Live>('connecting');
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    let received = false;
    expect<Overview>(client.GET('/v1/console/overview')).then(
      (snapshot) => !received && setOverview(snapshot),
      (e: unknown) => !received && setError(e),
    );
    const source = new EventSource('/v1/console/overview/stream');
    source.addEventListener('overview', (event) => {
      received = true;
      setError(undefined);
      setLive('live');
      setOverview(JSON.parse((event as MessageEvent<string>).data) as Overview);
    });
    source.onerror = () => setLive('reconnecting');
    return () => source.close();
  }, [client]);

  const agents: OverviewAgent[] = overview?.agentsOnline ?? [];
  return (
    <Page
      title="Overview"
      actions={
        <span class={`live ${live}`} role="status">
          {live === 'live' ? 'Live' : live === 'connecting' ? 'Connecting…' : 'Reconnecting…'}
        </span>
      }
    >
      {error !== undefined && overview === undefined ? <ErrorNotice error={error} /> : null}
      {overview ? (
        <>
          <ul class="cards" aria-label="Conversations now">
            <Card label="Open" value={overview.open} />
            <Card label="Waiting" value={overview.waiting} />
            <Card label="Assigned" value={overview.assigned} />
            <Card label="Oldest wait" value={formatSeconds(overview.oldestWaitSeconds)} />
            <Card label="SLA breaches today" value={overview.slaBreachesToday} />
            <Card label="Agents online" value={agents.length} />
          </ul>
          <h2>Agents online</h2>
          <Table
            rows={agents}
            rowKey={(a) => a.telegramUserId}
            empty="Nobody is online."
            columns={[
              { label: 'Agent', cell: (a) => <bdi>{a.displayName ?? a.telegramUserId}</bdi> },
              { label: 'Load', cell: (a) => <Meter load={a.load} capacity={a.capacity} /> },
              { label: 'Capacity', cell: (a) => a.capacity ?? '—' },
            ]}
          />
          {overview.telegramQueue ? (
            <>
              <h2>Telegram queue</h2>
              <ul class="cards" aria-label="Telegram queue">
                <Card
                  label="Messages waiting to be sent"
                  value={overview.telegramQueue.pendingMessages}
                />
                <Card
                  label="Oldest waiting"
                  value={formatSeconds(overview.telegramQueue.oldestPendingSeconds)}
                />
                <Card label="Posts waiting" value={overview.telegramQueue.pendingPosts} />
              </ul>
            </>
          ) : null}
          {overview.telegram ? <TelegramBots telegram={overview.telegram} /> : null}
          {overview.at ? <p class="muted">As of {formatTime(overview.at)}</p> : null}
        </>
      ) : null}
    </Page>
  );
}

function Card(props: { label: string; value: string | number | undefined | null }) {
  return (
    <li class="card">
      <span class="card-label">{props.label}</span>
      <span class="card-value" data-card={props.label}>
        {props.value ?? '—'}
      </span>
    </li>
  );
}

function Meter(props: { load: number; capacity: number | null }) {
  if (!props.capacity) return <>{props.load}</>;
  return (
    <meter min={0} max={props.capacity} value={props.load} aria-label="Load">
      {props.load} of {props.capacity}
    </meter>
  );
}
