/**
 * The public error codes of the visitor API (docs/contract.md). Clients branch on `code`, never on
 * the message. Documented in docs/errors.md.
 */
export const ErrorCode = {
  INVALID_JSON: 'INVALID_JSON',
  INVALID_REQUEST: 'INVALID_REQUEST',
  MESSAGE_TOO_LONG: 'MESSAGE_TOO_LONG',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  TOKEN_MISSING: 'TOKEN_MISSING',
  TOKEN_INVALID: 'TOKEN_INVALID',
  TOKEN_EXPIRED: 'TOKEN_EXPIRED',
  TOKEN_RETIRED: 'TOKEN_RETIRED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  CONVERSATION_CLOSED: 'CONVERSATION_CLOSED',
  /** A rating of a conversation that is still open (ratings come after the close). */
  CONVERSATION_OPEN: 'CONVERSATION_OPEN',
  /** The conversation was rated already: once per conversation. */
  ALREADY_RATED: 'ALREADY_RATED',
  RATE_LIMITED: 'RATE_LIMITED',
  /** The address started its `LIMIT_CONVERSATIONS_PER_DAY` conversations: no retry helps today. */
  CONVERSATION_LIMIT: 'CONVERSATION_LIMIT',
  UNAVAILABLE: 'UNAVAILABLE',
  INTERNAL: 'INTERNAL',
  // Attachments (issue 17): why a file was refused, the same codes as @topicdesk/storage's.
  ATTACHMENT_TOO_LARGE: 'ATTACHMENT_TOO_LARGE',
  ATTACHMENT_TOTAL_EXCEEDED: 'ATTACHMENT_TOTAL_EXCEEDED',
  ATTACHMENT_TYPE_NOT_ALLOWED: 'ATTACHMENT_TYPE_NOT_ALLOWED',
  ATTACHMENT_INVALID: 'ATTACHMENT_INVALID',
  ATTACHMENT_INFECTED: 'ATTACHMENT_INFECTED',
  ATTACHMENT_SCAN_UNAVAILABLE: 'ATTACHMENT_SCAN_UNAVAILABLE',
  ATTACHMENT_URL_EXPIRED: 'ATTACHMENT_URL_EXPIRED',
  ATTACHMENT_NOT_FOUND: 'ATTACHMENT_NOT_FOUND',
  // Console access (issue 15).
  /** Signed in, but the role may not do this (the access table, docs/console.md); audited. */
  FORBIDDEN_ROLE: 'FORBIDDEN_ROLE',
  /** A cookie-authenticated change without the session's X-CSRF-Token or from another Origin. */
  CSRF_FAILED: 'CSRF_FAILED',
  /** The session cookie names no live session (signed out, revoked, expired or idle). */
  SESSION_INVALID: 'SESSION_INVALID',
  SIGN_IN_LINK_INVALID: 'SIGN_IN_LINK_INVALID',
  SIGN_IN_LINK_EXPIRED: 'SIGN_IN_LINK_EXPIRED',
  SIGN_IN_LINK_USED: 'SIGN_IN_LINK_USED',
  /** A list's `cursor` is not one that list handed out (a page cursor is opaque: pass it back as is). */
  INVALID_CURSOR: 'INVALID_CURSOR',
  // Data-subject requests and setup (issue 15).
  /** The conversation's data was erased: its token is refused, an export answers its tombstone. */
  CONVERSATION_ERASED: 'CONVERSATION_ERASED',
  /** The setup checks need the bridge (it holds the bot tokens) and it did not answer in time. */
  SETUP_BRIDGE_UNAVAILABLE: 'SETUP_BRIDGE_UNAVAILABLE',
  /** setWebhook could not be done: TELEGRAM_WEBHOOK_URL unset (polling mode) or Telegram refused. */
  SETUP_WEBHOOK_FAILED: 'SETUP_WEBHOOK_FAILED',
  // Bot channels (issue 19).
  /** TELEGRAM_USER_KEY is not set on the gateway: bot channels cannot seal tokens or users. */
  BOT_CHANNELS_DISABLED: 'BOT_CHANNELS_DISABLED',
  /** Not a bot token (`<bot id>:<secret>` as BotFather gives it). */
  BOT_TOKEN_INVALID: 'BOT_TOKEN_INVALID',
  /** The tenant has a channel of this bot already (delete it first to register it again). */
  BOT_CHANNEL_EXISTS: 'BOT_CHANNEL_EXISTS',
  /** The Bearer of a plugin call is no live channel's secret. */
  CHANNEL_SECRET_INVALID: 'CHANNEL_SECRET_INVALID',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const STATUS: Record<ErrorCode, number> = {
  INVALID_JSON: 400,
  INVALID_REQUEST: 400,
  MESSAGE_TOO_LONG: 400,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  TOKEN_MISSING: 401,
  TOKEN_INVALID: 401,
  TOKEN_EXPIRED: 401,
  TOKEN_RETIRED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONVERSATION_CLOSED: 409,
  CONVERSATION_OPEN: 409,
  ALREADY_RATED: 409,
  RATE_LIMITED: 429,
  CONVERSATION_LIMIT: 429,
  UNAVAILABLE: 503,
  INTERNAL: 500,
  ATTACHMENT_TOO_LARGE: 413,
  ATTACHMENT_TOTAL_EXCEEDED: 413,
  ATTACHMENT_TYPE_NOT_ALLOWED: 415,
  ATTACHMENT_INVALID: 422,
  ATTACHMENT_INFECTED: 422,
  ATTACHMENT_SCAN_UNAVAILABLE: 503,
  ATTACHMENT_URL_EXPIRED: 403,
  ATTACHMENT_NOT_FOUND: 404,
  FORBIDDEN_ROLE: 403,
  CSRF_FAILED: 403,
  SESSION_INVALID: 401,
  SIGN_IN_LINK_INVALID: 400,
  SIGN_IN_LINK_EXPIRED: 410,
  SIGN_IN_LINK_USED: 409,
  INVALID_CURSOR: 400,
  CONVERSATION_ERASED: 410,
  SETUP_BRIDGE_UNAVAILABLE: 503,
  SETUP_WEBHOOK_FAILED: 409,
  BOT_CHANNELS_DISABLED: 503,
  BOT_TOKEN_INVALID: 400,
  BOT_CHANNEL_EXISTS: 409,
  CHANNEL_SECRET_INVALID: 401,
};

/** An error the gateway answers with as it is: stable code, HTTP status, safe message. */
export class GatewayError extends Error {
  override readonly name = 'GatewayError';
  readonly statusCode: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.statusCode = STATUS[code];
  }

  toJSON() {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details ? { details: this.details } : {}),
      },
    };
  }
}
