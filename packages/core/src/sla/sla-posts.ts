import type { DueSlaTarget, PostEntity, SlaTarget } from '@topicdesk/data';
import { formatDuration } from '../durations';

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
