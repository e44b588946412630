import {
  privateCallbackData,
  type PrivateChatButton,
  type PrivateChatRequest,
} from '@topicdesk/core';
import type { InlineKeyboardMarkup } from 'grammy/types';

export { parsePrivateCallbackData, privateCallbackData } from '@topicdesk/core';

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
