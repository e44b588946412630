import { SyncReason } from '@topicdesk/contracts';
import {
  AuditRepository,
  ConversationRepository,
  RatingRepository,
  TelegramPostRepository,
  type Conversation,
  type ConversationRating,
} from '@topicdesk/data';
import { busOutbox } from './outbox-relay';
import type { UnitOfWork, Work } from './unit-of-work';

export interface RateInput {
  tenantId: string;
  conversationId: string;
  /** 1–5. */
  score: number;
  /** The visitor's words, already checked by the caller (the protocol's rules); may be absent. */
  comment?: string | null | undefined;
  /** Who rated, for the audit log: a private-chat user's row id; none for the widget's visitor. */
  actorId?: string | undefined;
}

/** What became of a rating: stored, or refused with the reason. */
export type RateOutcome =
  | { kind: 'rated'; rating: ConversationRating }
  | { kind: 'already_rated'; rating: ConversationRating }
  | { kind: 'open' }
  | { kind: 'not_found' };

const STARS = 5;

/** The bot's post in the topic: the score as stars and digits, the comment as plain text. */
export function ratingPost(score: number, comment: string | null): string {
  const stars = '★'.repeat(score) + '☆'.repeat(STARS - score);
  const head = `${stars} The visitor rated this conversation ${score}/${STARS}.`;
  return comment ? `${head}\nComment: ${comment}` : head;
}

/**
 * CSAT: a visitor rates their closed conversation once, 1–5 with an optional comment, from the
 * widget (REST) or the private chat (buttons). Both are stored the same way
 * (`conversation_ratings`), audited, and posted to the topic by the bot (a `telegram_posts` row
 * and a sync, as every bot post; the bridge reopens a closed topic for it and closes it again).
 */
export class Ratings {
  constructor(private readonly uow: UnitOfWork) {}

  rate(input: RateInput): Promise<RateOutcome> {
    return this.uow.run((work) => this.rateIn(work, input));
  }

  /** The rating within the caller's change (the private chat's update). */
  async rateIn(work: Work, input: RateInput): Promise<RateOutcome> {
    const { tenantId, conversationId } = input;
    const conversations = new ConversationRepository(work.trx);
    const conversation = await conversations.find(tenantId, conversationId);
    if (!conversation) return { kind: 'not_found' };
    // Locked, so that a reopen cannot slip between the status check and the insert.
    const locked = await conversations.lock(tenantId, conversationId);
    if (locked.status !== 'closed') return { kind: 'open' };
    const ratings = new RatingRepository(work.trx);
    const rating = await ratings.add({
      tenantId,
      conversationId,
      score: input.score,
      comment: input.comment ?? null,
      channel: conversation.channel,
      at: new Date(),
    });
    if (!rating) {
      const existing = await ratings.find(tenantId, conversationId);
      return existing ? { kind: 'already_rated', rating: existing } : { kind: 'not_found' };
    }
    await new AuditRepository(work.trx).record({
      tenantId,
      actorType: 'visitor',
      actorId: input.actorId,
      action: 'conversation.rate',
      conversationId,
      details: { rating: rating.score, ...(rating.comment === null ? {} : { commented: true }) },
    });
    await this.#post(work, conversation, rating);
    return { kind: 'rated', rating };
  }

  /** The conversation's rating, if it was rated. */
  find(tenantId: string, conversationId: string): Promise<ConversationRating | undefined> {
    return new RatingRepository(this.uow.db).find(tenantId, conversationId);
  }

  async #post(work: Work, conversation: Conversation, rating: ConversationRating): Promise<void> {
    const { tenant_id: tenantId, id: conversationId } = conversation;
    await new TelegramPostRepository(work.trx).add([
      { tenantId, conversationId, text: ratingPost(rating.score, rating.comment) },
    ]);
    work.emit(
      busOutbox(tenantId, 'conversationSync', {
        tenantId,
        conversationId,
        reason: SyncReason.STATUS_CHANGED,
      }),
    );
  }
}
