import { ConfigError } from '@topicdesk/config';
import type { Conversation } from '@topicdesk/core';
import { GrammyError } from 'grammy';
import type { Update } from 'grammy/types';
import { describe, expect, it } from 'vitest';
import { loadBridgeConfig } from '../config';
import {
  classifyPrivateFailure,
  isPrivateChatUpdate,
  normalizeLanguage,
  parsePrivateCallbackData,
  parsePrivateCommand,
  privateCallbackData,
  ratingKeyboard,
  signed,
} from './private-chat';
import { headerText, topicName } from '../sync/topic-presentation';
import { generateUserKey } from '../user-crypto';

const CONVERSATION_ID = '0b7e3f0e-3c55-4a51-9a53-2f4e0c1d2b3a';
const USER = { id: 5_813_920_476, is_bot: false, first_name: 'Zebulon', username: 'zq_user' };

function grammyError(error_code: number, description: string) {
  return new GrammyError(
    "Call to 'sendMessage' failed!",
    { ok: false, error_code, description },
    'sendMessage',
    { chat_id: USER.id, text: 'hello' },
  );
}

describe('isPrivateChatUpdate', () => {
  const chat = { id: USER.id, type: 'private' as const, first_name: 'Zebulon' };
  it('recognises messages, edits and button presses from a private chat', () => {
    const message = { message_id: 1, date: 0, chat, from: USER, text: 'hi' };
    expect(isPrivateChatUpdate({ update_id: 1, message })).toBe(true);
    expect(isPrivateChatUpdate({ update_id: 2, edited_message: message } as Update)).toBe(true);
    expect(
      isPrivateChatUpdate({
        update_id: 3,
        callback_query: { id: 'q', from: USER, chat_instance: 'x', message },
      }),
    ).toBe(true);
  });

  it('leaves the support group and inline buttons to the agents side', () => {
    const group = { id: -1001, type: 'supergroup' as const, title: 'Support' };
    expect(
      isPrivateChatUpdate({
        update_id: 4,
        message: { message_id: 1, date: 0, chat: group, from: USER, text: 'hi' },
      }),
    ).toBe(false);
    expect(
      isPrivateChatUpdate({
        update_id: 5,
        callback_query: { id: 'q', from: USER, chat_instance: 'x', inline_message_id: 'i' },
      }),
    ).toBe(false);
  });
});

describe('parsePrivateCommand', () => {
  it('parses the four commands, with a bot name and arguments', () => {
    expect(parsePrivateCommand('/start')).toEqual({ name: 'start', args: '' });
    expect(parsePrivateCommand('/start support')).toEqual({ name: 'start', args: 'support' });
    expect(parsePrivateCommand('/Support@topicdesk_bot')).toEqual({ name: 'support', args: '' });
    expect(parsePrivateCommand(' /end ')).toEqual({ name: 'end', args: '' });
    expect(parsePrivateCommand('/help')).toEqual({ name: 'help', args: '' });
  });

  it('calls anything else starting with / unknown, and plain text no command', () => {
    expect(parsePrivateCommand('/claim')?.name).toBe('unknown');
    expect(parsePrivateCommand('/unknown')?.name).toBe('unknown');
    expect(parsePrivateCommand('/')?.name).toBe('unknown');
    expect(parsePrivateCommand('hello /support')).toBeUndefined();
  });
});

describe('private callback data', () => {
  it('round-trips every button within Telegram’s 64 bytes', () => {
    for (const button of [
      { action: 'support' as const },
      { action: 'end' as const, conversationId: CONVERSATION_ID },
      { action: 'rate' as const, conversationId: CONVERSATION_ID, rating: 5 },
    ]) {
      const data = privateCallbackData(button);
      expect(Buffer.byteLength(data)).toBeLessThanOrEqual(64);
      expect(parsePrivateCallbackData(data)).toEqual(button);
    }
  });

  it('refuses ratings outside 1–5, the agents’ header buttons and garbage', () => {
    expect(parsePrivateCallbackData(`td:pc:rate:${CONVERSATION_ID}:6`)).toBeUndefined();
    expect(parsePrivateCallbackData(`td:close:${CONVERSATION_ID}`)).toBeUndefined();
    expect(parsePrivateCallbackData(undefined)).toBeUndefined();
  });

  it('puts five rating buttons under the prompt', () => {
    const buttons = ratingKeyboard(CONVERSATION_ID).inline_keyboard.flat();
    expect(buttons.map((b) => b.text)).toEqual(['1 ⭐', '2 ⭐', '3 ⭐', '4 ⭐', '5 ⭐']);
  });
});

