// One table of every error the sandbox answers. `status` and `description` are what
// Telegram sends (the Bot API's `error_code` equals the HTTP status); `code` is ours,
// stable, for callers that branch on errors (the control API returns it too).

interface ErrorSpec {
  readonly status: number;
  readonly description: string;
}

export const SANDBOX_ERRORS = {
  UNAUTHORIZED: { status: 401, description: 'Unauthorized' },
  BOT_NOT_MEMBER: {
    status: 403,
    description: 'Forbidden: bot is not a member of the supergroup chat',
  },
  BOT_BLOCKED: { status: 403, description: 'Forbidden: bot was blocked by the user' },
  METHOD_NOT_FOUND: { status: 404, description: 'Not Found' },
  TOO_MANY_REQUESTS: { status: 429, description: 'Too Many Requests: retry after 1' },
  WEBHOOK_ACTIVE: {
    status: 409,
    description:
      "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
  },
  TERMINATED_BY_GET_UPDATES: {
    status: 409,
    description:
      'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running',
  },
  TERMINATED_BY_SET_WEBHOOK: {
    status: 409,
    description: 'Conflict: terminated by setWebhook request',
  },
  BAD_REQUEST: { status: 400, description: 'Bad Request' },
  PARAMETER_MISSING: { status: 400, description: 'Bad Request: parameter is empty' },
  PARAMETER_INVALID: { status: 400, description: 'Bad Request: invalid parameter' },
  CHAT_NOT_FOUND: { status: 400, description: 'Bad Request: chat not found' },
  USER_NOT_FOUND: { status: 400, description: 'Bad Request: user not found' },
  CHAT_NOT_FORUM: { status: 400, description: 'Bad Request: the chat is not a forum' },
  TOPIC_NAME_INVALID: { status: 400, description: 'Bad Request: TOPIC_NAME_INVALID' },
  TOPIC_ICON_COLOR_INVALID: { status: 400, description: 'Bad Request: TOPIC_ICON_COLOR_INVALID' },
  TOPIC_NOT_MODIFIED: { status: 400, description: 'Bad Request: TOPIC_NOT_MODIFIED' },
  TOPIC_ID_INVALID: { status: 400, description: 'Bad Request: TOPIC_ID_INVALID' },
  TOPIC_CLOSED: { status: 400, description: 'Bad Request: TOPIC_CLOSED' },
  THREAD_NOT_FOUND: { status: 400, description: 'Bad Request: message thread not found' },
  TEXT_EMPTY: { status: 400, description: 'Bad Request: message text is empty' },
  CAPTION_TOO_LONG: { status: 400, description: 'Bad Request: message caption is too long' },
  FILE_MISSING: { status: 400, description: 'Bad Request: there is no file in the request' },
  FILE_ID_INVALID: {
    status: 400,
    description: 'Bad Request: wrong file identifier/HTTP URL specified',
  },
  FILE_TOO_BIG: { status: 413, description: 'Request Entity Too Large' },
  /** getFile of a file over 20 MB: bots cannot download it. */
  FILE_TOO_BIG_TO_DOWNLOAD: { status: 400, description: 'Bad Request: file is too big' },
  PHOTO_TOO_BIG: { status: 400, description: 'Bad Request: PHOTO_SAVE_FILE_INVALID' },
  IMAGE_PROCESS_FAILED: { status: 400, description: 'Bad Request: IMAGE_PROCESS_FAILED' },
  PHOTO_INVALID_DIMENSIONS: { status: 400, description: 'Bad Request: PHOTO_INVALID_DIMENSIONS' },
  TEXT_TOO_LONG: { status: 400, description: 'Bad Request: message is too long' },
  ENTITIES_INVALID: { status: 400, description: "Bad Request: can't parse entities" },
  PARSE_MODE_INVALID: { status: 400, description: 'Bad Request: unsupported parse_mode' },
  BUTTON_DATA_INVALID: { status: 400, description: 'Bad Request: BUTTON_DATA_INVALID' },
  BUTTON_URL_INVALID: { status: 400, description: 'Bad Request: BUTTON_URL_INVALID' },
  REPLY_MARKUP_INVALID: {
    status: 400,
    description: "Bad Request: can't parse reply keyboard markup JSON object",
  },
  REPLY_NOT_FOUND: { status: 400, description: 'Bad Request: message to be replied not found' },
  MESSAGE_TO_EDIT_NOT_FOUND: { status: 400, description: 'Bad Request: message to edit not found' },
  MESSAGE_CANT_BE_EDITED: { status: 400, description: "Bad Request: message can't be edited" },
  MESSAGE_NOT_MODIFIED: {
    status: 400,
    description:
      'Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message',
  },
  MESSAGE_TO_DELETE_NOT_FOUND: {
    status: 400,
    description: 'Bad Request: message to delete not found',
  },
  MESSAGE_CANT_BE_DELETED: { status: 400, description: "Bad Request: message can't be deleted" },
  MESSAGE_TO_PIN_NOT_FOUND: { status: 400, description: 'Bad Request: message to pin not found' },
  MESSAGE_TO_UNPIN_NOT_FOUND: {
    status: 400,
    description: 'Bad Request: message to unpin not found',
  },
  MESSAGE_NOT_FOUND: { status: 400, description: 'Bad Request: message not found' },
  MESSAGE_TO_REACT_NOT_FOUND: {
    status: 400,
    description: 'Bad Request: message to react not found',
  },
  REACTION_INVALID: { status: 400, description: 'Bad Request: REACTION_INVALID' },
  REACTIONS_TOO_MANY: { status: 400, description: 'Bad Request: REACTIONS_TOO_MANY' },
  CALLBACK_QUERY_INVALID: {
    status: 400,
    description:
      'Bad Request: query is too old and response timeout expired or query ID is invalid',
  },
  CHAT_ACTION_INVALID: {
    status: 400,
    description: 'Bad Request: wrong parameter action in request',
  },
  SECRET_TOKEN_INVALID: {
    status: 400,
    description: 'Bad Request: secret token contains unallowed characters',
  },
  WEBHOOK_URL_INVALID: { status: 400, description: 'Bad Request: bad webhook: invalid URL' },
  WEBHOOK_MAX_CONNECTIONS_INVALID: {
    status: 400,
    description: 'Bad Request: bad webhook: max_connections must be between 1 and 100',
  },
  BOT_COMMAND_INVALID: { status: 400, description: 'Bad Request: BOT_COMMAND_INVALID' },
  BOT_COMMAND_DESCRIPTION_INVALID: {
    status: 400,
    description: 'Bad Request: BOT_COMMAND_DESCRIPTION_INVALID',
  },
  NOT_ENOUGH_RIGHTS_TOPICS: {
    status: 400,
    description: 'Bad Request: not enough rights to manage topics',
  },
  NOT_ENOUGH_RIGHTS_PIN: {
    status: 400,
    description: 'Bad Request: not enough rights to pin a message',
  },
  NOT_SUPPORTED: { status: 400, description: 'Bad Request: not supported by the sandbox' },
  // Control API only: the request cannot happen in a real client.
  BUTTON_NOT_FOUND: { status: 400, description: 'Bad Request: no button with this callback_data' },
  PRIVATE_CHAT_MISMATCH: {
    status: 400,
    description: 'Bad Request: a private chat id must equal the id of the user writing in it',
  },
  MESSAGE_NOT_FROM_USER: {
    status: 400,
    description: 'Bad Request: only a user message can be edited here',
  },
  MEMBER_CHAT_INVALID: {
    status: 400,
    description: 'Bad Request: bot membership exists only in a supergroup',
  },
  // Any route: a request a browser page may have forged (issue 12, item 9).
  HOST_NOT_ALLOWED: {
    status: 403,
    description: 'Forbidden: Host is not a loopback name or a configured host of the sandbox',
  },
  ORIGIN_NOT_ALLOWED: {
    status: 403,
    description: 'Forbidden: cross-site request',
  },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    description: 'Unsupported Media Type: the control API takes application/json',
  },
} as const satisfies Record<string, ErrorSpec>;

