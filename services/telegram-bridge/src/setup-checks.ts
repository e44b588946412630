import { topics, type SignalSubscription } from '@topicdesk/bus';
import { SetupAction, type SetupCheck, type SetupRequest } from '@topicdesk/contracts';
import { GrammyError } from 'grammy';
import { DEFAULT_TENANT_ID, type ServedGroups } from '@topicdesk/core';
import type { BotPool, PoolBot } from './sender/bot-pool';
import type { BridgeParts } from './wiring';

/** What the checks look at for one tenant: its bots, its groups, the webhook it should have. */
export interface SetupSubject {
  pool: BotPool;
  groups: ServedGroups;
  /** Its default group (SUPPORT_GROUP_ID, or the first of a tenant's `supportGroups`). */
  groupId: number;
  /** The webhook URL its bots should have (webhook mode); unset: registered by someone else. */
  webhookUrl: string | undefined;
  /** Sets its bots' webhook to `webhookUrl` (the Setup page's button). */
  registerWebhook: (url: string) => Promise<void>;
}

type Check = Pick<SetupCheck, 'id' | 'ok' | 'detail' | 'fix'>;

const pass = (id: string, detail: string): Check => ({ id, ok: true, detail, fix: '' });
const fail = (id: string, detail: string, fix: string): Check => ({ id, ok: false, detail, fix });

/** Telegram's words for a refused call; anything else (network) as its message. */
function described(error: unknown): string {
  if (error instanceof GrammyError) return `${error.error_code} ${error.description}`;
  return error instanceof Error ? error.message : String(error);
}

const ADMIN_FIX =
  "make the bot an admin of the group with 'Manage topics' (and 'Delete messages' to delete topics, 'Pin messages' for headers)";

/** The bot itself: its token works (getMe). */
async function botCheck(bot: PoolBot): Promise<Check> {
  const id = bot.main ? 'bot.token' : `pool.${bot.id}.token`;
  const variable = bot.main ? 'BOT_TOKEN' : 'TELEGRAM_SENDER_BOT_TOKENS';
  try {
    const me = await bot.api.getMe();
    return pass(id, `@${me.username} (${me.id})`);
  } catch (error) {
    return fail(
      id,
      `getMe failed: ${described(error)}`,
      `check ${variable}: copy the token again from @BotFather`,
    );
  }
}

/** A support group: it is a forum supergroup (getChat). */
async function forumCheck(bot: PoolBot, chatId: number): Promise<Check> {
  const id = `group.${chatId}.forum`;
  try {
    const chat = await bot.api.getChat(chatId);
    if (chat.type === 'supergroup' && chat.is_forum === true)
      return pass(id, `"${chat.title}" is a forum supergroup`);
    return fail(
      id,
      `"${'title' in chat ? chat.title : chatId}" is a ${chat.type} without topics`,
      "turn on Topics in the group's settings (this makes it a forum supergroup)",
    );
  } catch (error) {
    return fail(
      id,
      `getChat failed: ${described(error)}`,
      'add the bot to the group and check its id (SUPPORT_GROUP_ID or the registered group: -100…)',
    );
  }
}

/** A bot's rights in a support group (getChatMember): an admin that may manage topics. */
async function adminCheck(main: PoolBot, bot: PoolBot, chatId: number): Promise<Check> {
  const id = bot.main ? `group.${chatId}.bot_admin` : `pool.${bot.id}.${chatId}`;
  try {
    const member = await main.api.getChatMember(chatId, Number(bot.id));
    if (member.status === 'creator') return pass(id, 'the bot owns the group');
    if (member.status === 'administrator') {
      const missing = [
        member.can_manage_topics === true ? undefined : 'Manage topics',
        member.can_delete_messages ? undefined : 'Delete messages',
        member.can_pin_messages === true ? undefined : 'Pin messages',
      ].filter((right): right is string => right !== undefined);
      if (member.can_manage_topics !== true)
        return fail(id, `an admin without: ${missing.join(', ')}`, ADMIN_FIX);
      return pass(
        id,
        missing.length === 0
          ? 'an admin with every right needed'
          : `an admin; without ${missing.join(', ')}`,
      );
    }
    return fail(id, `the bot is ${member.status} in the group, not an admin`, ADMIN_FIX);
  } catch (error) {
    return fail(id, `getChatMember failed: ${described(error)}`, ADMIN_FIX);
  }
}

