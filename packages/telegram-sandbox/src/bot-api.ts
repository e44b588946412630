import { sandboxError } from './errors';
import { mediaHandlers } from './media-api';
import {
  isRecord,
  optionalBool,
  optionalInt,
  optionalJson,
  optionalString,
  optionalStringArray,
  requiredChatId,
  requiredInt,
  type Params,
} from './params';
import { isParseMode, parseFormattedText, ParseMode } from './parse-mode';
import type {
  BotCommand,
  InlineKeyboardButton,
  InlineKeyboardMarkup,
  LinkPreviewOptions,
  MessageEntity,
  WebhookInfo,
} from './telegram.types';
import { MAX_BOT_REACTIONS, REACTION_EMOJI, type BotRecord } from './world/records';
import type { World } from './world/world';

// The Bot API methods, one handler each: read the parameters as Telegram does, apply
// the operation to the World, answer Telegram's result. HTTP, the call log and the flood
// limits are the caller's business (SandboxState.callBotApi).

export interface MethodContext {
  readonly world: World;
  readonly bot: BotRecord;
  readonly params: Params;
  /** Resolves when an update arrives for this bot, the time is up or the caller left. */
  waitForUpdates(timeoutMs: number): Promise<void>;
  /** The bot's webhook was set or deleted. */
  webhookChanged(): void;
}

type MethodHandler = (ctx: MethodContext) => unknown;

const MAX_CALLBACK_DATA_BYTES = 64;
const MAX_POLL_TIMEOUT_SECONDS = 50;
const SECRET_TOKEN = /^[A-Za-z0-9_-]{1,256}$/;
const BOT_COMMAND = /^[a-z0-9_]{1,32}$/;
const CHAT_ACTIONS = new Set([
  'typing',
  'upload_photo',
  'record_video',
  'upload_video',
  'record_voice',
  'upload_voice',
  'upload_document',
  'choose_sticker',
  'find_location',
  'record_video_note',
  'upload_video_note',
]);

