import {
  appendMessage,
  ConversationChannel,
  ConversationRepository,
  DeliveryState,
  MessageKind,
  TelegramConversationRepository,
  TelegramPostRepository,
  TelegramUpdateRepository,
  type Conversation,
  type TelegramUser,
} from '@topicdesk/data';
import type { QuotaLimiter } from '@topicdesk/fanout';
import type { Logger } from '@topicdesk/telemetry';
import { ConversationService } from '../conversation.service';
import { Ratings } from '../ratings.service';
import type { UnitOfWork, Work } from '../unit-of-work';
import { privateChatText } from './texts';
import type { PrivateChatUsers, PrivateChatVisitor } from './users.service';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

export type PrivateChatOutcome =
  'stored' | 'command' | 'refused' | 'duplicate' | `ignored:${string}`;

/** The bot's buttons in a private chat: Live support, End (under the welcome), a rating. */
export type PrivateChatButton =
  | { action: 'support' }
  | { action: 'end'; conversationId: string }
  | { action: 'rate'; conversationId: string; rating: number };

/** What the user asked for, as the bridge parsed it from a message or a button press. */
export type PrivateChatRequest =
  /** Plain text: relayed to the agents, starting a conversation if none is open. */
  | { kind: 'text'; messageId: number; text: string }
  /** A sticker, voice note, location…: nothing is stored (photos and documents are files). */
  | { kind: 'not_text' }
  /**
   * A photo or document, received into the open conversation (`conversationId`, from
   * `fileTarget`) and checked: relayed to the agents with its caption.
   */
  | {
      kind: 'file';
      messageId: number;
      caption: string;
      conversationId: string;
      attachment: { id: string };
    }
  /** A photo or document refused (type, size, scan…): the user is told why, with its code. */
  | { kind: 'file_refused'; code: string; reason: string }
  /** `/start`: the greeting with a Live support button. */
  | { kind: 'greeting' }
  /** `/help`, or an unknown command (`known: false`). */
  | { kind: 'help'; known: boolean }
  /** `/support`, `/start support` or the Live support button. */
  | { kind: 'support' }
  /** `/end` (the open conversation) or the End button (`conversationId`). */
  | { kind: 'end'; conversationId?: string | undefined }
  | { kind: 'rate'; conversationId: string; rating: number };

/** A bot message to the user, sent by the bridge after the commit; `button` goes under it. */
export interface PrivateChatAnswer {
  text: string;
  button?: { label: string; press: PrivateChatButton };
}

export interface PrivateChatResult {
  outcome: PrivateChatOutcome;
  answers: PrivateChatAnswer[];
  /** The text of a pressed button's toast ('' for none). */
  toast: string;
}

export interface PrivateChatIntakeOptions {
  uow: UnitOfWork;
  users: PrivateChatUsers;
  /** Per-user limits, shared by every replica (keyed by the visitor's pseudonym). */
  quotas: QuotaLimiter;
  logger: Logger;
  limits: { conversationsPerDay: number; messagesPerHour: number };
  /**
   * Whether a text with no open conversation starts one (Topicdesk's own bot: yes). A bot
   * channel's user writes to the owner's bot: only `/support` or its button starts one, and a
   * text after the close belongs to the owner's bot again (`ignored:not_in_support`).
   */
  textStartsConversation?: boolean | undefined;
}

/** One update being applied: its change, and who sent it. */
interface Turn {
  work: Work;
  visitor: PrivateChatVisitor;
}

const VISITOR_ENDED = '⛔ The visitor ended the conversation.';

function result(outcome: PrivateChatOutcome, answers: PrivateChatAnswer[] = [], toast = '') {
  return { outcome, answers, toast };
}

/**
 * The second visitor channel's way in: a Telegram user starts, writes, ends and rates a
 * conversation in the bot's private chat. Each update is applied in one unit of work with its
 * update_id, so a redelivered update changes nothing; the answers are returned for the bridge
 * to send after the commit.
 */
