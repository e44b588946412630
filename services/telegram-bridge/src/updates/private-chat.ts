import { randomUUID } from 'node:crypto';
import { ConversationService, renderTemplate, UnitOfWork, type OutboxRelay } from '@topicdesk/core';
import {
  appendMessage,
  AuditRepository,
  ConversationChannel,
  ConversationRepository,
  DeliveryState,
  MessageKind,
  OutboxRepository,
  TelegramConversationRepository,
  TelegramPostRepository,
  TelegramUpdateRepository,
  TelegramUserRepository,
  TemplateRepository,
  type Conversation,
  type DB,
  type Kysely,
  type Message as StoredMessage,
  type OutboxInput,
  type TelegramUser,
} from '@topicdesk/data';
import type { Coordination } from '@topicdesk/fanout';
import type { Logger } from '@topicdesk/telemetry';
import { GrammyError, type Api } from 'grammy';
import { SendPriority, type TelegramSender } from '../sender/telegram-sender';
import type { CallbackQuery, InlineKeyboardMarkup, Message, Update } from 'grammy/types';
import { classifyTelegramError } from '../sender/telegram-api';
import { splitUtf16, TELEGRAM_TEXT_LIMIT, type SyncContext } from '../sync/topic-sync';
import { UserKeyError, type UserKeyring } from '../user-crypto';

// The second visitor channel: a Telegram user writes to the bot in a private chat and gets a
// conversation like a widget visitor — a ticket, a topic for the agents, the same seq, history,
// templates, commands and scheduler jobs. The user stays anonymous: their Telegram id exists in
// clear only in this process's memory while an update is handled or a message is sent (see
// user-crypto.ts); agents see the ticket only; the user sees agents by display name.
//
// Updates come from the UpdateProcessor (the ordered consumer): each is applied in one
// transaction with its update_id. Agent and system messages reach the user through the
// conversation's sync (TopicSync.reconcile calls `deliver`), under Telegram's budgets, in seq
// order, once: `telegram_conversations.delivered_seq` is the cursor.

const TENANT = 'default';
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** Direct answers (help, refusals, "text only") per user per minute; a flood gets silence. */
const ANSWERS_PER_MINUTE = 10;
/** How long a direct answer may wait for budget inside the ordered update consumer. */
const ANSWER_WAIT_MS = 10_000;

/** A direct answer waits for budget a little, never long: the update consumer is ordered. */
function answerContext(): SyncContext {
  return { signal: AbortSignal.timeout(ANSWER_WAIT_MS), working: () => undefined };
}
const UNKNOWN_AGENT_NAME = 'Support';

export interface PrivateChatOptions {
  db: Kysely<DB>;
  /** Every call toward users goes through the bridge's one sender (main bot: users started it). */
  sender: TelegramSender;
  relay: OutboxRelay;
  coordination: Coordination;
  keyring: UserKeyring;
  logger: Logger;
  botId: string;
  limits: { conversationsPerDay: number; messagesPerHour: number };
}

export type PrivateChatOutcome =
  'stored' | 'command' | 'refused' | 'duplicate' | `ignored:${string}`;

/** Whether an update comes from a private chat with the bot (a user, not the support group). */
export function isPrivateChatUpdate(update: Update): boolean {
  const chat =
    update.message?.chat ?? update.edited_message?.chat ?? update.callback_query?.message?.chat;
  return chat?.type === 'private';
}

export const PrivateCommand = {
  start: 'start',
  support: 'support',
  end: 'end',
  help: 'help',
  unknown: 'unknown',
} as const;
export type PrivateCommand = (typeof PrivateCommand)[keyof typeof PrivateCommand];

/** Parses `/name@bot args` of the private chat; undefined when the text is not a command. */
export function parsePrivateCommand(
  text: string,
): { name: PrivateCommand; args: string } | undefined {
  const trimmed = text.trim();
  if (!trimmed.startsWith('/')) return undefined;
  const match = /^\/([A-Za-z0-9_]+)(?:@[A-Za-z0-9_]+)?(?:\s+([\s\S]*))?$/.exec(trimmed);
  const name = match?.[1]?.toLowerCase();
  const known = name !== undefined && name !== 'unknown' && name in PrivateCommand;
  return {
    name: known ? (name as PrivateCommand) : PrivateCommand.unknown,
    args: (match?.[2] ?? '').trim(),
  };
}

