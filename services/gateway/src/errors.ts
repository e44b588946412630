import { AttachmentError, ConversationClosedError, InvalidCursorError } from '@topicdesk/core';
import type { FastifyError } from 'fastify';

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
  /** The Mini App's initData is not signed by the bot, names no user, or is malformed. */
  MINI_APP_DATA_INVALID: 'MINI_APP_DATA_INVALID',
  /** The Mini App's initData is older than a sign-in link's lifetime (CONSOLE_LINK_TTL). */
  MINI_APP_DATA_EXPIRED: 'MINI_APP_DATA_EXPIRED',
  /** The same initData signed someone in already (a replay). */
  MINI_APP_DATA_USED: 'MINI_APP_DATA_USED',
  /** The Telegram user who opened the Mini App is not an active agent. */
  MINI_APP_NOT_AGENT: 'MINI_APP_NOT_AGENT',
  /** The bridge (it holds the bot token initData is checked with) did not answer in time. */
  MINI_APP_UNAVAILABLE: 'MINI_APP_UNAVAILABLE',
  /** A list's `cursor` is not one that list handed out (a page cursor is opaque: pass it back as is). */
  INVALID_CURSOR: 'INVALID_CURSOR',
  // Data-subject requests and setup (issue 15).
  /** The conversation's data was erased: its token is refused, an export answers its tombstone. */
  CONVERSATION_ERASED: 'CONVERSATION_ERASED',
  /** The setup checks need the bridge (it holds the bot tokens) and it did not answer in time. */
  SETUP_BRIDGE_UNAVAILABLE: 'SETUP_BRIDGE_UNAVAILABLE',
  /** setWebhook could not be done: TELEGRAM_WEBHOOK_URL unset (polling mode) or Telegram refused. */
  SETUP_WEBHOOK_FAILED: 'SETUP_WEBHOOK_FAILED',
  // Tenants (issue 16).
  /** The conversation's tenant (site) is suspended or deleted: nothing of it is served. */
  TENANT_INACTIVE: 'TENANT_INACTIVE',
  /** The `siteKey` of a new conversation is no tenant's (a typo in the snippet, or a deleted site). */
  SITE_KEY_UNKNOWN: 'SITE_KEY_UNKNOWN',
  /** The tenant lacks what serving a visitor needs (its bundle has no `jwtSecret`). */
  TENANT_NOT_CONFIGURED: 'TENANT_NOT_CONFIGURED',
  /** The page's Origin is not among the tenant's `allowedOrigins`. */
  ORIGIN_NOT_ALLOWED: 'ORIGIN_NOT_ALLOWED',
  /** The tenant's plan limit is reached (`details.limit` names which); every visitor of it waits. */
  TENANT_QUOTA_EXCEEDED: 'TENANT_QUOTA_EXCEEDED',
  /** PLATFORM_TOKEN is not set: the platform API does not exist on this deployment. */
  PLATFORM_DISABLED: 'PLATFORM_DISABLED',
  /** A tenant of that id exists already (deleted tenants keep their id). */
  TENANT_EXISTS: 'TENANT_EXISTS',
  /** The tenant was deleted: it is kept for its data and never changed again. */
  TENANT_DELETED: 'TENANT_DELETED',
  /** The default tenant cannot be deleted. */
  TENANT_PROTECTED: 'TENANT_PROTECTED',
  /** TENANT_KEK is not set on this replica: tenants' secrets can be neither read nor written. */
  TENANT_KEK_MISSING: 'TENANT_KEK_MISSING',
  /** The tenant's data key is wrapped by a KEK this replica does not have (TENANT_KEKS_PREVIOUS). */
  TENANT_KEK_UNKNOWN: 'TENANT_KEK_UNKNOWN',
  /** The tenant's stored secrets do not authenticate (changed, or of another tenant). */
  TENANT_SECRETS_CORRUPT: 'TENANT_SECRETS_CORRUPT',
  /**
   * Only with CHECK_RESPONSE_SCHEMAS (tests): the route's answer is not what its /openapi.json
   * schema says; the details name the fields. A bug of the gateway, never of the caller.
   */
  RESPONSE_SCHEMA_MISMATCH: 'RESPONSE_SCHEMA_MISMATCH',
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
  MINI_APP_DATA_INVALID: 400,
  MINI_APP_DATA_EXPIRED: 410,
  MINI_APP_DATA_USED: 409,
  MINI_APP_NOT_AGENT: 403,
  MINI_APP_UNAVAILABLE: 503,
  INVALID_CURSOR: 400,
  CONVERSATION_ERASED: 410,
  SETUP_BRIDGE_UNAVAILABLE: 503,
  SETUP_WEBHOOK_FAILED: 409,
  TENANT_INACTIVE: 403,
  SITE_KEY_UNKNOWN: 404,
  TENANT_NOT_CONFIGURED: 503,
  ORIGIN_NOT_ALLOWED: 403,
  TENANT_QUOTA_EXCEEDED: 429,
  PLATFORM_DISABLED: 404,
  TENANT_EXISTS: 409,
  TENANT_DELETED: 409,
  TENANT_PROTECTED: 409,
  TENANT_KEK_MISSING: 503,
  TENANT_KEK_UNKNOWN: 503,
  TENANT_SECRETS_CORRUPT: 500,
  RESPONSE_SCHEMA_MISMATCH: 500,
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

export const REST_BODY_LIMIT = 16 * 1024;

/** Maps fastify's own errors (body parsing, limits) onto the public codes. */
export function toGatewayError(error: FastifyError): GatewayError {
  if (error instanceof GatewayError) return error;
  if (AttachmentError.is(error)) return new GatewayError(error.code, error.message);
  if (error instanceof InvalidCursorError)
    return new GatewayError(ErrorCode.INVALID_CURSOR, error.message);
  if (error instanceof ConversationClosedError)
    return new GatewayError(ErrorCode.CONVERSATION_CLOSED, 'the conversation is closed');
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new GatewayError(ErrorCode.INVALID_JSON, 'the body is not valid JSON');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new GatewayError(
        ErrorCode.PAYLOAD_TOO_LARGE,
        `bodies are limited to ${REST_BODY_LIMIT} bytes`,
      );
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new GatewayError(
        ErrorCode.INVALID_REQUEST,
        'the Content-Length does not match the body',
      );
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new GatewayError(ErrorCode.UNSUPPORTED_MEDIA_TYPE, 'send application/json');
    default:
      if (error instanceof SyntaxError)
        return new GatewayError(ErrorCode.INVALID_JSON, 'the body is not valid JSON');
      if (error.statusCode === 413)
        return new GatewayError(ErrorCode.PAYLOAD_TOO_LARGE, 'the request is too large');
      if (error.statusCode === 415)
        return new GatewayError(ErrorCode.UNSUPPORTED_MEDIA_TYPE, 'send application/json');
      if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
        return new GatewayError(ErrorCode.INVALID_REQUEST, error.message);
      }
      return new GatewayError(
        ErrorCode.UNAVAILABLE,
        'the service could not handle the request; try again',
      );
  }
}
