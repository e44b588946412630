import type { Kysely } from 'kysely';
import type { DB, Note } from '../schema';

export interface NoteInput {
  tenantId: string;
  conversationId: string;
  agentId: number | null;
  authorName: string;
  text: string;
  telegramMessageId: number | null;
}

/** Internal notes of agents on a conversation; never part of the visitor's history. */
export class NoteRepository {
  constructor(private readonly db: Kysely<DB>) {}

  add(input: NoteInput): Promise<Note> {
    return this.db
      .insertInto('notes')
      .values({
        tenant_id: input.tenantId,
        conversation_id: input.conversationId,
        agent_id: input.agentId,
        author_name: input.authorName,
        text: input.text,
        telegram_message_id: input.telegramMessageId,
        created_at: new Date(),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  list(tenantId: string, conversationId: string): Promise<Note[]> {
    return this.db
      .selectFrom('notes')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('conversation_id', '=', conversationId)
      .orderBy('id')
      .execute();
  }
}
