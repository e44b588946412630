import { sql, type Kysely } from 'kysely';
import { AttachmentState, type Attachment, type DB } from '../schema';

export interface NewAttachmentInput {
  id: string;
  tenantId: string;
  conversationId: string;
  name: string;
  declaredType: string;
  declaredSize: number;
}

export interface CheckedFile {
  type: string;
  size: number;
  width?: number | undefined;
  height?: number | undefined;
}

/** Files visitors attach: made pending with an upload link, checked, then carried by a message. */
export class AttachmentRepository {
  constructor(private readonly db: Kysely<DB>) {}

  create(input: NewAttachmentInput): Promise<Attachment> {
    return this.db
      .insertInto('attachments')
      .values({
        id: input.id,
        tenant_id: input.tenantId,
        conversation_id: input.conversationId,
        name: input.name,
        declared_type: input.declaredType,
        declared_size: input.declaredSize,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  /** Every file of a conversation, whatever its state (what its bytes are stored under). */
  ofConversation(
    tenantId: string,
    conversationId: string,
  ): Promise<Array<Pick<Attachment, 'id' | 'conversation_id'>>> {
    return this.db
      .selectFrom('attachments')
      .select(['id', 'conversation_id'])
      .where('tenant_id', '=', tenantId)
      .where('conversation_id', '=', conversationId)
      .execute();
  }

  /**
   * Bytes the conversation's files take or may take: checked files by their real size, pending
   * ones by what was declared (a refused file takes none).
   */
  async conversationBytes(tenantId: string, conversationId: string): Promise<number> {
    const row = await this.db
      .selectFrom('attachments')
      .select(sql<string>`coalesce(sum(coalesce(size, declared_size)), 0)`.as('bytes'))
      .where('tenant_id', '=', tenantId)
      .where('conversation_id', '=', conversationId)
      .where('state', '!=', AttachmentState.refused)
      .executeTakeFirstOrThrow();
    return Number(row.bytes);
  }

  /** Those of `ids` that belong to the conversation (others are simply not there). */
  find(tenantId: string, conversationId: string, ids: readonly string[]): Promise<Attachment[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.db
      .selectFrom('attachments')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('conversation_id', '=', conversationId)
      .where('id', 'in', ids)
      .execute();
  }

  async markReady(
    tenantId: string,
    id: string,
    file: CheckedFile,
  ): Promise<Attachment | undefined> {
    return this.db
      .updateTable('attachments')
      .set({
        state: AttachmentState.ready,
        type: file.type,
        size: file.size,
        width: file.width ?? null,
        height: file.height ?? null,
        checked_at: new Date(),
      })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .where('state', '=', AttachmentState.pending)
      .returningAll()
      .executeTakeFirst();
  }

  async markRefused(tenantId: string, id: string, code: string): Promise<void> {
    await this.db
      .updateTable('attachments')
      .set({ state: AttachmentState.refused, refused_code: code, checked_at: new Date() })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .where('state', '=', AttachmentState.pending)
      .execute();
  }

  /**
   * Hands checked, unattached files to a message, in the order given. Answers how many it
   * took: fewer than asked means one was not ready or is carried by another message already.
   */
  async attach(tenantId: string, ids: readonly string[], messageId: number): Promise<number> {
    // The message must be the tenant's: a file is never handed to another tenant's message.
    const message = await this.db
      .selectFrom('messages')
      .select('id')
      .where('tenant_id', '=', tenantId)
      .where('id', '=', messageId)
      .executeTakeFirst();
    if (!message) return 0;
    let taken = 0;
    for (const [position, id] of ids.entries()) {
      const result = await this.db
        .updateTable('attachments')
        .set({ message_id: messageId, position })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .where('state', '=', AttachmentState.ready)
        .where('message_id', 'is', null)
        .executeTakeFirst();
      taken += Number(result.numUpdatedRows);
    }
    await this.db
      .updateTable('messages')
      .set({ attachment_count: taken })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', messageId)
      .execute();
    return taken;
  }

  /**
   * Deletes up to `limit` attachments no message took, made before `before` (uploads never
   * sent, files refused), and answers them: the caller deletes their bytes. One statement, so
   * a message attaching one at the same moment either gets it first or finds it gone.
   */
  deleteUnattached(before: Date, limit: number): Promise<Attachment[]> {
    return this.db
      .deleteFrom('attachments')
      .where(
        'id',
        'in',
        this.db
          .selectFrom('attachments')
          .select('id')
          .where('message_id', 'is', null)
          .where('created_at', '<', before)
          .orderBy('created_at')
          .limit(limit),
      )
      .where('message_id', 'is', null)
      .returningAll()
      .execute();
  }

  /** A message's checked files, in order. */
  ofMessage(tenantId: string, messageId: number): Promise<Attachment[]> {
    return this.forMessages(tenantId, [messageId]);
  }

  /** The checked files of these messages, each message's in order. */
  forMessages(tenantId: string, messageIds: readonly number[]): Promise<Attachment[]> {
    if (messageIds.length === 0) return Promise.resolve([]);
    return this.db
      .selectFrom('attachments')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('message_id', 'in', messageIds)
      .where('state', '=', AttachmentState.ready)
      .orderBy('message_id')
      .orderBy('position')
      .execute();
  }
}
