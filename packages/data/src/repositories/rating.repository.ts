import type { Kysely } from 'kysely';
import type { ConversationChannel, ConversationRating, DB } from '../schema';

export interface RatingInput {
  tenantId: string;
  conversationId: string;
  score: number;
  comment?: string | null | undefined;
  channel: ConversationChannel;
  at: Date;
}

/** Visitors' ratings of their conversations (CSAT): one per conversation, whichever channel. */
export class RatingRepository {
  constructor(private readonly db: Kysely<DB>) {}

  /** Stores the conversation's rating; undefined (nothing changes) when it was rated already. */
  add(input: RatingInput): Promise<ConversationRating | undefined> {
    return this.db
      .insertInto('conversation_ratings')
      .values({
        conversation_id: input.conversationId,
        tenant_id: input.tenantId,
        score: input.score,
        comment: input.comment ?? null,
        channel: input.channel,
        created_at: input.at,
      })
      .onConflict((oc) => oc.column('conversation_id').doNothing())
      .returningAll()
      .executeTakeFirst();
  }

  find(tenantId: string, conversationId: string): Promise<ConversationRating | undefined> {
    return this.db
      .selectFrom('conversation_ratings')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('conversation_id', '=', conversationId)
      .executeTakeFirst();
  }
}
