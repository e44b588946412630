import { createHmac } from 'node:crypto';

/**
 * The `X-Telegram-Bot-Api-Secret-Token` a tenant's bot sends with its webhook deliveries,
 * derived from the tenant's `webhook_secret` (HMAC-SHA256 with the secret as key over
 * `telegram header`, base64url, first 32 characters): nothing more to store or rotate, and
 * changing the webhook secret changes both. 32 characters of `A-Z a-z 0-9 _ -`, as Telegram
 * accepts for `secret_token`.
 */
export function telegramHeaderSecret(webhookSecret: string): string {
  return createHmac('sha256', webhookSecret)
    .update('telegram header')
    .digest('base64url')
    .slice(0, 32);
}
