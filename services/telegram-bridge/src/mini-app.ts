import { createHmac, timingSafeEqual } from 'node:crypto';
import { topics, type SignalSubscription } from '@topicdesk/bus';
import type { MiniAppVerifyRequest } from '@topicdesk/contracts';
import { DEFAULT_TENANT_ID } from '@topicdesk/core';
import type { BridgeParts } from './wiring';

/** Why `initData` signs no one in; the codes cross the bus and become the gateway's. */
export const MiniAppRefusal = {
  invalid: 'MINI_APP_DATA_INVALID',
  expired: 'MINI_APP_DATA_EXPIRED',
} as const;
export type MiniAppRefusal = (typeof MiniAppRefusal)[keyof typeof MiniAppRefusal];

export type MiniAppVerdict =
  | { ok: true; telegramUserId: number; authDate: number; hash: string }
  | { ok: false; code: MiniAppRefusal; message: string };

/** Telegram's own limit on a Mini App's start data is far below; this bounds the work. */
const INIT_DATA_MAX = 4096;
/** A clock a little ahead of Telegram's must not refuse fresh data. */
const CLOCK_SKEW_S = 60;

const refuse = (code: MiniAppRefusal, message: string): MiniAppVerdict => ({
  ok: false,
  code,
  message,
});

/**
 * Checks a Mini App's `initData` as Telegram documents it: the data-check string is every
 * field but `hash`, sorted by key, `key=value` joined by newlines; the secret is
 * HMAC-SHA256("WebAppData", bot token); the data is genuine when HMAC-SHA256(secret, string)
 * in hex equals `hash`. Then `auth_date` must be at most `maxAgeMs` old and `user` must name a
 * user. Compared in constant time.
 */
export function verifyInitData(
  initData: string,
  botToken: string,
  maxAgeMs: number,
  now = Date.now(),
): MiniAppVerdict {
  if (initData.length === 0 || initData.length > INIT_DATA_MAX)
    return refuse(MiniAppRefusal.invalid, 'no Mini App data, or too much');
  const fields = new URLSearchParams(initData);
  const hash = fields.get('hash');
  if (!hash || !/^[0-9a-f]{64}$/.test(hash))
    return refuse(MiniAppRefusal.invalid, 'the Mini App data carries no signature');
  const keys = [...fields.keys()];
  if (new Set(keys).size !== keys.length)
    return refuse(MiniAppRefusal.invalid, 'a field of the Mini App data appears twice');
  const checkString = [...fields]
    .filter(([key]) => key !== 'hash')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join('\n');
  const secret = createHmac('sha256', 'WebAppData').update(botToken).digest();
  const expected = createHmac('sha256', secret).update(checkString).digest();
  if (!timingSafeEqual(expected, Buffer.from(hash, 'hex')))
    return refuse(MiniAppRefusal.invalid, 'the Mini App data is not signed by this bot');
  const authDate = Number(fields.get('auth_date'));
  if (!Number.isSafeInteger(authDate) || authDate <= 0)
    return refuse(MiniAppRefusal.invalid, 'the Mini App data has no auth_date');
  const age = now / 1000 - authDate;
  if (age > maxAgeMs / 1000 || age < -CLOCK_SKEW_S)
    return refuse(
      MiniAppRefusal.expired,
      'the Mini App data is too old; close the console and open it from the bot again',
    );
  let userId: unknown;
  try {
    userId = (JSON.parse(fields.get('user') ?? 'null') as { id?: unknown } | null)?.id;
  } catch {
    userId = undefined;
  }
  if (typeof userId !== 'number' || !Number.isSafeInteger(userId) || userId <= 0)
    return refuse(MiniAppRefusal.invalid, 'the Mini App data names no user');
  return { ok: true, telegramUserId: userId, authDate, hash };
}

/**
 * Answers the gateways' Mini App checks: the bridges share them as a queue group; the main bot
 * of the request's tenant is the one Telegram signs its console's Mini App data with (a tenant
 * the bridge cannot serve has no bot to check against: refused as invalid). Data older than a
 * sign-in link's lifetime (CONSOLE_LINK_TTL) is refused as a stale link would be.
 */
export function answerMiniAppRequests(parts: BridgeParts): SignalSubscription {
  const { bus, config, logger, bridges } = parts;
  const answer = async (request: MiniAppVerifyRequest) => {
    const tenantId = request.tenantId || DEFAULT_TENANT_ID;
    const bridge = await bridges.get(tenantId).catch((error: unknown) => {
      logger.info({ err: error, tenantId }, 'mini app data of a tenant without a bot');
      return undefined;
    });
    const verdict = bridge
      ? verifyInitData(request.initData, bridge.telegram.botToken, config.CONSOLE_LINK_TTL)
      : refuse(MiniAppRefusal.invalid, 'this site has no bot to sign in with');
    if (verdict.ok) {
      bus.signal(topics.miniAppVerifyReply, {
        requestId: request.requestId,
        telegramUserId: BigInt(verdict.telegramUserId),
        authDate: BigInt(verdict.authDate),
        dataHash: verdict.hash,
        validUntil: BigInt(verdict.authDate + Math.ceil(config.CONSOLE_LINK_TTL / 1000)),
      });
      return;
    }
    logger.info({ code: verdict.code, tenantId }, 'mini app data refused');
    bus.signal(topics.miniAppVerifyReply, {
      requestId: request.requestId,
      error: { code: verdict.code, message: verdict.message },
    });
  };
  return bus.onSignal(topics.miniAppVerifyRequest, answer, { queue: 'bridge-mini-app' });
}
