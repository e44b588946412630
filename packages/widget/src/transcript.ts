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