describe('signed', () => {
  it('signs an agent’s message with their display name, or Support', () => {
    expect(signed({ kind: 'agent', author_name: 'Alice M.', text: 'Hi!' })).toBe('Alice M.: Hi!');
    expect(signed({ kind: 'agent', author_name: null, text: 'Hi!' })).toBe('Support: Hi!');
  });

  it('leaves system messages as they are', () => {
    expect(signed({ kind: 'system', author_name: null, text: 'Closed.' })).toBe('Closed.');
  });
});

describe('normalizeLanguage', () => {
  it('keeps language tags, lower-cased, and drops anything else', () => {
    expect(normalizeLanguage('de')).toBe('de');
    expect(normalizeLanguage('pt-BR')).toBe('pt-br');
    expect(normalizeLanguage(undefined)).toBeNull();
    expect(normalizeLanguage('en_US; drop table')).toBeNull();
  });
});

describe('classifyPrivateFailure', () => {
  it('treats a blocked bot or a vanished chat as final for that user', () => {
    expect(
      classifyPrivateFailure(grammyError(403, 'Forbidden: bot was blocked by the user')),
    ).toEqual({
      kind: 'unreachable',
      description: 'Forbidden: bot was blocked by the user',
    });
    expect(classifyPrivateFailure(grammyError(400, 'Bad Request: chat not found')).kind).toBe(
      'unreachable',
    );
  });

  it('keeps 429 and 5xx as they are for the group', () => {
    expect(classifyPrivateFailure(grammyError(429, 'Too Many Requests: retry after 3')).kind).toBe(
      'rate_limited',
    );
    expect(classifyPrivateFailure(grammyError(502, 'Bad Gateway')).kind).toBe('transient');
  });
});

describe('the topic of a private-chat conversation', () => {
  const conversation = {
    id: CONVERSATION_ID,
    tenant_id: 'default',
    ticket: 'SUPP-ABC-1234',
    channel: 'telegram',
    status: 'open',
    visitor_name: null,
    locale: 'de',
    page_url: null,
    page_title: null,
    claimed_at: null,
    claimed_by_name: null,
  } as Partial<Conversation> as Conversation;

  it('shows the ticket and the channel, never the user’s language', () => {
    expect(topicName(conversation)).toBe('🟢 SUPP-ABC-1234');
    const header = headerText(conversation);
    expect(header).toContain('SUPP-ABC-1234');
    expect(header).toContain('Channel: Telegram bot');
    expect(header).not.toMatch(/Locale|de\b/);
  });
});

describe('bridge config for private chats', () => {
  const minimal = { BOT_TOKEN: '123456:ABC-def_ghi', SUPPORT_GROUP_ID: '-1001234567890' };

  it('takes the key, the rotation key and the seed’s limits by default', () => {
    const key = generateUserKey();
    const config = loadBridgeConfig({ ...minimal, TELEGRAM_USER_KEY: key });
    expect(config.TELEGRAM_USER_KEY).toBe(key);
    expect(config.TELEGRAM_USER_KEY_PREVIOUS).toBeUndefined();
    expect(config.LIMIT_CONVERSATIONS_PER_DAY).toBe(5);
    expect(config.LIMIT_MESSAGES_PER_HOUR).toBe(50);
  });

  it('refuses a key that is not 32 bytes without printing it', () => {
    let error: unknown;
    try {
      loadBridgeConfig({ ...minimal, TELEGRAM_USER_KEY: 'dG9vLXNob3J0LXNlY3JldA==' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(String(error)).toContain('TELEGRAM_USER_KEY');
    expect(String(error)).not.toContain('dG9vLXNob3J0LXNlY3JldA==');
  });
});
