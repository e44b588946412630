import type { InlineKeyboardButton, InlineKeyboardMarkup } from 'grammy/types';

// Topicdesk's buttons travel as callback data (the same as in Topicdesk's own bot):
// `td:pc:support`, `td:pc:end:<conversation id>`, `td:pc:rate:<conversation id>:<1-5>`.

/** The callback data of the "Live support" button. */
export const SUPPORT_CALLBACK_DATA = 'td:pc:support';

export type TopicdeskButton =
  | { action: 'support' }
  | { action: 'end'; conversationId: string }
  | { action: 'rate'; conversationId: string; rating: number };

/** The button a callback data names, if it is one of Topicdesk's. */
export function parseCallbackData(data: string | undefined): TopicdeskButton | undefined {
  if (data === SUPPORT_CALLBACK_DATA) return { action: 'support' };
  const end = data ? /^td:pc:end:([0-9a-f-]{36})$/.exec(data) : null;
  if (end) return { action: 'end', conversationId: end[1] as string };
  const rate = data ? /^td:pc:rate:([0-9a-f-]{36}):([1-5])$/.exec(data) : null;
  if (rate) return { action: 'rate', conversationId: rate[1] as string, rating: Number(rate[2]) };
  return undefined;
}

/** The "Live support" inline button, to place in your own keyboards and menus. */
export function supportButton(text = '💬 Live support'): InlineKeyboardButton.CallbackButton {
  return { text, callback_data: SUPPORT_CALLBACK_DATA };
}

/** A keyboard of the "Live support" button alone. */
export function supportKeyboard(text?: string): InlineKeyboardMarkup {
  return { inline_keyboard: [[supportButton(text)]] };
}
