import type { DueSlaTarget, PostEntity, SlaTarget } from '@topicdesk/data';

/** A duration as agents read it: "45 s", "12 min", "1 h 30 min", "2 d 3 h". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 90) return `${s} s`;
  const minutes = Math.round(s / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return minutes % 60 === 0 ? `${hours} h` : `${hours} h ${minutes % 60} min`;
  const days = Math.floor(hours / 24);
  return hours % 24 === 0 ? `${days} d` : `${days} d ${hours % 24} h`;
}

/** A target as the topic's posts name it. */
export function targetName(target: SlaTarget): string {
  switch (target) {
    case 'first_response':
      return 'first response';
    case 'resolution':
      return 'resolution';
    default: {
      const unknown: never = target;
      return unknown;
    }
  }
}

/**
 * The topic's post for a due target: a reminder ("⏳ … due in 3 min") or the breach notice
 * ("🚨 … breached"), naming the target, the priority and whether business hours count; the
 * agent who holds the conversation is mentioned on a line of their own, so Telegram notifies them.
 */
export function slaPost(due: DueSlaTarget): { text: string; entities: PostEntity[] } {
  const what = targetName(due.target);
  const terms = `${formatDuration(due.targetSeconds)}, ${due.priority} priority${
    due.businessHours ? ', business hours' : ''
  }`;
  const head =
    due.kind === 'breach'
      ? `🚨 SLA breached: ${due.ticket} ${what} target (${terms}) has passed.`
      : `⏳ SLA: ${due.ticket} ${what} due in ${formatDuration(
          due.targetSeconds - due.elapsedSeconds,
        )} (target ${terms}).`;
  if (!due.claimedBy) return { text: head, entities: [] };
  const before = `${head}\n👤 `;
  const { name, telegramUserId } = due.claimedBy;
  return {
    text: `${before}${name}`,
    entities: [
      {
        type: 'text_mention',
        offset: before.length,
        length: name.length,
        user: { id: telegramUserId, first_name: name },
      },
    ],
  };
}
