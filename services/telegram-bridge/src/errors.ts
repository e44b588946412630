/** Stable codes of the bridge's errors; `failed` receipts carry them to the visitor. */
export const BridgeErrorCode = {
  BRIDGE_TELEGRAM_REJECTED: 'BRIDGE_TELEGRAM_REJECTED',
  BRIDGE_TELEGRAM_UNAVAILABLE: 'BRIDGE_TELEGRAM_UNAVAILABLE',
  BRIDGE_TOPIC_CLOSED: 'BRIDGE_TOPIC_CLOSED',
  BRIDGE_TOPIC_MISSING: 'BRIDGE_TOPIC_MISSING',
  BRIDGE_SYNC_BUSY: 'BRIDGE_SYNC_BUSY',
  BRIDGE_WEBHOOK_UNAUTHORIZED: 'BRIDGE_WEBHOOK_UNAUTHORIZED',
  BRIDGE_INVALID_UPDATE: 'BRIDGE_INVALID_UPDATE',
  /** A file posted in Telegram could not be downloaded (getFile or the download failed for good). */
  BRIDGE_FILE_UNAVAILABLE: 'BRIDGE_FILE_UNAVAILABLE',
  /** A tenant's conversation or update, but its secrets bundle has no bot token or support group. */
  TENANT_BOT_MISSING: 'TENANT_BOT_MISSING',
  /** A tenant's conversation or update, but the tenant is unknown, suspended or deleted. */
  TENANT_INACTIVE: 'TENANT_INACTIVE',
  /** A tenant's update sealed under a user key it no longer has (its telegramUserKey changed). */
  TENANT_USER_KEY_UNKNOWN: 'TENANT_USER_KEY_UNKNOWN',
} as const;
export type BridgeErrorCode = (typeof BridgeErrorCode)[keyof typeof BridgeErrorCode];

export class BridgeError extends Error {
  override readonly name = 'BridgeError';
  constructor(
    readonly code: BridgeErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