export class PrivateChatIntake {
  readonly #conversations: ConversationService;
  readonly #ratings: Ratings;

  constructor(private readonly options: PrivateChatIntakeOptions) {
    this.#conversations = new ConversationService(options.uow);
    this.#ratings = new Ratings(options.uow);
  }

  async apply(
    update: { botId: string; updateId: number },
    visitor: PrivateChatVisitor,
    request: PrivateChatRequest,
  ): Promise<PrivateChatResult> {
    return this.options.uow.run(async (work) => {
      const updates = new TelegramUpdateRepository(work.trx);
      if (!(await updates.markProcessed(visitor.tenantId, update.botId, update.updateId)))
        return result('duplicate');
      return this.#apply({ work, visitor }, request);
    });
  }

  /**
   * Where a file the user sends goes, before it is downloaded (a file needs its conversation):
   * the open conversation, or a new one within the daily limit. `done` when there is nothing to
   * download: the update was applied already, or no conversation may start (then the update is
   * marked applied with the refusal, answered like a text's).
   */
  fileTarget(
    update: { botId: string; updateId: number },
    visitor: PrivateChatVisitor,
  ): Promise<{ conversation: Conversation } | { done: PrivateChatResult }> {
    return this.options.uow.run(async (work) => {
      const updates = new TelegramUpdateRepository(work.trx);
      if (await updates.isProcessed(visitor.tenantId, update.botId, update.updateId))
        return { done: result('duplicate') };
      const turn = { work, visitor };
      const user = await this.options.users.identify(work, visitor);
      const open = await new TelegramConversationRepository(work.trx).openOf(
        visitor.tenantId,
        user.id,
      );
      if (open) return { conversation: open };
      const started = await this.#startConversation(turn, user);
      if (!('refused' in started)) return started;
      await updates.markProcessed(visitor.tenantId, update.botId, update.updateId);
      return { done: started.refused };
    });
  }

