import { format, type Strings } from './strings';
import type { ChatItem } from './timeline';

/**
 * A finished conversation as plain text, for the visitor to keep: a heading with the ticket,
 * then one entry per message with its UTC time and who wrote it. Unsent messages are left out:
 * the transcript is what the support team has.
 */
export function transcriptText(
  items: readonly ChatItem[],
  strings: Pick<Strings, 'title' | 'ticket' | 'you' | 'deleted'>,
  ticket: string | undefined,
): string {
  const lines = [
    ticket ? `${strings.title} · ${format(strings.ticket, { ticket })}` : strings.title,
  ];
  for (const item of items) {
    if (item.seq === undefined) continue;
    const time = item.at.slice(0, 16).replace('T', ' ');
    const who =
      item.kind === 'visitor'
        ? strings.you
        : item.kind === 'agent'
          ? (item.author ?? strings.title)
          : '—';
    const text = item.deleted ? strings.deleted : item.text;
    lines.push('', `[${time} UTC] ${who}:`, text);
  }
  return lines.join('\n') + '\n';
}

/** A file name for the transcript of `ticket`. */
export function transcriptName(ticket: string | undefined): string {
  return `${(ticket ?? 'conversation').replace(/[^A-Za-z0-9-]/g, '_')}.txt`;
}

/**
 * A finished conversation's stored messages as they stay on screen above the next one: read
 * only (no delivery states), with ids of their own, closed by a line naming its ticket.
 */
export function archived(
  items: readonly ChatItem[],
  ticket: string | undefined,
  strings: Pick<Strings, 'ended'>,
): ChatItem[] {
  const kept = items.filter((i) => i.seq !== undefined);
  if (kept.length === 0) return [];
  const tag = `${ticket ?? ''}:${Date.now()}`;
  return [
    ...kept.map(({ state: _s, clientId: _c, code: _x, ...item }) => ({
      ...item,
      id: `${tag}:${item.id}`,
    })),
    {
      id: `${tag}:end`,
      kind: 'system' as const,
      text: format(strings.ended, { ticket: ticket ?? '' }),
      at: new Date().toISOString(),
    },
  ];
}