/** The webhook as Telegram has it, against the expected URL (webhook mode) or none (polling). */
async function webhookCheck(subject: SetupSubject, mode: 'webhook' | 'polling'): Promise<Check> {
  const expected = subject.webhookUrl;
  try {
    const info = await subject.pool.main.api.getWebhookInfo();
    const lastError = info.last_error_message
      ? `; last delivery error: ${info.last_error_message}`
      : '';
    if (mode === 'polling')
      return info.url === ''
        ? pass('webhook', 'long polling: no webhook set (none is needed)')
        : fail(
            'webhook',
            'a webhook is set, but the bridge polls: Telegram answers its getUpdates with 409',
            'set TELEGRAM_WEBHOOK_URL to that URL, or delete the webhook (deleteWebhook)',
          );
    if (info.url === expected)
      return info.last_error_message
        ? fail(
            'webhook',
            `set to TELEGRAM_WEBHOOK_URL${lastError}`,
            'make the URL reachable from Telegram (https on 443, 80, 88 or 8443)',
          )
        : pass(
            'webhook',
            `set to TELEGRAM_WEBHOOK_URL, ${info.pending_update_count} updates pending`,
          );
    return fail(
      'webhook',
      info.url ? 'the webhook points elsewhere than TELEGRAM_WEBHOOK_URL' : 'no webhook is set',
      'set it: POST /v1/admin/setup/webhook (the Setup page’s button)',
    );
  } catch (error) {
    return fail('webhook', `getWebhookInfo failed: ${described(error)}`, 'check BOT_TOKEN');
  }
}

/** Whether the tenant is served (this replica's cache: a platform API change reaches it at once). */
async function tenantCheck(parts: BridgeParts, tenantId: string): Promise<Check> {
  const tenant = await parts.tenants.get(tenantId);
  if (!tenant)
    return fail('tenant', `no tenant "${tenantId}"`, 'create it through the platform API');
  return tenant.status === 'active'
    ? pass('tenant', `${tenant.name} (active)`)
    : fail(
        'tenant',
        `${tenant.name} is ${tenant.status}: visitors get TENANT_INACTIVE`,
        tenant.status === 'suspended'
          ? `resume it: POST /v1/platform/tenants/${tenantId}/resume`
          : 'a deleted tenant stays deleted',
      );
}

/** Every check, the Telegram calls of each group made one after the other (few and rare). */
export async function setupChecks(
  parts: BridgeParts,
  subject: SetupSubject | undefined,
  mode: 'webhook' | 'polling',
  tenantId: string = DEFAULT_TENANT_ID,
): Promise<Check[]> {
  const checks: Check[] = [await tenantCheck(parts, tenantId)];
  if (!subject) {
    checks.push(
      fail(
        'bot.token',
        'the bridge serves no bot for this tenant',
        `set botToken and supportGroups in its secrets: PATCH /v1/platform/tenants/${tenantId}`,
      ),
    );
    return checks;
  }
  const { pool, groups } = subject;
  for (const bot of pool.bots) checks.push(await botCheck(bot));
  if (!checks[1]?.ok) return checks; // without a working main bot nothing else can be asked
  const chats = [...new Set([subject.groupId, ...(await groups.all())])];
  for (const chatId of chats) {
    checks.push(await forumCheck(pool.main, chatId));
    for (const bot of pool.bots) checks.push(await adminCheck(pool.main, bot, chatId));
  }
  checks.push(await webhookCheck(subject, mode));
  return checks;
}

export interface SetupResponderOptions {
  mode: 'webhook' | 'polling';
  /** The tenant's bots and groups as this replica serves them; undefined: none (no bot). */
  subjectOf: (tenantId: string) => Promise<SetupSubject | undefined>;
}

/**
 * Answers the gateway's setup requests (the console's Setup page): the bridges share them as a
 * queue group, one of them asks Telegram and signals the reply back. A failure is an answer
 * too (a failed check, or `error` for a refused setWebhook), never a silent drop.
 */
export function answerSetupRequests(
  parts: BridgeParts,
  options: SetupResponderOptions,
): SignalSubscription {
  const { bus, logger } = parts;
  const answer = async (request: SetupRequest) => {
    const tenantId = request.tenantId || DEFAULT_TENANT_ID;
    let error: { code: string; message: string } | undefined;
    const subject = await options.subjectOf(tenantId).catch((failed: unknown) => {
      logger.info({ err: failed, tenantId }, 'no bot served for the setup checks');
      return undefined;
    });
    if (request.action === SetupAction.SET_WEBHOOK) {
      const url = subject?.webhookUrl;
      if (!subject || !url)
        error = {
          code: 'SETUP_WEBHOOK_UNSET',
          message: 'TELEGRAM_WEBHOOK_URL is unset: the bridge polls, no webhook to set',
        };
      else
        await subject.registerWebhook(url).catch((refused: unknown) => {
          error = { code: 'SETUP_WEBHOOK_REFUSED', message: `setWebhook: ${described(refused)}` };
        });
    }
    const checks = await setupChecks(parts, subject, options.mode, tenantId).catch(
      (failed: unknown) => {
        // Postgres away (the groups): said as a failing check rather than a timeout.
        logger.warn({ err: failed }, 'setup checks failed');
        return [fail('bridge', `the checks failed: ${described(failed)}`, 'see the bridge log')];
      },
    );
    bus.signal(topics.setupReply, { requestId: request.requestId, checks, error });
    logger.info(
      { action: request.action, failing: checks.filter((c) => !c.ok).map((c) => c.id) },
      'setup checks answered',
    );
  };
  return bus.onSignal(topics.setupRequest, answer, { queue: 'bridge-setup' });
}
