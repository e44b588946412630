import type { PrivateChatButton, PrivateChatRequest } from '@topicdesk/core';
import type { InlineKeyboardMarkup } from 'grammy/types';

// Buttons of the private chat travel as callback data (at most 64 bytes):
// `td:pc:support`, `td:pc:end:<id>`, `td:pc:rate:<id>:<1-5>`.

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

/** One button under a bot message (Live support, End), labelled in the user's language. */
export function buttonKeyboard(button: {
  label: string;
  press: PrivateChatButton;
}): InlineKeyboardMarkup {
  return {
    inline_keyboard: [[{ text: button.label, callback_data: privateCallbackData(button.press) }]],
  };
}

/** The rating buttons under the prompt: 1 to 5 stars. */
export function ratingKeyboard(conversationId: string): InlineKeyboardMarkup {
  return {
    inline_keyboard: [
      [1, 2, 3, 4, 5].map((rating) => ({
        text: `${rating} ⭐`,
        callback_data: privateCallbackData({ action: 'rate', conversationId, rating }),
      })),
    ],
  };
}

/** What a pressed button asks core for. */
export function buttonRequest(button: PrivateChatButton): PrivateChatRequest {
  switch (button.action) {
    case 'support':
      return { kind: 'support' };
    case 'end':
      return { kind: 'end', conversationId: button.conversationId };
    case 'rate':
      return { kind: 'rate', conversationId: button.conversationId, rating: button.rating };
    default: {
      const never: never = button;
      throw new Error(`unknown button ${JSON.stringify(never)}`);
    }
  }
}