/** Buttons of the private chat: `td:pc:support`, `td:pc:end:<id>`, `td:pc:rate:<id>:<1-5>`. */
export type PrivateButton =
  | { action: 'support' }
  | { action: 'end'; conversationId: string }
  | { action: 'rate'; conversationId: string; rating: number };

export function privateCallbackData(button: PrivateButton): string {
  switch (button.action) {
    case 'support':
      return 'td:pc:support';
    case 'end':
      return `td:pc:end:${button.conversationId}`;
    case 'rate':
      return `td:pc:rate:${button.conversationId}:${button.rating}`;
    default: {
      const never: never = button;
      throw new Error(`unknown button ${JSON.stringify(never)}`);
    }
  }
}

export function parsePrivateCallbackData(data: string | undefined): PrivateButton | undefined {
  if (data === 'td:pc:support') return { action: 'support' };
  const end = data ? /^td:pc:end:([0-9a-f-]{36})$/.exec(data) : null;
  if (end) return { action: 'end', conversationId: end[1] as string };
  const rate = data ? /^td:pc:rate:([0-9a-f-]{36}):([1-5])$/.exec(data) : null;
  if (rate) return { action: 'rate', conversationId: rate[1] as string, rating: Number(rate[2]) };
  return undefined;
}

/** An agent's message as the user sees it: signed with the agent's display name. */
export function signed(message: Pick<StoredMessage, 'kind' | 'author_name' | 'text'>): string {
  if (message.kind !== MessageKind.agent) return message.text;
  return `${message.author_name ?? UNKNOWN_AGENT_NAME}: ${message.text}`;
}

/** Telegram's language_code, if it looks like one (it only picks templates). */
export function normalizeLanguage(code: string | undefined): string | null {
  if (!code || code.length > 16 || !/^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$/.test(code)) return null;
  return code.toLowerCase();
}

/** What a Bot API failure toward a private chat means: some are final for that chat. */
export type PrivateFailure =
  ReturnType<typeof classifyTelegramError> | { kind: 'unreachable'; description: string };

export function classifyPrivateFailure(error: unknown): PrivateFailure {
  // The user blocked the bot, deleted their account, or never wrote to it: no retry helps.
  if (
    error instanceof GrammyError &&
    (error.error_code === 403 ||
      /chat not found|user is deactivated|PEER_ID_INVALID|bot can't initiate/i.test(
        error.description,
      ))
  ) {
    return { kind: 'unreachable', description: error.description };
  }
  return classifyTelegramError(error);
}

/** After any close, the user is asked once for a rating. */
function ratingPromptDue(conversation: Conversation, promptedAt: Date | null): boolean {
  return (
    conversation.status === 'closed' &&
    conversation.closed_at !== null &&
    (promptedAt === null || promptedAt < conversation.closed_at)
  );
}

/** For logs: what failed, never the call's payload (GrammyError carries the chat id). */
function describe(failure: PrivateFailure): string {
  return 'description' in failure ? `${failure.kind}: ${failure.description}` : failure.kind;
}

/** Texts the bridge falls back to when an admin deleted a template. */
const FALLBACK: Record<string, string> = {
  'telegram.start': 'Hello! Press “Live support” to talk to a person from our team.',
  'telegram.help': '/support — talk to a person\n/end — end the conversation',
  'telegram.welcome': 'You are connected to support. Your ticket: {ticket}.',
  'telegram.already_open': 'You are already connected to support (ticket {ticket}).',
  'telegram.no_conversation': 'You have no open conversation. Send /support to start one.',
  'telegram.text_only': 'Sorry, only text messages reach our team for now; nothing was sent.',
  'telegram.limit_conversations':
    'You have started {limit} conversations today. Please try again in about {hours} h.',
  'telegram.limit_messages':
    'You have sent {limit} messages in the last hour; this one was not sent. Please wait about {minutes} min.',
  'telegram.rate_prompt': 'How did we do? Rate this conversation ({ticket}):',
  'telegram.rated': 'Thank you for your rating!',
  'telegram.already_closed': 'This conversation is already closed.',
  'telegram.button_support': '💬 Live support',
  'telegram.button_end': '⛔ End',
};