const handlers = {
  getMe: ({ bot }) => bot.user,

  // ---- updates and webhook ----
  getUpdates: async (ctx) => {
    const { bot, params, world } = ctx;
    if (bot.webhook) throw sandboxError('WEBHOOK_ACTIVE');
    const allowed = optionalStringArray(params, 'allowed_updates');
    if (allowed) bot.allowedUpdates = allowed;
    const offset = optionalInt(params, 'offset');
    if (offset !== undefined) world.confirmUpdates(bot, offset);
    const limit = clamp(optionalInt(params, 'limit') ?? 100, 1, 100);
    const timeout = clamp(optionalInt(params, 'timeout') ?? 0, 0, MAX_POLL_TIMEOUT_SECONDS);
    if (bot.updates.length === 0 && timeout > 0) await ctx.waitForUpdates(timeout * 1000);
    return bot.updates.slice(0, limit);
  },

  setWebhook: (ctx) => {
    const { bot, params, world } = ctx;
    const url = optionalString(params, 'url') ?? '';
    const secretToken = optionalString(params, 'secret_token');
    if (secretToken !== undefined && !SECRET_TOKEN.test(secretToken)) {
      throw sandboxError('SECRET_TOKEN_INVALID');
    }
    const maxConnections = optionalInt(params, 'max_connections') ?? 40;
    if (maxConnections < 1 || maxConnections > 100) {
      throw sandboxError('WEBHOOK_MAX_CONNECTIONS_INVALID');
    }
    if (url !== '' && !isWebhookUrl(url)) throw sandboxError('WEBHOOK_URL_INVALID');
    const allowed = optionalStringArray(params, 'allowed_updates');
    if (allowed) bot.allowedUpdates = allowed;
    if (optionalBool(params, 'drop_pending_updates')) world.dropPendingUpdates(bot);
    if (url === '') delete bot.webhook;
    else bot.webhook = { url, maxConnections, ...(secretToken ? { secretToken } : {}) };
    ctx.webhookChanged();
    return true;
  },

  deleteWebhook: (ctx) => {
    const { bot, params, world } = ctx;
    if (optionalBool(params, 'drop_pending_updates')) world.dropPendingUpdates(bot);
    delete bot.webhook;
    ctx.webhookChanged();
    return true;
  },

  getWebhookInfo: ({ bot }): WebhookInfo => {
    const { webhook } = bot;
    const info: WebhookInfo = {
      url: webhook?.url ?? '',
      has_custom_certificate: false,
      pending_update_count: bot.updates.length,
    };
    if (!webhook) return info;
    return {
      ...info,
      ...(webhook.lastErrorDate === undefined ? {} : { last_error_date: webhook.lastErrorDate }),
      ...(webhook.lastErrorMessage === undefined
        ? {}
        : { last_error_message: webhook.lastErrorMessage }),
      max_connections: webhook.maxConnections,
      ...(bot.allowedUpdates.length > 0 ? { allowed_updates: bot.allowedUpdates } : {}),
    };
  },

  // ---- forum topics ----
  createForumTopic: ({ bot, params, world }) => {
    const iconColor = optionalInt(params, 'icon_color');
    const iconCustomEmojiId = optionalString(params, 'icon_custom_emoji_id');
    return world.topics.create(bot.user.id, requiredChatId(params), {
      name: optionalString(params, 'name') ?? '',
      ...(iconColor === undefined ? {} : { iconColor }),
      ...(iconCustomEmojiId ? { iconCustomEmojiId } : {}),
    });
  },

  editForumTopic: ({ bot, params, world }) => {
    const name = optionalString(params, 'name');
    const iconCustomEmojiId = optionalString(params, 'icon_custom_emoji_id');
    world.topics.edit(
      bot.user.id,
      requiredChatId(params),
      requiredInt(params, 'message_thread_id'),
      {
        ...(name === undefined ? {} : { name }),
        ...(iconCustomEmojiId === undefined ? {} : { iconCustomEmojiId }),
      },
    );
    return true;
  },

  closeForumTopic: ({ bot, params, world }) => {
    world.topics.setClosed(
      bot.user.id,
      requiredChatId(params),
      requiredInt(params, 'message_thread_id'),
      true,
    );
    return true;
  },

  reopenForumTopic: ({ bot, params, world }) => {
    world.topics.setClosed(
      bot.user.id,
      requiredChatId(params),
      requiredInt(params, 'message_thread_id'),
      false,
    );
    return true;
  },

  deleteForumTopic: ({ bot, params, world }) => {
    world.topics.delete(
      bot.user.id,
      requiredChatId(params),
      requiredInt(params, 'message_thread_id'),
    );
    return true;
  },

  unpinAllForumTopicMessages: ({ bot, params, world }) => {
    const chatId = requiredChatId(params);
    const threadId = requiredInt(params, 'message_thread_id');
    world.messages.checkThread(chatId, threadId);
    world.messages.unpinAll(bot.user.id, chatId, threadId);
    return true;
  },

  getForumTopicIconStickers: () => [],

  // ---- messages ----
  sendMessage: ({ bot, params, world }) => {
    const chatId = requiredChatId(params);
    world.chat(chatId);
    const content = readText(params);
    const reply = readReply(params);
    const threadId = optionalInt(params, 'message_thread_id');
    const replyMarkup = readReplyMarkup(params);
    const linkPreviewOptions = readLinkPreviewOptions(params);
    return world.messages.sendBot(bot.user.id, chatId, {
      ...content,
      ...reply,
      ...(threadId === undefined ? {} : { threadId }),
      ...(replyMarkup ? { replyMarkup } : {}),
      ...(linkPreviewOptions ? { linkPreviewOptions } : {}),
    });
  },

  editMessageText: ({ bot, params, world }) => {
    if (params['inline_message_id'] !== undefined) throw sandboxError('NOT_SUPPORTED');
    const chatId = requiredChatId(params);
    const messageId = requiredInt(params, 'message_id');
    const content = readText(params);
    const replyMarkup = readReplyMarkup(params);
    return world.messages.editBot(bot.user.id, chatId, messageId, {
      ...content,
      ...(replyMarkup ? { replyMarkup } : {}),
    });
  },

  editMessageReplyMarkup: ({ bot, params, world }) => {
    if (params['inline_message_id'] !== undefined) throw sandboxError('NOT_SUPPORTED');
    const chatId = requiredChatId(params);
    const messageId = requiredInt(params, 'message_id');
    const replyMarkup = readReplyMarkup(params);
    return world.messages.editBot(
      bot.user.id,
      chatId,
      messageId,
      replyMarkup ? { replyMarkup } : {},
    );
  },

  deleteMessage: ({ bot, params, world }) => {
    world.messages.delete(bot.user.id, requiredChatId(params), requiredInt(params, 'message_id'));
    return true;
  },

  deleteMessages: ({ bot, params, world }) => {
    const chatId = requiredChatId(params);
    const ids = optionalJson(params, 'message_ids');
    if (!Array.isArray(ids) || ids.length === 0 || ids.length > 100) {
      throw sandboxError('PARAMETER_INVALID', { description: 'Bad Request: message_ids is empty' });
    }
    for (const id of ids) {
      // Telegram skips the ids it cannot delete.
      if (
        typeof id === 'number' &&
        world.messages.of(chatId).some((m) => m.message.message_id === id)
      ) {
        world.messages.delete(bot.user.id, chatId, id);
      }
    }
    return true;
  },

  pinChatMessage: ({ bot, params, world }) => {
    world.messages.setPinned(
      bot.user.id,
      requiredChatId(params),
      requiredInt(params, 'message_id'),
      true,
    );
    return true;
  },

  unpinChatMessage: ({ bot, params, world }) => {
    world.messages.setPinned(
      bot.user.id,
      requiredChatId(params),
      optionalInt(params, 'message_id'),
      false,
    );
    return true;
  },

  unpinAllChatMessages: ({ bot, params, world }) => {
    world.messages.unpinAll(bot.user.id, requiredChatId(params));
    return true;
  },

  setMessageReaction: ({ bot, params, world }) => {
    const chatId = requiredChatId(params);
    const messageId = requiredInt(params, 'message_id');
    const emoji = readReactions(params);
    world.messages.react(
      bot.user.id,
      chatId,
      messageId,
      emoji,
      optionalBool(params, 'is_big') ?? false,
    );
    return true;
  },

  answerCallbackQuery: ({ bot, params, world }) => {
    const id = optionalString(params, 'callback_query_id') ?? '';
    const text = optionalString(params, 'text');
    const url = optionalString(params, 'url');
    world.callbacks.answer(bot.user.id, id, {
      showAlert: optionalBool(params, 'show_alert') ?? false,
      ...(text ? { text } : {}),
      ...(url ? { url } : {}),
    });
    return true;
  },

  sendChatAction: ({ params, world }) => {
    const chatId = requiredChatId(params);
    world.chat(chatId);
    const action = optionalString(params, 'action') ?? '';
    if (!CHAT_ACTIONS.has(action)) throw sandboxError('CHAT_ACTION_INVALID');
    world.messages.checkThread(chatId, optionalInt(params, 'message_thread_id'));
    return true;
  },

  // ---- bot settings ----
  setMyCommands: ({ bot, params }) => {
    const commands = optionalJson(params, 'commands');
    if (!Array.isArray(commands)) {
      throw sandboxError('PARAMETER_INVALID', {
        description: "Bad Request: can't parse commands JSON object",
      });
    }
    bot.commands = commands.map(readCommand);
    return true;
  },

  getMyCommands: ({ bot }) => bot.commands,

  deleteMyCommands: ({ bot }) => {
    bot.commands = [];
    return true;
  },

  // ---- chats ----
  getChat: ({ params, world }) => {
    const { chat } = world.chat(requiredChatId(params));
    return { ...chat, accent_color_id: 0, max_reaction_count: 11 };
  },

  getChatMember: ({ params, world }) =>
    world.members.memberOf(requiredChatId(params), requiredInt(params, 'user_id')),

  getChatAdministrators: ({ params, world }) =>
    world.members.administrators(requiredChatId(params)),

  getChatMemberCount: ({ params, world }) => {
    const chat = world.chat(requiredChatId(params));
    return chat.chat.type === 'private'
      ? 2
      : chat.members.size + world.members.botsIn(chat.chat.id).length;
  },

  ...mediaHandlers,
} satisfies Record<string, MethodHandler>;