export type SandboxErrorCode = keyof typeof SANDBOX_ERRORS;

export interface ResponseParameters {
  retry_after?: number;
  migrate_to_chat_id?: number;
}

export interface SandboxErrorOptions {
  /** Replaces the table's description (for descriptions that carry details). */
  description?: string;
  parameters?: ResponseParameters;
  cause?: unknown;
}

/** An error answered to a caller; on the Bot API as `{ ok: false, error_code, description }`. */
export class SandboxError extends Error {
  override readonly name = 'SandboxError';
  readonly code: SandboxErrorCode;
  readonly status: number;
  readonly description: string;
  readonly parameters: ResponseParameters | undefined;

  constructor(code: SandboxErrorCode, options: SandboxErrorOptions = {}) {
    const spec: ErrorSpec = SANDBOX_ERRORS[code];
    const description = options.description ?? spec.description;
    super(description, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = spec.status;
    this.description = description;
    this.parameters = options.parameters;
  }

  /** The Bot API body Telegram would send for this error. */
  toBotApiBody(): BotApiErrorBody {
    return {
      ok: false,
      error_code: this.status,
      description: this.description,
      ...(this.parameters === undefined ? {} : { parameters: this.parameters }),
    };
  }

  /** The control API body: the Bot API fields plus our stable code. */
  toControlBody(): BotApiErrorBody & { code: SandboxErrorCode } {
    return { ...this.toBotApiBody(), code: this.code };
  }

  static isSandboxError(value: unknown): value is SandboxError {
    return value instanceof SandboxError;
  }
}

export interface BotApiErrorBody {
  ok: false;
  error_code: number;
  description: string;
  parameters?: ResponseParameters;
}

/** Shorthand for `new SandboxError(...)`, for `throw sandboxError('CHAT_NOT_FOUND')`. */
export function sandboxError(code: SandboxErrorCode, options?: SandboxErrorOptions): SandboxError {
  return new SandboxError(code, options);
}