  async #apply(turn: Turn, request: PrivateChatRequest): Promise<PrivateChatResult> {
    // Only what needs the user (a conversation, a message, a rating) creates or touches their row.
    const user = () => this.options.users.identify(turn.work, turn.visitor);
    switch (request.kind) {
      case 'not_text':
        return this.#answer(turn, 'telegram.text_only', {}, 'ignored:not_text');
      case 'file':
        return this.#visitorMessage(turn, await user(), request.messageId, request.caption, {
          conversationId: request.conversationId,
          attachment: request.attachment,
        });
      case 'file_refused':
        return this.#answer(
          turn,
          'telegram.file_refused',
          { reason: request.reason, code: request.code },
          'refused',
        );
      case 'greeting':
        return result('command', [
          {
            text: await this.#text(turn, 'telegram.start'),
            button: {
              label: await this.#text(turn, 'telegram.button_support'),
              press: { action: 'support' },
            },
          },
        ]);
      case 'help':
        return this.#answer(turn, 'telegram.help', {}, request.known ? 'command' : 'refused');
      case 'text':
        return this.#visitorMessage(turn, await user(), request.messageId, request.text);
      case 'support':
        return this.#support(turn, await user());
      case 'end':
        return this.#end(turn, await user(), request.conversationId);
      case 'rate':
        return this.#rate(turn, await user(), request.conversationId, request.rating);
      default: {
        const never: never = request;
        throw new Error(`unhandled private chat request ${JSON.stringify(never)}`);
      }
    }
  }

  /** A plain text: relayed to the agents, starting a conversation first if none is open. */
  async #visitorMessage(
    turn: Turn,
    user: TelegramUser,
    messageId: number,
    text: string,
    file?: { conversationId: string; attachment: { id: string } },
  ): Promise<PrivateChatResult> {
    const { limits, quotas, logger } = this.options;
    let conversation = await new TelegramConversationRepository(turn.work.trx).openOf(
      turn.visitor.tenantId,
      user.id,
    );
    // A bot channel's text outside support is the owner's bot's: it costs the user nothing here.
    if (!conversation && this.options.textStartsConversation === false)
      return result('ignored:not_in_support');
    const quota = await quotas.hit(
      `tg:msg:${turn.visitor.pseudonym}`,
      limits.messagesPerHour,
      HOUR_MS,
    );
    if (!quota.allowed) {
      logger.info({ limit: 'messages_per_hour' }, 'private chat message refused');
      const minutes = Math.max(1, Math.ceil(quota.retryAfterMs / 60_000));
      return this.#answer(
        turn,
        'telegram.limit_messages',
        { limit: limits.messagesPerHour, minutes },
        'refused',
      );
    }
    // A file belongs to the conversation it was received into: closed meanwhile, it is not sent.
    if (file && conversation?.id !== file.conversationId)
      return this.#answer(
        turn,
        'telegram.file_refused',
        { reason: 'the conversation ended meanwhile', code: 'CONVERSATION_CLOSED' },
        'refused',
      );
    if (!conversation) {
      // Like the widget: writing again after a conversation closed starts a new one.
      const started = await this.#startConversation(turn, user);
      if ('refused' in started) return started.refused;
      conversation = started.conversation;
    }
    const posted = await this.#conversations.postVisitorMessageIn(turn.work, {
      tenantId: turn.visitor.tenantId,
      conversationId: conversation.id,
      // Unique per private chat and conversation; carries nothing of the user.
      clientId: `tg-${messageId}`,
      text,
      ...(file ? { received: [file.attachment] } : {}),
    });
    return result(posted.duplicate ? 'duplicate' : 'stored');
  }

  /** `/support` or the Live support button: the open conversation, or a new one. */
  async #support(turn: Turn, user: TelegramUser): Promise<PrivateChatResult> {
    const links = new TelegramConversationRepository(turn.work.trx);
    const open = await links.openOf(turn.visitor.tenantId, user.id);
    if (open) {
      return result('command', [
        {
          text: await this.#text(turn, 'telegram.already_open', { ticket: open.ticket }),
          button: {
            label: await this.#text(turn, 'telegram.button_end'),
            press: { action: 'end', conversationId: open.id },
          },
        },
      ]);
    }
    const started = await this.#startConversation(turn, user);
    return 'refused' in started ? started.refused : result('command');
  }

  /**
   * Starts a `telegram` conversation within the per-user daily limit: the conversation (its
   * topic is created by the sync), the link to the user, and the welcome with the ticket as the
   * first message of its history, which the sync sends to the user with an End button.
   */
  async #startConversation(
    turn: Turn,
    user: TelegramUser,
  ): Promise<{ conversation: Conversation } | { refused: PrivateChatResult }> {
    const { limits, quotas, logger } = this.options;
    const { work, visitor } = turn;
    const quota = await quotas.hit(
      `tg:conv:${visitor.pseudonym}`,
      limits.conversationsPerDay,
      DAY_MS,
    );
    if (!quota.allowed) {
      logger.info({ limit: 'conversations_per_day' }, 'private chat conversation refused');
      const hours = Math.max(1, Math.ceil(quota.retryAfterMs / HOUR_MS));
      return {
        refused: await this.#answer(
          turn,
          'telegram.limit_conversations',
          { limit: limits.conversationsPerDay, hours },
          'refused',
        ),
      };
    }
    const started = await this.#conversations.startIn(work, {
      tenantId: visitor.tenantId,
      channel: ConversationChannel.telegram,
      // Picks the templates of system messages; the topic header does not show it for this channel.
      locale: visitor.language ?? undefined,
      segment: visitor.segment,
    });
    const welcome = await appendMessage(work.trx, {
      tenantId: visitor.tenantId,
      conversationId: started.id,
      kind: MessageKind.system,
      text: await this.#text(turn, 'telegram.welcome', { ticket: started.ticket }),
      delivery: DeliveryState.none,
    });
    await new TelegramConversationRepository(work.trx).link({
      tenantId: visitor.tenantId,
      conversationId: started.id,
      telegramUserId: user.id,
      endButtonSeq: welcome.message.seq,
      at: new Date(),
    });
    logger.info(
      { conversationId: started.id, ticket: started.ticket },
      'private chat conversation started',
    );
    return { conversation: welcome.conversation };
  }

  /** `/end` or the End button: the user closes their conversation. */
  async #end(
    turn: Turn,
    user: TelegramUser,
    conversationId: string | undefined,
  ): Promise<PrivateChatResult> {
    const { work, visitor } = turn;
    let conversation: Conversation | undefined;
    if (conversationId === undefined) {
      conversation = await new TelegramConversationRepository(work.trx).openOf(
        visitor.tenantId,
        user.id,
      );
      if (!conversation) return this.#answer(turn, 'telegram.no_conversation', {}, 'refused');
    } else {
      const own = await this.#ownConversation(turn, user, conversationId);
      if (own === null) return result('refused');
      conversation = own;
    }
    const closed =
      conversation !== undefined &&
      (await this.#conversations.close(work, {
        tenantId: visitor.tenantId,
        conversationId: conversation.id,
        actor: { type: 'visitor', id: user.id },
        reason: 'visitor',
        templateKey: 'closed_note',
      }));
    if (!conversation || !closed) {
      const text = await this.#text(turn, 'telegram.already_closed');
      // A button answers with a toast; /end with a message.
      return conversationId === undefined
        ? result('refused', [{ text }])
        : result('refused', [], text);
    }
    // The agents learn it in the topic before it closes (posts go out before the close).
    await new TelegramPostRepository(work.trx).add([
      { tenantId: visitor.tenantId, conversationId: conversation.id, text: VISITOR_ENDED },
    ]);
    return result('command');
  }

  /** A rating button (1–5) under the prompt the sync sent after the conversation closed. */
  async #rate(
    turn: Turn,
    user: TelegramUser,
    conversationId: string,
    rating: number,
  ): Promise<PrivateChatResult> {
    const { work, visitor } = turn;
    const conversation = await this.#ownConversation(turn, user, conversationId);
    if (!conversation) return result('refused');
    const rated = await this.#ratings.rateIn(work, {
      tenantId: visitor.tenantId,
      conversationId,
      score: rating,
      actorId: user.id,
    });
    switch (rated.kind) {
      case 'rated':
        return result('command', [], await this.#text(turn, 'telegram.rated'));
      case 'already_rated':
        return result('refused', [], await this.#text(turn, 'telegram.already_rated'));
      // The buttons come after a close; a rating of an open (reopened) conversation waits.
      case 'open':
      case 'not_found':
        return result('refused');
      default: {
        const never: never = rated;
        return never;
      }
    }
  }

  /**
   * The conversation a button names, if it is this user's: null when it is someone else's
   * (a forged button), undefined when it is gone.
   */
  async #ownConversation(
    turn: Turn,
    user: TelegramUser,
    conversationId: string,
  ): Promise<Conversation | null | undefined> {
    const link = await new TelegramConversationRepository(turn.work.trx).find(
      turn.visitor.tenantId,
      conversationId,
    );
    if (link?.link.telegram_user_id !== user.id) return null;
    return new ConversationRepository(turn.work.trx).find(turn.visitor.tenantId, conversationId);
  }

  async #answer(
    turn: Turn,
    key: string,
    vars: Readonly<Record<string, string | number>>,
    outcome: PrivateChatOutcome,
  ): Promise<PrivateChatResult> {
    return result(outcome, [{ text: await this.#text(turn, key, vars) }]);
  }

  #text(turn: Turn, key: string, vars: Readonly<Record<string, string | number>> = {}) {
    return privateChatText(turn.work.trx, turn.visitor.tenantId, turn.visitor.language, key, vars);
  }
}
