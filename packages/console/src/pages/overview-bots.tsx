import type { OverviewBot, OverviewTelegram } from '../api/views';
import { formatSeconds, formatTime, Table } from '../ui';

/** A time of day with seconds: a 429 pause lasts seconds to minutes. */
function formatClock(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime())
    ? iso
    : date.toLocaleTimeString(undefined, { timeStyle: 'medium' });
}

/**
 * The bridges' Telegram bots and their send queues: which bot sends, which waits out a 429 (and
 * until when), which is left out and why. Budget use is every replica's, from Redis.
 */
export function TelegramBots(props: { telegram: OverviewTelegram }) {
  const { telegram } = props;
  return (
    <section aria-labelledby="bots-heading">
      <h2 id="bots-heading">Telegram bots</h2>
      {!telegram.available ? (
        <p class="notice" role="status">
          No Telegram bridge answered: bots and their queues are unknown for now.
        </p>
      ) : (
        <>
          {telegram.sending ? (
            <ul class="cards" aria-label="Calls waiting for the bots">
              <li class="card">
                <span class="card-label">Calls waiting</span>
                <span class="card-value" data-card="Calls waiting">
                  {telegram.sending.normal + telegram.sending.cosmetic}
                </span>
                <span class="card-note">
                  {telegram.sending.normal} messages, {telegram.sending.cosmetic} cosmetic
                </span>
              </li>
              <li class="card">
                <span class="card-label">Oldest call waiting</span>
                <span class="card-value" data-card="Oldest call waiting">
                  {formatSeconds(telegram.sending.oldestWaitSeconds)}
                </span>
              </li>
            </ul>
          ) : null}
          <Table
            class="bots"
            rows={telegram.bots}
            rowKey={(bot) => bot.id}
            rowClass={(bot) => (bot.state === 'ok' ? undefined : bot.state)}
            empty="No bots."
            columns={[
              { label: 'Bot', cell: (bot) => <BotName bot={bot} /> },
              { label: 'State', cell: (bot) => <BotState bot={bot} /> },
              {
                label: 'Sent this window',
                cell: (bot) => (
                  <span>
                    {bot.sent} / {bot.budget}
                    <span class="muted"> per {formatSeconds(bot.windowSeconds)}</span>
                  </span>
                ),
              },
              {
                label: 'Last error',
                cell: (bot) =>
                  bot.lastError ? (
                    <span>
                      <code>{bot.lastError.code}</code>{' '}
                      <span class="muted">{formatTime(bot.lastError.at)}</span>
                    </span>
                  ) : (
                    '—'
                  ),
              },
            ]}
          />
          <p class="muted">
            {telegram.replicas === 1 ? 'One bridge' : `${telegram.replicas} bridges`}, as of{' '}
            {formatTime(telegram.at)}
          </p>
        </>
      )}
    </section>
  );
}

function BotName(props: { bot: OverviewBot }) {
  const { bot } = props;
  return (
    <span>
      <bdi>{bot.username ? `@${bot.username}` : bot.id}</bdi>{' '}
      <span class="badge">{bot.role === 'main' ? 'main' : 'sender'}</span>
    </span>
  );
}

function BotState(props: { bot: OverviewBot }) {
  const { bot } = props;
  switch (bot.state) {
    case 'ok':
      return <span class="badge open">OK</span>;
    case 'paused':
      return (
        <span>
          <span class="badge paused">Paused</span>
          {bot.pausedUntil ? (
            <>
              {' '}
              until <time dateTime={bot.pausedUntil}>{formatClock(bot.pausedUntil)}</time>
            </>
          ) : null}
        </span>
      );
    case 'failing':
      return (
        <span>
          <span class="badge failing">Failing</span> <span class="problem">{bot.problem}</span>
        </span>
      );
    default: {
      const never: never = bot.state;
      return <>{String(never)}</>;
    }
  }
}
