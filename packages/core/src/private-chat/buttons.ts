import type { PrivateChatButton } from './intake.service';

// Buttons of the private chat travel as callback data (at most 64 bytes):
// `td:pc:support`, `td:pc:end:<id>`, `td:pc:rate:<id>:<1-5>`. A contract since issue 19: the
// `@topicdesk/grammy` plugin reads the same data in an owner's bot (keep it in step there).

export function privateCallbackData(button: PrivateChatButton): string {
  switch (button.action) {
    case 'support':
      return 'td:pc:support';
    case 'end':
      return `td:pc:end:${button.conversationId}`;
    case 'rate':
      return `td:pc:rate:${button.conversationId}:${button.rating}`;
    default: {
      const never: never = button;
      throw new Error(`unknown button ${JSON.stringify(never)}`);
    }
  }
}

export function parsePrivateCallbackData(data: string | undefined): PrivateChatButton | undefined {
  if (data === 'td:pc:support') return { action: 'support' };
  const end = data ? /^td:pc:end:([0-9a-f-]{36})$/.exec(data) : null;
  if (end) return { action: 'end', conversationId: end[1] as string };
  const rate = data ? /^td:pc:rate:([0-9a-f-]{36}):([1-5])$/.exec(data) : null;
  if (rate) return { action: 'rate', conversationId: rate[1] as string, rating: Number(rate[2]) };
  return undefined;
}