export type BotApiMethod = keyof typeof handlers;

/** Methods that change nothing; their calls need no save. */
export const READ_ONLY_METHODS: ReadonlySet<BotApiMethod> = new Set<BotApiMethod>([
  'getMe',
  'getWebhookInfo',
  'getForumTopicIconStickers',
  'getMyCommands',
  'getChat',
  'getChatMember',
  'getChatAdministrators',
  'getChatMemberCount',
]);

// Telegram's method names are case-insensitive.
const byLowerCaseName = new Map<string, BotApiMethod>(
  (Object.keys(handlers) as BotApiMethod[]).map((name) => [name.toLowerCase(), name]),
);

/** The canonical name of a Bot API method the sandbox serves, or undefined. */
export function resolveMethod(name: string): BotApiMethod | undefined {
  return byLowerCaseName.get(name.toLowerCase());
}

export function runMethod(method: BotApiMethod, ctx: MethodContext): unknown {
  const handler: MethodHandler = handlers[method];
  return handler(ctx);
}

// ---- parameter readers shared by the message methods ----

function readText(params: Params): { text: string; entities?: MessageEntity[] } {
  const raw = optionalString(params, 'text') ?? '';
  if (raw.trim() === '') throw sandboxError('TEXT_EMPTY');
  const parseMode = optionalString(params, 'parse_mode') ?? '';
  if (parseMode !== '') {
    const mode = Object.values(ParseMode).find((m) => m.toLowerCase() === parseMode.toLowerCase());
    if (!mode || !isParseMode(mode)) throw sandboxError('PARSE_MODE_INVALID');
    return parseFormattedText(raw, mode);
  }
  const entities = optionalJson(params, 'entities');
  if (entities === undefined) return { text: raw };
  if (!Array.isArray(entities) || !entities.every(isEntity)) {
    throw sandboxError('PARAMETER_INVALID', {
      description: "Bad Request: can't parse entities JSON object",
    });
  }
  return { text: raw, entities };
}