/** A bot message to the user, sent after the transaction committed (best effort). */
interface Answer {
  text: string;
  keyboard?: InlineKeyboardMarkup;
}

interface Applied {
  rows: OutboxInput[];
  outcome: PrivateChatOutcome;
  answers: Answer[];
  /** Text for answerCallbackQuery (buttons). */
  toast?: string;
}

/** Who wrote, as this process knows them while it handles the update. */
interface Person {
  telegramUserId: number;
  /** The Redis-safe pseudonym (keyed hash): quota and budget keys. */
  pseudonym: string;
  language: string | null;
}

/**
 * The bot's private chat: commands (`/start`, `/support`, `/end`, `/help`), buttons (Live
 * support, End, rating), visitor messages with per-user limits, and the delivery of agents'
 * side of a conversation to the user's chat.
 */
export class PrivateChat {
  readonly #service: ConversationService;

  constructor(private readonly options: PrivateChatOptions) {
    this.#service = new ConversationService(new UnitOfWork(options.db, options.relay));
  }

  // ---- updates (called by UpdateProcessor, one at a time) ----------------------------------

  async handleMessage(
    updateId: number,
    message: Message,
    edited: boolean,
  ): Promise<PrivateChatOutcome> {
    if (!message.from || message.from.is_bot) return 'ignored:bot';
    // Edits of what the user wrote are not followed: the agents saw the first version.
    if (edited) return 'ignored:private_edit';
    const person = this.#person(message.chat.id, message.from.language_code);
    const text = message.text;
    const command = text !== undefined ? parsePrivateCommand(text) : undefined;
    return this.#once(updateId, person, undefined, async (trx) => {
      if (text === undefined) {
        // Stickers, voice, photos…: nothing is stored or relayed until attachments exist.
        return this.#answer(trx, person, 'telegram.text_only', {}, 'ignored:not_text');
      }
      // Only what needs the user (a conversation, a message) creates or touches their row.
      const user = () => this.#user(trx, person);
      if (!command)
        return this.#visitorMessage(trx, person, await user(), message.message_id, text);
      switch (command.name) {
        case 'start':
          if (command.args === 'support') return this.#support(trx, person, await user());
          return {
            rows: [],
            outcome: 'command',
            answers: [
              {
                text: await this.#text(trx, person.language, 'telegram.start'),
                keyboard: await this.#supportKeyboard(trx, person.language),
              },
            ],
          };
        case 'support':
          return this.#support(trx, person, await user());
        case 'end':
          return this.#end(trx, person, await user(), undefined);
        case 'help':
          return this.#answer(trx, person, 'telegram.help', {}, 'command');
        case 'unknown':
          return this.#answer(trx, person, 'telegram.help', {}, 'refused');
        default: {
          const never: never = command.name;
          throw new Error(`unhandled command ${String(never)}`);
        }
      }
    });
  }

  async handleButton(updateId: number, query: CallbackQuery): Promise<PrivateChatOutcome> {
    const button = parsePrivateCallbackData(query.data);
    const person = this.#person(query.from.id, query.from.language_code);
    if (!button) {
      await this.#toast(query.id, '');
      return 'ignored:callback';
    }
    let toast = '';
    let after: (() => Promise<void>) | undefined;
    // The toast goes first, right after the commit: the user's client spins until it comes.
    const answered = () => this.#toast(query.id, toast);
    const outcome = await this.#once(updateId, person, answered, async (trx) => {
      const user = await this.#user(trx, person);
      let applied: Applied;
      switch (button.action) {
        case 'support':
          applied = await this.#support(trx, person, user);
          break;
        case 'end':
          applied = await this.#end(trx, person, user, button.conversationId);
          break;
        case 'rate':
          applied = await this.#rate(trx, person, user, button.conversationId, button.rating);
          if (applied.outcome === 'command' && query.message && 'text' in query.message) {
            const { chat, message_id: messageId } = query.message;
            const prompt = query.message.text ?? '';
            after = () =>
              this.#call(chat.id, person.pseudonym, answerContext(), (api) =>
                api.editMessageText(chat.id, messageId, `${prompt}\n${'⭐'.repeat(button.rating)}`),
              ).then(() => undefined);
          }
          break;
        default: {
          const never: never = button;
          throw new Error(`unhandled button ${JSON.stringify(never)}`);
        }
      }
      toast = applied.toast ?? '';
      return applied;
    });
    if (outcome === 'duplicate') await this.#toast(query.id, '');
    if (after) await this.#bestEffort(after, 'rating prompt not updated');
    return outcome;
  }

  /**
   * Runs `apply` in one transaction with the update's dedupe mark; after the commit runs
   * `committed` (a button's toast), publishes the outbox rows and sends the answers.
   */
  async #once(
    updateId: number,
    person: Person,
    committed: (() => Promise<void>) | undefined,
    apply: (trx: Kysely<DB>) => Promise<Applied>,
  ): Promise<PrivateChatOutcome> {
    const { db, botId, relay } = this.options;
    const result = await db.transaction().execute(async (trx) => {
      if (!(await new TelegramUpdateRepository(trx).markProcessed(TENANT, botId, updateId)))
        return null;
      const applied = await apply(trx);
      return { ...applied, rows: await new OutboxRepository(trx).add(applied.rows) };
    });
    if (!result) return 'duplicate';
    if (committed) await committed();
    await relay.publish(result.rows);
    for (const answer of result.answers) await this.#sendDirect(person, answer);
    return result.outcome;
  }

  #person(telegramUserId: number, languageCode: string | undefined): Person {
    return {
      telegramUserId,
      pseudonym: this.options.keyring.pseudonym(TENANT, telegramUserId),
      language: normalizeLanguage(languageCode),
    };
  }

  /** The user's row: found by keyed hash (re-encrypted if under the previous key), or created. */
  async #user(trx: Kysely<DB>, person: Person): Promise<TelegramUser> {
    const { keyring } = this.options;
    const users = new TelegramUserRepository(trx);
    const at = new Date();
    const found = await users.findByLookup(
      TENANT,
      keyring.lookupHashes(TENANT, person.telegramUserId),
    );
    if (!found) {
      const id = randomUUID();
      return users.insert({
        id,
        tenantId: TENANT,
        languageCode: person.language,
        at,
        ...keyring.sealUserId(TENANT, id, person.telegramUserId),
      });
    }
    if (found.key_id !== keyring.current.id) {
      // Lazy re-encryption: a user who writes after a rotation moves to the current key.
      await users.rekey(
        found.id,
        found.key_id,
        keyring.sealUserId(TENANT, found.id, person.telegramUserId),
      );
    }
    await users.touch(found.id, person.language, at);
    return found;
  }

  /** A plain text: relayed to the agents, starting a conversation first if none is open. */
  async #visitorMessage(
    trx: Kysely<DB>,
    person: Person,
    user: TelegramUser,
    messageId: number,
    text: string,
  ): Promise<Applied> {
    const { limits, coordination } = this.options;
    const quota = await coordination.quotas.hit(
      `tg:msg:${person.pseudonym}`,
      limits.messagesPerHour,
      HOUR_MS,
    );
    if (!quota.allowed) {
      this.options.logger.info({ limit: 'messages_per_hour' }, 'private chat message refused');
      return this.#answer(
        trx,
        person,
        'telegram.limit_messages',
        {
          limit: limits.messagesPerHour,
          minutes: Math.max(1, Math.ceil(quota.retryAfterMs / 60_000)),
        },
        'refused',
      );
    }
    const rows: OutboxInput[] = [];
    let conversation = await new TelegramConversationRepository(trx).openOf(TENANT, user.id);
    if (!conversation) {
      // Like the widget: writing again after a conversation closed starts a new one.
      const started = await this.#startConversation(trx, person, user);
      if ('refused' in started) return started.refused;
      conversation = started.conversation;
      rows.push(...started.rows);
    }
    const posted = await this.#service.postVisitorMessageInTransaction(trx, {
      tenantId: TENANT,
      conversationId: conversation.id,
      // Unique per private chat and conversation; carries nothing of the user.
      clientId: `tg-${messageId}`,
      text,
    });
    return {
      rows: [...rows, ...posted.rows],
      outcome: posted.duplicate ? 'duplicate' : 'stored',
      answers: [],
    };
  }

  /** `/support` or the Live support button: the open conversation, or a new one. */
  async #support(trx: Kysely<DB>, person: Person, user: TelegramUser): Promise<Applied> {
    const open = await new TelegramConversationRepository(trx).openOf(TENANT, user.id);
    if (open) {
      const applied = await this.#answer(
        trx,
        person,
        'telegram.already_open',
        { ticket: open.ticket },
        'command',
      );
      const answer = applied.answers[0];
      if (answer) answer.keyboard = await this.#endKeyboard(trx, person.language, open.id);
      return applied;
    }
    const started = await this.#startConversation(trx, person, user);
    if ('refused' in started) return started.refused;
    return { rows: started.rows, outcome: 'command', answers: [] };
  }

  /**
   * Starts a `telegram` conversation within the per-user daily limit: the conversation (its
   * topic is created by the sync), the link to the user, and the welcome with the ticket as the
   * first message of its history, which the sync sends to the user with an End button.
   */
  async #startConversation(
    trx: Kysely<DB>,
    person: Person,
    user: TelegramUser,
  ): Promise<{ conversation: Conversation; rows: OutboxInput[] } | { refused: Applied }> {
    const { limits, coordination } = this.options;
    const quota = await coordination.quotas.hit(
      `tg:conv:${person.pseudonym}`,
      limits.conversationsPerDay,
      DAY_MS,
    );
    if (!quota.allowed) {
      this.options.logger.info(
        { limit: 'conversations_per_day' },
        'private chat conversation refused',
      );
      return {
        refused: await this.#answer(
          trx,
          person,
          'telegram.limit_conversations',
          {
            limit: limits.conversationsPerDay,
            hours: Math.max(1, Math.ceil(quota.retryAfterMs / HOUR_MS)),
          },
          'refused',
        ),
      };
    }
    const started = await this.#service.startInTransaction(trx, {
      tenantId: TENANT,
      channel: ConversationChannel.telegram,
      // Picks the templates of system messages; the topic header does not show it for this channel.
      locale: person.language ?? undefined,
    });
    const welcome = await appendMessage(trx, {
      tenantId: TENANT,
      conversationId: started.conversation.id,
      kind: MessageKind.system,
      text: await this.#text(trx, person.language, 'telegram.welcome', {
        ticket: started.conversation.ticket,
      }),
      delivery: DeliveryState.none,
    });
    await new TelegramConversationRepository(trx).link({
      tenantId: TENANT,
      conversationId: started.conversation.id,
      telegramUserId: user.id,
      endButtonSeq: welcome.message.seq,
      at: new Date(),
    });
    this.options.logger.info(
      { conversationId: started.conversation.id, ticket: started.conversation.ticket },
      'private chat conversation started',
    );
    return { conversation: welcome.conversation, rows: started.rows };
  }

  /** `/end` or the End button: the user closes their conversation. */
  async #end(
    trx: Kysely<DB>,
    person: Person,
    user: TelegramUser,
    conversationId: string | undefined,
  ): Promise<Applied> {
    const links = new TelegramConversationRepository(trx);
    let conversation: Conversation | undefined;
    if (conversationId === undefined) {
      conversation = await links.openOf(TENANT, user.id);
      if (!conversation)
        return this.#answer(trx, person, 'telegram.no_conversation', {}, 'refused');
    } else {
      const link = await links.find(conversationId);
      if (link?.link.telegram_user_id !== user.id) return this.#toastOnly('', 'refused');
      conversation = await new ConversationRepository(trx).find(TENANT, conversationId);
    }
    const rows = conversation
      ? await this.#service.closeInTransaction(trx, {
          tenantId: TENANT,
          conversationId: conversation.id,
          actor: { type: 'visitor', id: user.id },
          reason: 'visitor',
          templateKey: 'closed_note',
        })
      : null;
    if (!conversation || !rows) {
      const text = await this.#text(trx, person.language, 'telegram.already_closed');
      return conversationId === undefined
        ? { rows: [], outcome: 'refused', answers: [{ text }] }
        : this.#toastOnly(text, 'refused');
    }
    // The agents learn it in the topic before it closes (posts go out before the close).
    await new TelegramPostRepository(trx).add([
      {
        tenantId: TENANT,
        conversationId: conversation.id,
        text: '⛔ The visitor ended the conversation.',
      },
    ]);
    return { rows, outcome: 'command', answers: [] };
  }

  /** A rating button (1–5) under the prompt the sync sent after the conversation closed. */
  async #rate(
    trx: Kysely<DB>,
    person: Person,
    user: TelegramUser,
    conversationId: string,
    rating: number,
  ): Promise<Applied> {
    const links = new TelegramConversationRepository(trx);
    const link = await links.find(conversationId);
    if (link?.link.telegram_user_id !== user.id) return this.#toastOnly('', 'refused');
    // The buttons come after a close; a rating of an open (reopened) conversation waits.
    const conversation = await new ConversationRepository(trx).find(TENANT, conversationId);
    if (conversation?.status !== 'closed') return this.#toastOnly('', 'refused');
    const at = new Date();
    await links.rate(conversationId, rating, at);
    await new AuditRepository(trx).record({
      tenantId: TENANT,
      actorType: 'visitor',
      actorId: user.id,
      action: 'conversation.rate',
      conversationId,
      details: { rating },
    });
    return this.#toastOnly(await this.#text(trx, person.language, 'telegram.rated'), 'command');
  }

  #toastOnly(toast: string, outcome: PrivateChatOutcome): Applied {
    return { rows: [], outcome, answers: [], toast };
  }

  async #answer(
    trx: Kysely<DB>,
    person: Person,
    key: string,
    vars: Readonly<Record<string, string | number>>,
    outcome: PrivateChatOutcome,
  ): Promise<Applied> {
    return {
      rows: [],
      outcome,
      answers: [{ text: await this.#text(trx, person.language, key, vars) }],
    };
  }

  /** A template in the user's language (exact, two-letter, default), or the built-in text. */
  async #text(
    trx: Kysely<DB>,
    language: string | null,
    key: string,
    vars: Readonly<Record<string, string | number>> = {},
  ): Promise<string> {
    const template = await new TemplateRepository(trx).resolve(TENANT, key, language);
    return renderTemplate(template?.text ?? FALLBACK[key] ?? key, vars);
  }

  async #supportKeyboard(trx: Kysely<DB>, language: string | null): Promise<InlineKeyboardMarkup> {
    return {
      inline_keyboard: [
        [
          {
            text: await this.#text(trx, language, 'telegram.button_support'),
            callback_data: privateCallbackData({ action: 'support' }),
          },
        ],
      ],
    };
  }

  async #endKeyboard(
    trx: Kysely<DB>,
    language: string | null,
    conversationId: string,
  ): Promise<InlineKeyboardMarkup> {
    return {
      inline_keyboard: [
        [
          {
            text: await this.#text(trx, language, 'telegram.button_end'),
            callback_data: privateCallbackData({ action: 'end', conversationId }),
          },
        ],
      ],
    };
  }

  async #toast(queryId: string, text: string): Promise<void> {
    await this.options.sender
      .direct(undefined, (api) => api.answerCallbackQuery(queryId, text ? { text } : {}))
      .catch((error: unknown) =>
        this.options.logger.warn(
          { failure: describe(classifyPrivateFailure(error)) },
          'answerCallbackQuery failed',
        ),
      );
  }

  async #bestEffort(action: () => Promise<void>, what: string): Promise<void> {
    try {
      await action();
    } catch (error) {
      this.options.logger.warn({ failure: describe(classifyPrivateFailure(error)) }, what);
    }
  }

  // ---- sending -------------------------------------------------------------------------

  /**
   * One Bot API call to the user's chat through the sender (main bot, the user's budget keyed
   * by pseudonym so no Redis key names the user); a failure is returned, never thrown.
   */
  async #call<T>(
    chatId: number,
    pseudonym: string,
    context: SyncContext,
    call: (api: Api) => Promise<T>,
  ): Promise<T | { failed: PrivateFailure }> {
    const result = await this.options.sender.send({
      method: 'private',
      chatId,
      chatKey: `p-${pseudonym}`,
      priority: SendPriority.normal,
      since: Date.now(),
      bot: this.options.sender.pool.main.id,
      signal: context.signal,
      working: context.working,
      call,
    });
    if (result.ok) return result.value;
    if (result.error !== undefined) return { failed: classifyPrivateFailure(result.error) };
    return {
      failed:
        result.failure.kind === 'deferred' || result.failure.kind === 'no_bot'
          ? { kind: 'transient', description: result.failure.description }
          : result.failure,
    };
  }

  /** A direct answer (best effort, rate-limited per user so a flood gets few answers). */
  async #sendDirect(person: Person, answer: Answer): Promise<void> {
    const { coordination, logger } = this.options;
    try {
      const quota = await coordination.quotas.hit(
        `tg:answers:${person.pseudonym}`,
        ANSWERS_PER_MINUTE,
        60_000,
      );
      if (!quota.allowed) {
        logger.debug('private chat answer skipped: too many answers to this user');
        return;
      }
      const result = await this.#call(
        person.telegramUserId,
        person.pseudonym,
        answerContext(),
        (api) =>
          api.sendMessage(person.telegramUserId, answer.text, {
            link_preview_options: { is_disabled: true },
            ...(answer.keyboard ? { reply_markup: answer.keyboard } : {}),
          }),
      );
      if ('failed' in result)
        logger.warn({ failure: describe(result.failed) }, 'answer in a private chat not sent');
    } catch (error) {
      logger.warn(
        { failure: error instanceof Error ? error.name : 'unknown' },
        'answer in a private chat not sent',
      );
    }
  }

  // ---- delivery (a step of TopicSync.reconcile) ----------------------------------------

  /**
   * One Bot API call toward the user of a `telegram` conversation, if anything is due: a copy
   * to edit or retract, the next agent or system message, or the rating prompt once closed.
   * Returns false when the private chat is up to date. Throws (the sync retries) only on
   * transient failures; a user who blocked the bot is skipped.
   */
  async deliver(conversation: Conversation, context: SyncContext): Promise<boolean> {
    const links = new TelegramConversationRepository(this.options.db);
    const found = await links.find(conversation.id);
    if (!found) return false;
    const { link, user } = found;
    let chatId: number;
    try {
      chatId = this.options.keyring.openUserId(user);
    } catch (error) {
      if (!(error instanceof UserKeyError)) throw error;
      // The key that sealed this user is gone (a rotation finished too early): the user cannot
      // be reached, but the agents' side of the conversation must go on.
      this.options.logger.error(
        { conversationId: conversation.id, keyId: user.key_id, reason: error.message },
        'private chat user cannot be decrypted; nothing is sent to them',
      );
      return false;
    }
    const person: Person = {
      telegramUserId: chatId,
      pseudonym: this.options.keyring.pseudonym(TENANT, chatId),
      language: user.language_code,
    };

    const stale = await links.staleCopy(conversation.id);
    if (stale) {
      const { message, copy } = stale;
      const result = message.deleted_at
        ? await this.#call(chatId, person.pseudonym, context, (api) =>
            api.deleteMessage(chatId, copy.telegram_message_id),
          )
        : await this.#call(chatId, person.pseudonym, context, (api) =>
            api.editMessageText(
              chatId,
              copy.telegram_message_id,
              splitUtf16(signed(message), TELEGRAM_TEXT_LIMIT)[0] ?? '',
              { link_preview_options: { is_disabled: true } },
            ),
          );
      if (typeof result === 'object' && 'failed' in result) {
        if (!this.#skippable(result.failed, conversation, 'copy not updated')) return true;
      }
      await links.markCopySynced(message.id, message.edited_at, message.deleted_at !== null);
      return true;
    }

    const next = await links.nextUndelivered(conversation.id, link.delivered_seq);
    if (next) {
      if (next.deleted_at || next.text.length === 0) {
        await links.markDelivered(TENANT, conversation.id, next, null);
        return true;
      }
      const parts = splitUtf16(signed(next), TELEGRAM_TEXT_LIMIT);
      const keyboard =
        next.seq === link.end_button_seq && conversation.status === 'open'
          ? await this.#endKeyboard(this.options.db, person.language, conversation.id)
          : undefined;
      let first: number | null = null;
      for (const [index, part] of parts.entries()) {
        const last = index === parts.length - 1;
        const sent = await this.#call(chatId, person.pseudonym, context, (api) =>
          api.sendMessage(chatId, part, {
            link_preview_options: { is_disabled: true },
            ...(last && keyboard ? { reply_markup: keyboard } : {}),
          }),
        );
        if ('failed' in sent) {
          if (!this.#skippable(sent.failed, conversation, 'message not sent')) return true;
          break;
        }
        first ??= sent.message_id;
      }
      await this.options.db.transaction().execute(async (trx) => {
        await new TelegramConversationRepository(trx).markDelivered(
          TENANT,
          conversation.id,
          next,
          first,
        );
      });
      return true;
    }

    if (ratingPromptDue(conversation, link.rating_prompted_at)) {
      const text = await this.#text(this.options.db, person.language, 'telegram.rate_prompt', {
        ticket: conversation.ticket,
      });
      const sent = await this.#call(chatId, person.pseudonym, context, (api) =>
        api.sendMessage(chatId, text, {
          reply_markup: ratingKeyboard(conversation.id),
        }),
      );
      if ('failed' in sent && !this.#skippable(sent.failed, conversation, 'rating prompt not sent'))
        return true;
      await links.markRatingPrompted(conversation.id, new Date());
      return true;
    }
    return false;
  }

  /** Whether `deliver` has anything to do for this conversation (read only). */
  async due(conversation: Conversation): Promise<boolean> {
    const links = new TelegramConversationRepository(this.options.db);
    const found = await links.find(conversation.id);
    if (!found) return false;
    const { link } = found;
    if (await links.staleCopy(conversation.id)) return true;
    if (await links.nextUndelivered(conversation.id, link.delivered_seq)) return true;
    return ratingPromptDue(conversation, link.rating_prompted_at);
  }

  /**
   * Whether a failed call toward the user is final (skip it and go on: blocked bot, refused
   * text); false to try again in this round (rate limited). Throws on transient failures.
   */
  #skippable(failure: PrivateFailure, conversation: Conversation, what: string): boolean {
    switch (failure.kind) {
      case 'rate_limited':
        return false;
      case 'unreachable':
        this.options.logger.info(
          { conversationId: conversation.id, failure: describe(failure) },
          `private chat unreachable; ${what}`,
        );
        return true;
      case 'rejected':
      case 'topic_missing':
      case 'topic_closed':
      case 'topic_not_modified':
        this.options.logger.warn(
          { conversationId: conversation.id, failure: describe(failure) },
          `Telegram refused a private chat call; ${what}`,
        );
        return true;
      case 'transient':
        // A plain Error: the GrammyError would carry the chat id into the bus's logs.
        throw new Error(`private chat call failed: ${failure.description}`);
      default: {
        const never: never = failure;
        throw new Error(`unhandled failure ${JSON.stringify(never)}`);
      }
    }
  }

  /** Conversations whose private chat lags (for the bridge's sweep). */
  lagging(olderThan: Date, limit: number): Promise<Array<{ tenant_id: string; id: string }>> {
    return new TelegramConversationRepository(this.options.db).lagging(olderThan, limit);
  }

  /**
   * Re-encrypts every user sealed under another key than the current one (after a rotation,
   * with the old key in TELEGRAM_USER_KEY_PREVIOUS). Rows under an unknown key are counted and
   * left as they are.
   */
  async reencryptAll(batch = 200): Promise<{ rekeyed: number; unreadable: number }> {
    const { keyring, db } = this.options;
    const users = new TelegramUserRepository(db);
    let rekeyed = 0;
    let unreadable = 0;
    let after: string | null = null;
    for (;;) {
      const rows = await users.encryptedWithOtherKey(keyring.current.id, after, batch);
      if (rows.length === 0) break;
      for (const row of rows) {
        after = row.id;
        let telegramUserId: number;
        try {
          telegramUserId = keyring.openUserId(row);
        } catch (error) {
          if (!(error instanceof UserKeyError)) throw error;
          unreadable += 1;
          continue;
        }
        if (
          await users.rekey(row.id, row.key_id, keyring.sealUserId(TENANT, row.id, telegramUserId))
        )
          rekeyed += 1;
      }
    }
    return { rekeyed, unreadable };
  }
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