function isEntity(value: unknown): value is MessageEntity {
  return (
    isRecord(value) &&
    typeof value['type'] === 'string' &&
    Number.isInteger(value['offset']) &&
    Number.isInteger(value['length'])
  );
}

function readReply(params: Params): {
  replyToMessageId?: number;
  allowSendingWithoutReply?: boolean;
} {
  const replyParameters = optionalJson(params, 'reply_parameters');
  if (replyParameters !== undefined) {
    if (!isRecord(replyParameters)) {
      throw sandboxError('PARAMETER_INVALID', {
        description: "Bad Request: can't parse reply parameters JSON object",
      });
    }
    const messageId = optionalInt(replyParameters, 'message_id');
    const allow = optionalBool(replyParameters, 'allow_sending_without_reply');
    return {
      ...(messageId === undefined ? {} : { replyToMessageId: messageId }),
      ...(allow === undefined ? {} : { allowSendingWithoutReply: allow }),
    };
  }
  const legacyId = optionalInt(params, 'reply_to_message_id');
  const legacyAllow = optionalBool(params, 'allow_sending_without_reply');
  return {
    ...(legacyId === undefined ? {} : { replyToMessageId: legacyId }),
    ...(legacyAllow === undefined ? {} : { allowSendingWithoutReply: legacyAllow }),
  };
}

/**
 * The inline keyboard of `reply_markup`, validated as Telegram does. Other keyboards
 * (reply keyboards, force_reply) are accepted but, as in Telegram, not part of the Message.
 */
function readReplyMarkup(params: Params): InlineKeyboardMarkup | undefined {
  const markup = optionalJson(params, 'reply_markup');
  if (markup === undefined) return undefined;
  if (!isRecord(markup)) throw sandboxError('REPLY_MARKUP_INVALID');
  const rows = markup['inline_keyboard'];
  if (rows === undefined) return undefined;
  if (!Array.isArray(rows) || !rows.every((row) => Array.isArray(row))) {
    throw sandboxError('REPLY_MARKUP_INVALID');
  }
  const keyboard = (rows as unknown[][]).map((row) => row.map(readButton));
  return keyboard.length > 0 ? { inline_keyboard: keyboard } : undefined;
}

function readButton(value: unknown): InlineKeyboardButton {
  if (!isRecord(value) || typeof value['text'] !== 'string')
    throw sandboxError('REPLY_MARKUP_INVALID');
  const data = value['callback_data'];
  if (data !== undefined) {
    if (typeof data !== 'string') throw sandboxError('REPLY_MARKUP_INVALID');
    const bytes = Buffer.byteLength(data, 'utf8');
    if (bytes < 1 || bytes > MAX_CALLBACK_DATA_BYTES) throw sandboxError('BUTTON_DATA_INVALID');
  }
  // Mini Apps open over https only.
  const webApp = value['web_app'];
  if (webApp !== undefined && !(isRecord(webApp) && isHttpsUrl(webApp['url'])))
    throw sandboxError('BUTTON_URL_INVALID');
  return value as InlineKeyboardButton;
}

function isHttpsUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    return new URL(value).protocol === 'https:';
  } catch {
    return false;
  }
}

function readLinkPreviewOptions(params: Params): LinkPreviewOptions | undefined {
  const options = optionalJson(params, 'link_preview_options');
  if (isRecord(options)) return options;
  if (optionalBool(params, 'disable_web_page_preview')) return { is_disabled: true };
  return undefined;
}

/**
 * `reaction`: an array of ReactionType; absent or empty removes the bot's reactions. Only
 * `{ type: 'emoji', emoji }` with an emoji of Telegram's list, and one of them (a bot is no
 * premium user); paid and custom emoji are refused as Telegram refuses them for bots.
 */
function readReactions(params: Params): string[] {
  const raw = optionalJson(params, 'reaction');
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) {
    throw sandboxError('PARAMETER_INVALID', {
      description: "Bad Request: can't parse reaction types JSON object",
    });
  }
  const emoji = raw.map((reaction: unknown) => {
    if (!isRecord(reaction) || reaction['type'] !== 'emoji') throw sandboxError('REACTION_INVALID');
    const value = reaction['emoji'];
    if (typeof value !== 'string' || !REACTION_EMOJI.has(value))
      throw sandboxError('REACTION_INVALID');
    return value;
  });
  if (new Set(emoji).size > MAX_BOT_REACTIONS) throw sandboxError('REACTIONS_TOO_MANY');
  return [...new Set(emoji)];
}

function readCommand(value: unknown): BotCommand {
  if (!isRecord(value)) throw sandboxError('BOT_COMMAND_INVALID');
  const { command, description } = value;
  if (typeof command !== 'string' || !BOT_COMMAND.test(command))
    throw sandboxError('BOT_COMMAND_INVALID');
  if (typeof description !== 'string' || description.length < 1 || description.length > 256) {
    throw sandboxError('BOT_COMMAND_DESCRIPTION_INVALID');
  }
  return { command, description };
}

function isWebhookUrl(url: string): boolean {
  if (!URL.canParse(url)) return false;
  const { protocol } = new URL(url);
  return protocol === 'http:' || protocol === 'https:';
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(Math.max(value, min), max);
}
